using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MemScript.Language.Diagnostics;
using MemScript.Language.Parsing;
using MemScript.Language.Syntax;

namespace MemScript.Language.Checking;

/// <summary>The result of checking: the bound script when there is no error, and every diagnostic found.</summary>
public sealed record CheckResult(CheckedScript? Script, ImmutableArray<Diagnostic> Diagnostics)
{
    public bool Success => Script is not null;

    /// <summary>Problems in the command line's options (<c>--set</c>): usage errors, printed against the option rather than the file.</summary>
    public ImmutableArray<OptionDiagnostic> OptionDiagnostics { get; init; } = [];
}

/// <summary>
/// Semantic checks that run after parsing and before the timeline. All problems are reported together;
/// expressions made only of literals and <c>let</c> constants are evaluated here, so their overflow or
/// division by zero is a diagnostic before anything runs.
/// </summary>
public sealed partial class Checker
{
    private const ulong MaxSlotPages = (1UL << 31) - 1;
    private const ulong MaxSlotId = 32763;
    private const ulong PhysicalLimit = 1UL << 52;
    private const ulong HostUserLimit = 1UL << 47;

    private readonly ImmutableArray<Diagnostic>.Builder _diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
    private readonly Scope _globals = new(null);
    private readonly List<(ulong Start, ulong End)> _mapTargets = new();
    private HashSet<string> _processNames = new(StringComparer.Ordinal);
    // Every mark's label as a pattern (an interpolation that is not constant matches any decimal), and
    // every constant 'since' label, checked against them once all bodies are read.
    private readonly List<(Regex Pattern, string Template)> _markPatterns = new();
    private readonly List<(string Text, TextSpan Span)> _sinceLabels = new();
    private bool _inLabel;
    private int _guestLevels = 4;

    private readonly CheckOptions _options;

    private Checker(CheckOptions options) => _options = options;

    /// <summary>Parses and checks a file's text, with no command-line options.</summary>
    public static CheckResult CheckText(string text) => CheckText(text, CheckOptions.None);

    /// <summary>Parses and checks a file's text under the command line's profile and parameters.</summary>
    public static CheckResult CheckText(string text, CheckOptions options)
    {
        var parsed = ScriptParser.Parse(text);
        if (!parsed.Success) return new CheckResult(null, parsed.Diagnostics);
        var checkedResult = Check(parsed.Script!, options);
        return checkedResult with { Diagnostics = parsed.Diagnostics.AddRange(checkedResult.Diagnostics) };
    }

    public static CheckResult Check(Script script) => Check(script, CheckOptions.None);

    /// <summary>
    /// Checks a parsed file under the command line's options. Each <c>--set NAME=EXPR</c> replaces the
    /// expression of the top-level <c>let NAME</c> before anything is evaluated, so the checked script's
    /// tree carries the replacement and the interpreter runs it.
    /// </summary>
    public static CheckResult Check(Script script, CheckOptions options)
    {
        var checker = new Checker(options);
        var (replaced, problems) = checker.ApplyParameters(script);
        if (!problems.IsEmpty) return new CheckResult(null, []) { OptionDiagnostics = problems };
        var result = checker.Run(replaced);
        // An error evaluating a --set expression is the option's, reported against it; it still fails the check.
        return checker._optionDiagnostics.Count == 0 ? result : result with { Script = null, OptionDiagnostics = [.. checker._optionDiagnostics] };
    }

    // ------------------------------------------------------------ parameters (--set)

    private const string SetOption = "--set";

    // The lets whose expression came from a --set, with that option's argument and where its EXPR starts.
    private readonly Dictionary<LetStmt, (string Argument, int ExprStart)> _overridden = new(ReferenceEqualityComparer.Instance);
    private readonly List<OptionDiagnostic> _optionDiagnostics = new();

