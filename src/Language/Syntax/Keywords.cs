using System.Collections.Immutable;

namespace MemScript.Language.Syntax;

/// <summary>Where a word begins an item: at the top level, in a <c>run</c> block, or in a <c>process</c> block.</summary>
[Flags]
public enum KeywordPlace { TopLevel = 1, RunBlock = 2, ProcessBlock = 4 }

/// <summary>A word that begins a declaration or a statement: where, the form it begins, and what it does.</summary>
public sealed record KeywordInfo(string Word, KeywordPlace Places, string Form, string Meaning);

/// <summary>
/// The language's one table of leading words. The parser builds its dispatch tables from it (and fails
/// at start-up if a word has no parser), the grammar rule for optional expressions reads it, syntax
/// errors suggest from it, and docs/language.md prints it (a test keeps the copy current).
/// </summary>
public static class Keywords
{
    private const KeywordPlace Top = KeywordPlace.TopLevel;
    private const KeywordPlace Run = KeywordPlace.RunBlock;
    private const KeywordPlace Process = KeywordPlace.ProcessBlock;

    public static readonly ImmutableArray<KeywordInfo> Leading =
    [
        new("profile", Top, "profile classic|modern", "the defaults of the machine and of KVM (SEMANTICS.md 13)"),
        new("mmu", Top, "mmu native|software|shadow|ept", "the MMU mode"),
        new("guest", Top, "guest paging 4-level|5-level", "the guest's page-table depth"),
        new("host", Top, "host paging 4-level|5-level", "the depth of the host's tables and of EPT"),
        new("tlb", Top, "tlb ENTRIES [ways WAYS]", "the unified TLB"),
        new("tlb1g", Top, "tlb1g ENTRIES [ways WAYS] | tlb1g off", "a separate TLB for 1 GiB pages"),
        new("pwc", Top, "pwc on [ENTRIES] | pwc off", "paging-structure caches"),
        new("vpid", Top, "vpid on|off", "TLB tagging by VM"),
        new("pcid", Top, "pcid on|off", "TLB tagging by process"),
        new("shadow", Top, "shadow unsync on|off | shadow prefetch N | shadow flood N", "KVM's shadow-paging refinements"),
        new("eptad", Top, "eptad on|off", "EPT accessed and dirty flags"),
        new("dirty-track", Top, "dirty-track pml|wp|free", "how writes to dirty-log slots are logged"),
        new("cost", Top, "cost NAME VALUE", "one cost of the cost model"),
        new("clock", Top, "clock FREQ", "the core clock"),
        new("slot", Top, "slot ID gpa ADDR size SIZE hva ADDR [backing PAGE] [readonly] [dirty-log] [prealloc]", "one memslot"),
        new("process", Top, "process NAME { MAPPING... }", "a guest process"),
        new("let", Top | Run, "let NAME = EXPR", "a constant (a parameter at the top level)"),
        new("run", Top, "run NAME { STATEMENT... }", "a timeline block"),
        new("read", Run, "read EXPR [as kernel]", "one read"),
        new("write", Run, "write EXPR [as kernel]", "one write"),
        new("exec", Run, "exec EXPR [as kernel]", "one instruction fetch"),
        new("sweep", Run, "sweep read|write|exec FROM size SIZE stride STRIDE [times N] [as kernel]", "a sequential pass"),
        new("random", Run, "random read|write|exec COUNT in FROM size SIZE [align A] [seed S] [as kernel]", "random accesses"),
        new("repeat", Run, "repeat COUNT [as VAR] { ... }", "a loop"),
        new("switch", Run, "switch NAME", "a context switch"),
        new("invlpg", Run, "invlpg EXPR", "drop one page's TLB entries"),
        new("flush", Run, "flush tlb", "reload CR3"),
        new("map", Run | Process, "map GVA [size SIZE] [page PAGE] to GPA PERMS", "present mappings"),
        new("demand", Run | Process, "demand GVA size SIZE [page PAGE] PERMS | demand all PERMS", "a demand-paged region"),
        new("unmap", Run | Process, "unmap GVA [size SIZE]", "munmap (run blocks only)"),
        new("protect", Run | Process, "protect GVA [size SIZE] PERMS", "mprotect (run blocks only)"),
        new("replay", Run, "replay \"FILE\" [format lackey]", "replay a recorded trace"),
        new("mark", Run, "mark \"LABEL\"", "record the counters here"),
        new("expect", Run, "expect COUNTER OP EXPR [since \"LABEL\"] [in MODE...]", "an assertion"),
        new("collect", Run, "collect dirty", "read and clear the dirty log"),
    ];

    /// <summary>Words that only appear inside a form (clauses, flags, values), for suggestions.</summary>
    public static readonly ImmutableArray<string> Inner =
    [
        "classic", "modern", "paging", "4-level", "5-level", "ways", "on", "off", "unsync", "prefetch", "flood", "pml", "wp", "free",
        "gpa", "size", "hva", "backing", "readonly", "dirty-log", "prealloc", "page", "to", "all", "r", "rw", "rx", "rwx", "kernel",
        "as", "stride", "times", "in", "align", "seed", "tlb", "format", "lackey", "since", "dirty",
    ];

    /// <summary>Whether <paramref name="word"/> begins a declaration or statement at <paramref name="place"/>.</summary>
    public static bool Begins(string word, KeywordPlace place) => Leading.Any(k => k.Word == word && (k.Places & place) != 0);

    /// <summary>The words that begin an item at <paramref name="place"/>, in table order.</summary>
    public static IEnumerable<string> Beginning(KeywordPlace place) => Leading.Where(k => (k.Places & place) != 0).Select(k => k.Word);

    /// <summary>The table as docs/language.md prints it (Markdown, one row per word).</summary>
    public static string MarkdownTable()
    {
        static string Where(KeywordPlace p) => string.Join(", ", new[]
        {
            (p & Top) != 0 ? "top level" : null, (p & Run) != 0 ? "run block" : null, (p & Process) != 0 ? "process block" : null,
        }.Where(x => x is not null));
        var sb = new System.Text.StringBuilder("| word | where | form | what |\n|---|---|---|---|\n");
        foreach (var k in Leading) sb.Append($"| `{k.Word}` | {Where(k.Places)} | `{k.Form.Replace("|", "\\|", StringComparison.Ordinal)}` | {k.Meaning} |\n");
        return sb.ToString();
    }
}