    private (Script Script, ImmutableArray<OptionDiagnostic> Problems) ApplyParameters(Script script)
    {
        if (_options.Parameters.IsEmpty) return (script, []);
        var lets = script.Items.OfType<LetItem>().Select(l => l.Let).ToList();
        var names = lets.Select(l => l.Name.Text).Distinct(StringComparer.Ordinal).ToList();
        var problems = ImmutableArray.CreateBuilder<OptionDiagnostic>();
        var replacements = new Dictionary<LetStmt, LetStmt>(ReferenceEqualityComparer.Instance);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, expression) in _options.Parameters)
        {
            var argument = name + "=" + expression;
            var nameSpan = new TextSpan(0, name.Length);
            if (!seen.Add(name)) { problems.Add(new(SetOption, argument, Errors.ParameterSetTwice(nameSpan, name))); continue; }
            var let = lets.FirstOrDefault(l => l.Name.Text == name);
            if (let is null) { problems.Add(new(SetOption, argument, Errors.UnknownParameter(nameSpan, name, names))); continue; }
            var parsed = ScriptParser.ParseExpression(expression);
            var exprStart = name.Length + 1;
            foreach (var d in parsed.Diagnostics)
                problems.Add(new(SetOption, argument, d with { Span = new TextSpan(d.Span.Start + exprStart, d.Span.End + exprStart) }));
            if (parsed.Expr is null || !parsed.Diagnostics.IsEmpty) continue;
            var replaced = let with { Value = parsed.Expr };
            replacements[let] = replaced;
            _overridden[replaced] = (argument, exprStart);
        }
        if (problems.Count > 0) return (script, problems.ToImmutable());
        var items = script.Items.Select(i => i is LetItem l && replacements.TryGetValue(l.Let, out var r) ? new LetItem(r) : i);
        return (script with { Items = [.. items] }, []);
    }

    /// <summary>
    /// Checks a top-level let. When its expression came from a --set, the diagnostics of evaluating it
    /// point into that option's argument, so they are reported against the option, not the file.
    /// </summary>
    private void CheckParameter(LetStmt let)
    {
        if (!_overridden.TryGetValue(let, out var origin))
        {
            CheckLet(let, _globals);
            return;
        }
        var before = _diagnostics.Count;
        var value = Evaluate(let.Value, _globals);
        for (var i = before; i < _diagnostics.Count; i++)
        {
            var d = _diagnostics[i];
            _optionDiagnostics.Add(new(SetOption, origin.Argument, d with { Span = new TextSpan(d.Span.Start + origin.ExprStart, d.Span.End + origin.ExprStart) }));
        }
        _diagnostics.Count = before;
        DefineLet(let, value, _globals);
    }

    private CheckResult Run(Script script)
    {
        // Paging depth is needed by mapping checks wherever it is declared; it holds no expression.
        _guestLevels = script.Items.OfType<PagingDecl>().FirstOrDefault(p => p.Guest)?.Levels.Text[0] == '5' ? 5 : 4;
        _processNames = script.Items.OfType<ProcessDecl>().Select(p => p.Name.Text).ToHashSet(StringComparer.Ordinal);

        var slots = new List<SlotInfo>();
        var processes = new List<ProcessInfo>();
        var items = new ItemChecker(this, slots, processes);
        foreach (var item in script.Items) item.Accept(items);
        CheckSlotOverlaps(slots);
        foreach (var (text, span) in _sinceLabels)
            if (!_markPatterns.Any(m => m.Pattern.IsMatch(text))) Report(Errors.UnknownMark(span, text, _markPatterns.Select(m => m.Template)));
        // Only when no slot is writable as written: a writable slot with an error of its own (unaligned,
        // a bad backing) has been reported, and advising 'a slot that is not readonly' would mislead.
        if (processes.Count > 0 && !script.Items.OfType<SlotDecl>().Any(s => !s.Readonly))
            Report(Errors.NoWritableMemory(script.Items.OfType<ProcessDecl>().First().Name.Span));
        CheckWholeFile(script, slots, processes);
        var machine = ResolveProfile() with { Costs = [.. _costs] };

        // Source order reads best, whatever order the checks ran in; the sort is stable.
        var sorted = _diagnostics.OrderBy(d => d.Span.Start).ToImmutableArray();
        if (sorted.Any(d => d.IsError)) return new CheckResult(null, sorted);
        var targets = _mapTargets.OrderBy(t => t.Start).ToImmutableArray();
        return new CheckResult(
            new CheckedScript(script, machine, [.. slots], [.. processes], targets),
            sorted);
    }

    private void Report(Diagnostic diagnostic) => _diagnostics.Add(diagnostic);

    // ------------------------------------------------------------ machine declarations

    private MachineDeclarations _machine = MachineDeclarations.Defaults;
    private readonly HashSet<string> _declared = new(StringComparer.Ordinal);
    private readonly List<(string, ulong)> _costs = new();

    private Profile? _fileProfile;

    /// <summary>
    /// Applies the profile (the command line's, else the file's, else the default) to every profile
    /// feature the file does not declare; a declared feature keeps its value whatever the order.
    /// </summary>
    private MachineDeclarations ResolveProfile()
    {
        var profile = _options.Profile ?? _fileProfile ?? _options.Fallback ?? CheckOptions.DefaultProfile;
        var defaults = MachineDeclarations.ForProfile(profile);
        var machine = _machine with { Profile = profile };
        var explicitFeatures = ProfileFeatures.All.Where(_declared.Contains).ToImmutableArray();
        foreach (var feature in ProfileFeatures.All.Except(explicitFeatures)) machine = machine.WithFeatureFrom(feature, defaults);
        return machine with { Explicit = explicitFeatures };
    }

    private bool Once(string what, TextSpan span)
    {
        if (_declared.Add(what)) return true;
        Report(Errors.DuplicateDeclaration(span, what));
        return false;
    }

    /// <summary>
    /// Checks each top-level item in file order, so that declarations may use the constants above them;
    /// machine declarations update <see cref="_machine"/>.
    /// </summary>
    private sealed class ItemChecker(Checker c, List<SlotInfo> slots, List<ProcessInfo> processes) : IItemVisitor<bool>
    {
        private readonly HashSet<string> _seenProcesses = new(StringComparer.Ordinal);

        public bool Visit(MmuDecl d)
        {
            if (c.Once("mmu", d.Span)) c._machine = c._machine with { Mode = Vocabulary.ParseMode(d.Mode.Text) };
            return true;
        }

        public bool Visit(PagingDecl d)
        {
            if (!c.Once(d.Guest ? "guest paging" : "host paging", d.Span)) return true;
            var levels = d.Levels.Text[0] - '0';
            c._machine = d.Guest ? c._machine with { GuestLevels = levels } : c._machine with { HostLevels = levels };
            return true;
        }

        public bool Visit(TlbDecl d)
        {
            if (!c.Once("tlb", d.Span)) return true;
            var entries = c.Constant(d.Entries, c._globals);
            var ways = d.Ways is null ? entries : c.Constant(d.Ways, c._globals);
            if (entries is { } e && ways is { } w)
            {
                if (e == 0 || w == 0 || e % w != 0) c.Report(Errors.TlbShape(d.Span, "tlb", e, d.Ways is null ? null : w));
                else if (e > 1 << 20) c.Report(Errors.ValueOutOfRange(d.Entries.Span, "tlb entries", e, "1..1048576"));
                else c._machine = c._machine with { TlbEntries = (int)e, TlbWays = (int)w };
            }
            return true;
        }

        public bool Visit(PwcDecl d)
        {
            if (!c.Once("pwc", d.Span)) return true;
            var entries = d.Entries is null ? 32UL : c.Constant(d.Entries, c._globals);
            if (entries is { } e)
            {
                if (e is 0 or > 4096) c.Report(Errors.ValueOutOfRange(d.Entries!.Span, "pwc entries", e, "1..4096"));
                else c._machine = c._machine with { Pwc = d.On, PwcEntries = (int)e };
            }
            return true;
        }

        public bool Visit(TaggingDecl d)
        {
            if (c.Once(d.Feature.Text, d.Span))
                c._machine = d.Feature.Text == "vpid" ? c._machine with { Vpid = d.On } : c._machine with { Pcid = d.On };
            return true;
        }

        public bool Visit(CostDecl d)
        {
            if (!Vocabulary.TryParseCost(d.Cost.Text, out _))
            {
                c.Report(Errors.UnknownCost(d.Cost.Span, d.Cost.Text, [.. Vocabulary.Costs.Select(x => x.Name)]));
                return true;
            }
            if (!c.Once("cost " + d.Cost.Text, d.Span)) return true;
            if (c.Constant(d.Value, c._globals) is { } v)
            {
                if (d.Cost.Text == "shadow-pages" && v is < 8 or > 1 << 24)
                    c.Report(Errors.ValueOutOfRange(d.Value.Span, "shadow-pages", v, "8..16777216: a walk path of shadow tables must fit"));
                else if (v > 1UL << 40)
                    c.Report(Errors.ValueOutOfRange(d.Value.Span, "cost " + d.Cost.Text, v, "0..2^40 cycles"));
                else c._costs.Add((d.Cost.Text, v));
            }
            return true;
        }

        public bool Visit(ClockDecl d)
        {
            if (d.Hertz is null) c.Report(Errors.BadClock(d.ValueSpan, d.Text, d.Problem ?? "not a frequency"));
            else if (c.Once("clock", d.Span)) c._machine = c._machine with { ClockHz = d.Hertz.Value };
            return true;
        }

        public bool Visit(ProfileDecl d)
        {
            if (c.Once("profile", d.Span)) c._fileProfile = d.Profile.Text == "modern" ? Profile.Modern : Profile.Classic;
            return true;
        }

        public bool Visit(Tlb1GDecl d)
        {
            if (!c.Once(ProfileFeatures.Tlb1G, d.Span)) return true;
            if (d.Entries is null)
            {
                c._machine = c._machine with { Tlb1GEntries = 0, Tlb1GWays = 0 };
                return true;
            }
            var entries = c.Constant(d.Entries, c._globals);
            var ways = d.Ways is null ? entries : c.Constant(d.Ways, c._globals);
            if (entries is { } e && ways is { } w)
            {
                if (e == 0 || w == 0 || e % w != 0) c.Report(Errors.TlbShape(d.Span, "tlb1g", e, d.Ways is null ? null : w));
                else if (e > 1 << 20) c.Report(Errors.ValueOutOfRange(d.Entries.Span, "tlb1g entries", e, "1..1048576"));
                else c._machine = c._machine with { Tlb1GEntries = (int)e, Tlb1GWays = (int)w };
            }
            return true;
        }

        public bool Visit(ShadowUnsyncDecl d)
        {
            if (c.Once(ProfileFeatures.ShadowUnsync, d.Span)) c._machine = c._machine with { ShadowUnsync = d.On };
            return true;
        }

        public bool Visit(ShadowPrefetchDecl d)
        {
            if (!c.Once(ProfileFeatures.ShadowPrefetch, d.Span) || c.Constant(d.Value, c._globals) is not { } n) return true;
            // KVM reads an aligned block of guest entries: a power of two that fits in one 512-entry table.
            if (n != 0 && (n < 2 || n > 512 || (n & (n - 1)) != 0))
                c.Report(Errors.ValueOutOfRange(d.Value.Span, "shadow prefetch", n, "0, or a power of two from 2 to 512"));
            else c._machine = c._machine with { ShadowPrefetch = (int)n };
            return true;
        }

        public bool Visit(ShadowFloodDecl d)
        {
            if (!c.Once(ProfileFeatures.ShadowFlood, d.Span) || c.Constant(d.Value, c._globals) is not { } n) return true;
            if (n > 1 << 20) c.Report(Errors.ValueOutOfRange(d.Value.Span, "shadow flood", n, "0..1048576"));
            else c._machine = c._machine with { ShadowFlood = (int)n };
            return true;
        }

        public bool Visit(EptAdDecl d)
        {
            if (c.Once(ProfileFeatures.EptAd, d.Span)) c._machine = c._machine with { EptAd = d.On };
            return true;
        }

        public bool Visit(DirtyTrackDecl d)
        {
            if (c.Once(ProfileFeatures.DirtyTrack, d.Span))
                c._machine = c._machine with
                {
                    DirtyTrack = d.Method.Text switch { "pml" => DirtyTrack.Pml, "wp" => DirtyTrack.Wp, _ => DirtyTrack.Free },
                };
            return true;
        }

        public bool Visit(SlotDecl d)
        {
            if (c.CheckSlot(d) is { } slot) slots.Add(slot);
            return true;
        }

        public bool Visit(ProcessDecl d)
        {
            if (!_seenProcesses.Add(d.Name.Text)) c.Report(Errors.DuplicateProcess(d.Name.Span, d.Name.Text));
            processes.Add(c.CheckProcess(d));
            return true;
        }

        public bool Visit(LetItem d)
        {
            c.CheckParameter(d.Let);
            return true;
        }

        public bool Visit(RunBlock d)
        {
            if (!c._processNames.Contains(d.Process.Text))
                c.Report(c._processNames.Count == 0 ? Errors.NoProcesses(d.Process.Span) : Errors.UnknownProcess(d.Process.Span, d.Process.Text, c._processNames.Order(StringComparer.Ordinal)));
            c._current = c._processNames.Contains(d.Process.Text) ? d.Process.Text : null;
            c.CheckBody(d.Body, new Scope(c._globals));
            return true;
        }
    }

    // ------------------------------------------------------------ slots

    private SlotInfo? CheckSlot(SlotDecl s)
    {
        var id = Constant(s.Id, _globals);
        var gpa = Constant(s.Gpa, _globals);
        var size = Constant(s.Size, _globals);
        var hva = Constant(s.Hva, _globals);
        var backing = PageSizeOf(s.Backing, _globals, "slot backing");
        if (id is null || gpa is null || size is null || hva is null || backing is not { } backingSize) return null;
        var ok = true;

        if (id > MaxSlotId) { Report(Errors.SlotIdRange(s.Id.Span, id.Value)); ok = false; }
        if ((gpa & 0xfff) != 0) { Report(Errors.SlotNotAligned(s.Gpa.Span, "gpa", gpa.Value)); ok = false; }
        if ((hva & 0xfff) != 0) { Report(Errors.SlotNotAligned(s.Hva.Span, "hva", hva.Value)); ok = false; }
        if (size == 0) { Report(Errors.SlotSizeZero(s.Size.Span)); ok = false; }
        else if ((size & 0xfff) != 0) { Report(Errors.SlotNotAligned(s.Size.Span, "size", size.Value)); ok = false; }
        else if (size / 4096 > MaxSlotPages) { Report(Errors.SlotTooLarge(s.Size.Span, size.Value)); ok = false; }
        if (!ok) return null;

        if (gpa + size < gpa) { Report(Errors.SlotWraps(s.Size.Span, "gpa")); return null; }
        if (hva + size < hva) { Report(Errors.SlotWraps(s.Size.Span, "hva")); return null; }
        if (gpa + size > PhysicalLimit) { Report(Errors.SlotGpaTooWide(s.GpaClause)); ok = false; }
        if (hva + size > HostUserLimit) { Report(Errors.SlotHvaNotUser(s.Hva.Span)); ok = false; }
        var backingBytes = backingSize.Bytes();
        if (backingSize != PageSize.Size4K)
        {
            // hugetlbfs maps whole huge pages at aligned addresses; anything else could not be backed.
            if (hva % backingBytes != 0) { Report(Errors.SlotBackingAlignment(s.Hva.Span, "hva", hva.Value, backingSize.Text())); ok = false; }
            if (size % backingBytes != 0) { Report(Errors.SlotBackingAlignment(s.Size.Span, "size", size.Value, backingSize.Text())); ok = false; }
        }
        if (!ok) return null;
        var slot = new SlotInfo(id.Value, gpa.Value, size.Value, hva.Value, backingSize, s.Readonly, s.DirtyLog, s.Span, s.Prealloc);
        _slotDecls[slot] = s;
        return slot;
    }

    private void CheckSlotOverlaps(List<SlotInfo> slots)
    {
        for (var i = 0; i < slots.Count; i++)
        {
            for (var j = 0; j < i; j++)
            {
                var a = slots[j];
                var b = slots[i];
                if (a.Id == b.Id) Report(Errors.DuplicateSlot(_slotDecls[b].Id.Span, b.Id));
                else if (b.Gpa < a.End && a.Gpa < b.End)
                    Report(Errors.SlotsOverlap(_slotDecls[b].GpaClause, b.Id, b.Gpa, b.End, a.Id, a.Gpa, a.End));
            }
        }
    }

    private readonly Dictionary<SlotInfo, SlotDecl> _slotDecls = new();

    // ------------------------------------------------------------ processes and mappings

    private ProcessInfo CheckProcess(ProcessDecl p)
    {
        var mappings = new List<MappingInfo>();
        var checker = new ProcessMappingChecker(this);
        // The mappings accepted so far, disjoint and ordered by address: an overlap test is a lookup of
        // the nearest one below, so thousands of mappings check in n log n, not n^2.
        var placed = new SortedList<ulong, MappingInfo>();
        var demandAll = false;
        foreach (var stmt in p.Mappings)
        {
            if (stmt.Accept(checker) is not { } info) continue;
            if (info.Kind == MappingKind.DemandAll)
            {
                if (demandAll) Report(Errors.DemandAllTwice(stmt.Span, p.Name.Text));
                demandAll = true;
            }
            else if (Overlapping(placed, info.Gva, info.Gva + (info.Size - 1)) is { } other)
            {
                Report(Errors.MappingsOverlap(stmt.Span, p.Name.Text, info.Gva, info.Gva + (info.Size - 1), other.Gva, other.Gva + (other.Size - 1)));
            }
            else
            {
                placed.Add(info.Gva, info);
            }
            mappings.Add(info);
        }
        return new ProcessInfo(p.Name.Text, [.. mappings], p.Span);
    }

    /// <summary>The mapping of <paramref name="placed"/> (disjoint, by address) that overlaps [first, last], if any.</summary>
    private static MappingInfo? Overlapping(SortedList<ulong, MappingInfo> placed, ulong first, ulong last)
    {
        // The last mapping that starts at or before `last` is the only one that can overlap.
        var keys = placed.Keys;
        int lo = 0, hi = keys.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (keys[mid] <= last) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        if (found < 0) return null;
        var m = placed.Values[found];
        return m.Gva + (m.Size - 1) >= first ? m : null;
    }

    /// <summary>
    /// A process block's lines: the parser admits only mappings there, so any other statement reaching
    /// this visitor is a bug of the parser, not of the file.
    /// </summary>
    private sealed class ProcessMappingChecker(Checker c) : IStmtVisitor<MappingInfo?>
    {
        public MappingInfo? Visit(MapStmt s) => c.CheckMap(s, c._globals);
        public MappingInfo? Visit(DemandStmt s) => c.CheckDemand(s, c._globals);

        public MappingInfo? Visit(UnmapStmt s)
        {
            c.Report(Errors.RunOnlyStatement(s.Span, "unmap"));
            return null;
        }

        public MappingInfo? Visit(ProtectStmt s)
        {
            c.Report(Errors.RunOnlyStatement(s.Span, "protect"));
            return null;
        }

        public MappingInfo? Visit(AccessStmt s) => NotAMapping(s);
        public MappingInfo? Visit(SweepStmt s) => NotAMapping(s);
        public MappingInfo? Visit(RandomStmt s) => NotAMapping(s);
        public MappingInfo? Visit(RepeatStmt s) => NotAMapping(s);
        public MappingInfo? Visit(SwitchStmt s) => NotAMapping(s);
        public MappingInfo? Visit(InvlpgStmt s) => NotAMapping(s);
        public MappingInfo? Visit(FlushTlbStmt s) => NotAMapping(s);
        public MappingInfo? Visit(ReplayStmt s) => NotAMapping(s);
        public MappingInfo? Visit(MarkStmt s) => NotAMapping(s);
        public MappingInfo? Visit(ExpectStmt s) => NotAMapping(s);
        public MappingInfo? Visit(LetStmt s) => NotAMapping(s);
        public MappingInfo? Visit(CollectDirtyStmt s) => NotAMapping(s);

        private static MappingInfo? NotAMapping(Stmt s) =>
            throw new InvalidOperationException($"the parser admitted a {s.GetType().Name} in a process block");
    }

    /// <summary>Checks a map line; returns null when it is not constant or has an error.</summary>
    private MappingInfo? CheckMap(MapStmt m, Scope scope)
    {
        var gva = Constant(m.Gva, scope);
        var sizeValue = m.Size is null ? null : Constant(m.Size, scope);
        if (PageSizeOf(m.Page, scope, "page size") is not { } page) return null;
        var size = m.Size is null ? page.Bytes() : sizeValue;
        var gpa = Constant(m.Gpa, scope);
        if (gva is null || size is null || gpa is null) return null;
        if (!CheckRegion(m.Gva.Span, m.Size?.Span ?? m.Gva.Span, gva.Value, size.Value, page)) return null;
        var ok = true;
        if (gpa % page.Bytes() != 0) { Report(Errors.HugeGpaNotAligned(m.Gpa.Span, gpa.Value, page.Text())); ok = false; }
        if (gpa.Value + size.Value < gpa.Value || gpa.Value + size.Value > PhysicalLimit) { Report(Errors.GpaTooWide(m.Gpa.Span, gpa.Value)); ok = false; }
        if (!ok) return null;
        _mapTargets.Add((gpa.Value, gpa.Value + size.Value));
        _mapTargetSpans.Add((gpa.Value, gpa.Value + size.Value, m.Gpa.Span));
        return new MappingInfo(MappingKind.Map, gva.Value, size.Value, page, gpa.Value, m.Perms, m.Span);
    }

    /// <summary>Checks a demand line (or <c>demand all</c>); returns null when it is not constant or has an error.</summary>
    private MappingInfo? CheckDemand(DemandStmt d, Scope scope)
    {
        if (d.Gva is null) return new MappingInfo(MappingKind.DemandAll, 0, 0, PageSize.Size4K, 0, d.Perms, d.Span);
        var gva = Constant(d.Gva, scope);
        var size = Constant(d.Size!, scope);
        if (PageSizeOf(d.Page, scope, "page size") is not { } page || gva is null || size is null) return null;
        if (!CheckRegion(d.Gva.Span, d.Size!.Span, gva.Value, size.Value, page)) return null;
        return new MappingInfo(MappingKind.Demand, gva.Value, size.Value, page, 0, d.Perms, d.Span);
    }

    /// <summary>The page size an expression names (4K when absent); null, with a diagnostic, when its value is not one.</summary>
    private PageSize? PageSizeOf(Expr? expr, Scope scope, string what)
    {
        if (expr is null) return PageSize.Size4K;
        if (Constant(expr, scope) is not { } bytes) return null;
        var page = PageSizes.OfBytes(bytes);
        if (page is null) Report(Errors.BadPageSize(expr.Span, what, bytes));
        return page;
    }

    private bool CheckRegion(TextSpan gvaSpan, TextSpan sizeSpan, ulong gva, ulong size, PageSize page)
    {
        var ok = true;
        if (gva % page.Bytes() != 0) { Report(Errors.HugeGvaNotAligned(gvaSpan, gva, page.Text())); ok = false; }
        if (size == 0 || size % page.Bytes() != 0) { Report(Errors.MappingSize(sizeSpan, size, page.Text())); ok = false; }
        if (!ok) return false;
        // A region may end exactly at 2^64; only one whose last byte passes it wraps.
        if (gva + (size - 1) < gva) { Report(Errors.NonCanonical(gvaSpan, gva, VirtualBits)); return false; }
        return CheckCanonicalRange(gvaSpan, gva, gva + size - 1);
    }

    private int VirtualBits => _guestLevels == 5 ? 57 : 48;

    private bool CheckCanonicalRange(TextSpan span, ulong first, ulong last)
    {
        foreach (var address in new[] { first, last })
        {
            if (Canonical.IsCanonical(address, VirtualBits)) continue;
            if (_guestLevels == 4 && Canonical.IsCanonical(address, 57)) Report(Errors.NeedsFiveLevel(span, address));
            else Report(Errors.NonCanonical(span, address, VirtualBits));
            return false;
        }
        // Both ends canonical but in different halves: the range crosses the non-canonical hole.
        if ((first >> 63) != (last >> 63)) { Report(Errors.NonCanonical(span, last, VirtualBits)); return false; }
        return true;
    }

    // ------------------------------------------------------------ run blocks

    private void CheckLet(LetStmt let, Scope scope) => DefineLet(let, Evaluate(let.Value, scope), scope);

    private void DefineLet(LetStmt let, Value value, Scope scope)
    {
        // No shadowing: a name means one thing wherever it is visible.
        if (scope.Lookup(let.Name.Text, out _)) Report(Errors.DuplicateName(let.Name.Span, let.Name.Text));
        scope.Define(let.Name.Text, value.IsConstant ? value.Number : null);
    }

    private void CheckBody(ImmutableArray<Stmt> body, Scope scope)
    {
        var checker = new BodyChecker(this, scope);
        foreach (var stmt in body) stmt.Accept(checker);
    }

    /// <summary>The statements of a run block (and of <c>repeat</c> bodies inside it), in the scope of that block.</summary>
    private sealed class BodyChecker(Checker c, Scope scope) : IStmtVisitor<bool>
    {
        private bool EvaluateAll(Stmt stmt)
        {
            foreach (var e in SyntaxWalker.Expressions(stmt)) c.Evaluate(e, scope);
            return true;
        }

        public bool Visit(AccessStmt s) => EvaluateAll(s);
        public bool Visit(InvlpgStmt s) => EvaluateAll(s);
        public bool Visit(FlushTlbStmt s) => true;
        public bool Visit(MarkStmt s)
        {
            c._markPatterns.Add((c.LabelPattern(s.Label, scope), s.Label.Template()));
            return true;
        }
        public bool Visit(CollectDirtyStmt s) => true;

        public bool Visit(LetStmt s)
        {
            c.CheckLet(s, scope);
            return true;
        }

        public bool Visit(RepeatStmt r)
        {
            c.Evaluate(r.Count, scope);
            var inner = new Scope(scope);
            if (r.Variable is { } v)
            {
                if (scope.Lookup(v.Text, out _)) c.Report(Errors.DuplicateName(v.Span, v.Text));
                inner.Define(v.Text, null);
            }
            // A loop that switches process runs its body in more than one: the timeline's process is unknown in it and after it.
            var switches = SyntaxWalker.Flatten(r.Body).OfType<SwitchStmt>().Any();
            if (switches) c._current = null;
            c.CheckBody(r.Body, inner);
            if (switches) c._current = null;
            return true;
        }

        public bool Visit(SwitchStmt s)
        {
            if (!c._processNames.Contains(s.Process.Text)) c.Report(Errors.UnknownProcess(s.Process.Span, s.Process.Text, c._processNames.Order(StringComparer.Ordinal)));
            c._current = c._processNames.Contains(s.Process.Text) ? s.Process.Text : null;
            return true;
        }

        public bool Visit(ExpectStmt e)
        {
            if (!Vocabulary.IsCounter(e.Counter.Text)) c.Report(Errors.UnknownCounter(e.Counter.Span, e.Counter.Text, Vocabulary.CounterNames()));
            c.WarnExpectThatCannotHold(e, c.Evaluate(e.Value, scope));
            if (e.Since is { } since && c.LabelText(since, scope) is { } text) c._sinceLabels.Add((text, since.Span));
            return true;
        }

        public bool Visit(ReplayStmt r)
        {
            if (r.Format is { } f && f.Text != "lackey") c.Report(Errors.UnknownReplayFormat(f.Span, f.Text));
            return true;
        }

        // Report every expression's errors; check the region itself only when all are known and clean.
        public bool Visit(MapStmt s)
        {
            c.RecordRunTimeRegion(AllConstantAndClean(s) ? c.CheckMap(s, scope) : null);
            return true;
        }

        public bool Visit(DemandStmt s)
        {
            c.RecordRunTimeRegion(AllConstantAndClean(s) ? c.CheckDemand(s, scope) : null);
            return true;
        }

        private bool AllConstantAndClean(Stmt stmt)
        {
            var reported = c._diagnostics.Count;
            var values = SyntaxWalker.Expressions(stmt).Select(e => c.Evaluate(e, scope)).ToList();
            return c._diagnostics.Count == reported && values.All(v => v.IsConstant);
        }

        public bool Visit(UnmapStmt u) => PageRange(u.Gva, u.Size);
        public bool Visit(ProtectStmt p) => PageRange(p.Gva, p.Size);

        private bool PageRange(Expr gvaExpr, Expr? sizeExpr)
        {
            var gva = c.Evaluate(gvaExpr, scope);
            var size = sizeExpr is null ? new Value(4096, true) : c.Evaluate(sizeExpr, scope);
            if (gva.IsConstant && gva.Number % 4096 != 0) c.Report(Errors.MisalignedAddress(gvaExpr.Span, "address", gva.Number));
            if (size.IsConstant && (size.Number == 0 || size.Number % 4096 != 0)) c.Report(Errors.MappingSize(sizeExpr!.Span, size.Number, "4K"));
            return true;
        }

        public bool Visit(SweepStmt s)
        {
            var from = c.Evaluate(s.From, scope);
            var size = c.NonZero(s.Size, scope, "sweep size");
            var stride = c.NonZero(s.Stride, scope, "sweep stride");
            var times = s.Times is null ? new Value(1, true) : c.Evaluate(s.Times, scope);
            c.RecordRange("sweep", from, size, stride, times, s.Span);
            return true;
        }

        public bool Visit(RandomStmt r)
        {
            var count = c.Evaluate(r.Count, scope);
            var from = c.Evaluate(r.From, scope);
            var size = c.NonZero(r.Size, scope, "random size");
            var align = r.Align is null ? new Value(8, true) : c.NonZero(r.Align, scope, "random align");
            if (r.Seed is not null) c.Evaluate(r.Seed, scope);
            if (size.IsConstant && align.IsConstant && align.Number != 0 && size.Number != 0 && size.Number / align.Number == 0)
                c.Report(Errors.ValueOutOfRange(r.Size.Span, "random size", size.Number, "at least the alignment"));
            // Its addresses are FROM + k * ALIGN for k below SIZE / ALIGN.
            var whole = size.IsConstant && align.IsConstant && align.Number != 0 ? new Value(size.Number / align.Number * align.Number, true) : default;
            c.RecordRange("random", from, whole, align, count, r.Span);
            return true;
        }
    }

    /// <summary>
    /// A mark label as a pattern of the texts it can take: literal parts as written, constant
    /// interpolations as their decimal value, the others as any decimal number.
    /// </summary>
    private Regex LabelPattern(MarkLabel label, Scope scope)
    {
        var pattern = new StringBuilder("^");
        foreach (var part in label.Parts)
        {
            if (part.Expr is null) pattern.Append(Regex.Escape(part.Text!));
            else if (EvaluateInLabel(part.Expr, scope) is { IsConstant: true } v) pattern.Append(v.Number.ToString(CultureInfo.InvariantCulture));
            else pattern.Append("[0-9]+");
        }
        return new Regex(pattern.Append('$').ToString(), RegexOptions.CultureInvariant);
    }

    /// <summary>A label's text when every interpolation is constant here; null when one depends on a loop variable.</summary>
    private string? LabelText(MarkLabel label, Scope scope)
    {
        var text = new StringBuilder();
        var constant = true;
        foreach (var part in label.Parts)
        {
            if (part.Expr is null) text.Append(part.Text);
            else if (EvaluateInLabel(part.Expr, scope) is { IsConstant: true } v) text.Append(v.Number.ToString(CultureInfo.InvariantCulture));
            else constant = false;
        }
        return constant ? text.ToString() : null;
    }

    private Value EvaluateInLabel(Expr expr, Scope scope)
    {
        _inLabel = true;
        try
        {
            return Evaluate(expr, scope);
        }
        finally
        {
            _inLabel = false;
        }
    }

    private Value NonZero(Expr expr, Scope scope, string what)
    {
        var v = Evaluate(expr, scope);
        if (v.IsConstant && v.Number == 0) Report(Errors.ZeroNotAllowed(expr.Span, what));
        return v;
    }

    // ------------------------------------------------------------ expressions

    /// <summary>A value known at check time, or not (it depends on a loop variable, or had an error).</summary>
    private readonly record struct Value(ulong Number, bool IsConstant);

    private ulong? Constant(Expr expr, Scope scope)
    {
        var v = Evaluate(expr, scope);
        return v.IsConstant ? v.Number : null;
    }

    private Value Evaluate(Expr expr, Scope scope, bool report = true)
    {
        switch (expr)
        {
            case NumberExpr n:
                return n.Value is { } v ? new Value(v, true) : default;
            case NameExpr n:
                if (!scope.Lookup(n.Name, out var value))
                {
                    if (report) Report(_inLabel ? Errors.UnknownNameInLabel(n.Span, n.Name, scope.Names()) : Errors.UnknownName(n.Span, n.Name, scope.Names()));
                    return default;
                }
                return value is { } c ? new Value(c, true) : default;
            case UnaryExpr u:
            {
                var operand = Evaluate(u.Operand, scope, report);
                return operand.IsConstant ? new Value(~operand.Number, true) : default;
            }
            case BinaryExpr b:
            {
                var left = Evaluate(b.Left, scope, report);
                var right = Evaluate(b.Right, scope, report);
                if (!left.IsConstant || !right.IsConstant) return default;
                var error = Arithmetic.Apply(b.Op, left.Number, right.Number, out var result);
                if (error == ArithmeticError.None) return new Value(result, true);
                if (report) Report(ArithmeticDiagnostic(error, b, left.Number, right.Number));
                return default;
            }
            default:
                return default;
        }
    }

    /// <summary>The diagnostic for an arithmetic error, shared with the interpreter's run-time errors.</summary>
    public static Diagnostic ArithmeticDiagnostic(ArithmeticError error, BinaryExpr b, ulong left, ulong right) => error switch
    {
        ArithmeticError.DivideByZero => Errors.DivideByZero(b.Span),
        ArithmeticError.BelowZero => Errors.BelowZero(b.Span),
        ArithmeticError.ShiftRange => Errors.ShiftRange(b.Right.Span, right),
        _ => Errors.Overflow(b.Span, $"{Errors.Hex(left)} {OpSymbol(b.Op)} {Errors.Hex(right)}"),
    };

    private static string OpSymbol(BinaryOp op) => op switch
    {
        BinaryOp.Add => "+", BinaryOp.Mul => "*", BinaryOp.Shl => "<<", BinaryOp.Sub => "-", _ => op.ToString(),
    };

    /// <summary>Names in scope: let constants (with their value when known) and loop variables (value unknown).</summary>
    private sealed class Scope(Scope? parent)
    {
        private readonly Dictionary<string, ulong?> _names = new(StringComparer.Ordinal);

        public void Define(string name, ulong? value) => _names[name] = value;

        public bool Lookup(string name, out ulong? value)
        {
            for (var s = this; s is not null; s = s.Parent)
                if (s._names.TryGetValue(name, out value)) return true;
            value = null;
            return false;
        }

        private Scope? Parent => parent;

        /// <summary>Every name visible here, innermost first, each in its order of definition.</summary>
        public IEnumerable<string> Names()
        {
            for (var s = this; s is not null; s = s.Parent)
                foreach (var name in s._names.Keys) yield return name;
        }
    }
}
