using System.Globalization;
using MemScript.Language.Syntax;

namespace MemScript.Language.Diagnostics;

/// <summary>
/// The one factory of diagnostics. Each kind has a stable code; docs/errors.md is generated from the
/// test cases that exercise them, so a code never changes meaning once published.
/// </summary>
public static class Errors
{
    private static Diagnostic Error(string code, TextSpan span, string message) => new(code, Severity.Error, message, span);

    private static Diagnostic Warning(string code, TextSpan span, string message) => new(code, Severity.Warning, message, span);

    /// <summary>A byte count in the unit that says it exactly: 4 KiB, 2 MiB, 0x1800 bytes.</summary>
    public static string Bytes(ulong n) => n switch
    {
        >= 1UL << 30 when n % (1UL << 30) == 0 => $"{n >> 30} GiB",
        >= 1UL << 20 when n % (1UL << 20) == 0 => $"{n >> 20} MiB",
        >= 1UL << 10 when n % (1UL << 10) == 0 => $"{n >> 10} KiB",
        _ => Count(n, "byte", "bytes"),
    };

    public static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>
    /// User text as a message quotes it: control characters escaped (a label must not drive the
    /// terminal) and anything longer than <paramref name="max"/> characters cut, so a 10 MB token is
    /// never copied whole into a message.
    /// </summary>
    public static string Quote(string text, int max = 60)
    {
        var cut = text.Length > max;
        var sb = new System.Text.StringBuilder();
        foreach (var c in cut ? text[..max] : text)
        {
            if (char.IsControl(c) || c is '\u2028' or '\u2029') sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else sb.Append(c);
        }
        if (cut) sb.Append(CultureInfo.InvariantCulture, $"... ({text.Length:N0} characters)");
        return sb.ToString();
    }

    // ---- MS00xx: syntax
    public static Diagnostic Syntax(TextSpan span, string unexpected, IReadOnlyList<string> expected, string? hint = null) =>
        Error("MS0001", span, (expected.Count == 0
            ? $"unexpected {unexpected}"
            : $"unexpected {unexpected}, expected {JoinOr(expected)}") + (hint is null ? "" : "; " + hint));

    public static Diagnostic NestingTooDeep(TextSpan span, int limit) =>
        Error("MS0002", span, $"nesting deeper than {limit} levels of parentheses or blocks");

    public static Diagnostic ExpressionTooDeep(TextSpan span, int limit) =>
        Error("MS0002", span, $"expression nests more than {limit} operators inside one another: split it with a let");

    public static Diagnostic BadNumber(TextSpan span, string text, string problem) =>
        Error("MS0003", span, $"invalid integer literal '{Quote(text)}': {problem}");

    public static Diagnostic NumberTooLarge(TextSpan span, string text) =>
        Error("MS0004", span, $"integer literal '{Quote(text)}' does not fit in 64 bits");

    public static Diagnostic BadClock(TextSpan span, string text, string problem) =>
        Error("MS0005", span, $"invalid clock frequency '{Quote(text)}': {problem}");

    public static Diagnostic NotUtf8(TextSpan span, string problem) =>
        Error("MS0007", span, $"the file is not UTF-8 text: {problem}");

    public static Diagnostic BadInterpolation(TextSpan span, string problem) =>
        Error("MS0006", span, problem);

    // ---- MS01xx: memslots
    public static Diagnostic SlotNotAligned(TextSpan span, string field, ulong value) =>
        Error("MS0101", span, $"slot {field} {Hex(value)} is not 4 KiB aligned (KVM answers EINVAL)");

    public static Diagnostic SlotSizeZero(TextSpan span) =>
        Error("MS0102", span, "slot size is zero (KVM answers EINVAL)");

    public static Diagnostic SlotsOverlap(TextSpan span, ulong id, ulong gpa, ulong end, ulong otherId, ulong otherGpa, ulong otherEnd) =>
        Error("MS0103", span, $"slot {id} (gpa {Hex(gpa)}..{Hex(end - 1)}) overlaps slot {otherId} (gpa {Hex(otherGpa)}..{Hex(otherEnd - 1)})");

    public static Diagnostic DuplicateSlot(TextSpan span, ulong id) =>
        Error("MS0104", span, $"slot id {id} is declared twice");

    public static Diagnostic SlotIdRange(TextSpan span, ulong id) =>
        Error("MS0105", span, $"slot id {id} is out of range: KVM accepts 0..32763");

    public static Diagnostic SlotTooLarge(TextSpan span, ulong size) =>
        Error("MS0106", span, $"slot size {Hex(size)} exceeds KVM's limit of 2^31 - 1 pages");

    public static Diagnostic SlotWraps(TextSpan span, string field) =>
        Error("MS0107", span, $"slot {field} + size wraps past the end of the address space");

    public static Diagnostic SlotBackingAlignment(TextSpan span, string field, ulong value, string backing) =>
        Error("MS0108", span, $"slot {field} {Hex(value)} is not a multiple of its {backing} backing page");

    public static Diagnostic SlotHvaNotUser(TextSpan span) =>
        Error("MS0109", span, "slot hva range is not a host user address (it must end at or below 0x800000000000)");

    public static Diagnostic SlotGpaTooWide(TextSpan span) =>
        Error("MS0110", span, "slot gpa range goes beyond the 52-bit guest-physical address width");

    public static Diagnostic NoWritableMemory(TextSpan span) =>
        Error("MS0111", span, "the guest has no writable memory for its page tables: declare a slot that is not readonly");

    /// <summary>
    /// Set-up runs out of frames for page tables at this process: it needs <paramref name="needed"/>, the
    /// processes before it took <paramref name="neededBefore"/>, and all of them need <paramref name="neededAll"/>.
    /// </summary>
    public static Diagnostic SlotsTooSmallForTables(TextSpan span, string process, ulong needed, ulong free, ulong neededBefore, ulong neededAll)
    {
        var have = neededBefore == 0
            ? $"the writable slots have {Count(free, "free frame", "free frames")}"
            : $"the processes before it leave {free - Math.Min(free, neededBefore)} of the writable slots' {Count(free, "free frame", "free frames")}";
        return Error("MS0112", span, $"the writable slots are too small for the page tables: process '{process}' needs {Count(needed, "frame", "frames")} "
            + $"of 4 KiB at set-up (its root table and the tables its maps need), but {have} (a frame that a map targets is not free); "
            + $"the processes need {neededAll} in all: make a writable slot {Bytes((neededAll - free) * 4096)} larger, or move the map targets out of it");
    }

    // ---- MS02xx: names and processes
    public static Diagnostic DuplicateProcess(TextSpan span, string name) =>
        Error("MS0201", span, $"process '{Quote(name)}' is declared twice");

    public static Diagnostic UnknownProcess(TextSpan span, string name, IEnumerable<string> known) =>
        Error("MS0202", span, $"unknown process '{Quote(name)}'{Suggestions.DidYouMean(name, known)}");

    public static Diagnostic UnknownName(TextSpan span, string name, IEnumerable<string> inScope) =>
        Error("MS0203", span, $"unknown name '{Quote(name)}': not a let constant or loop variable in scope here{Suggestions.DidYouMean(name, inScope)}");

    public static Diagnostic UnknownNameInLabel(TextSpan span, string name, IEnumerable<string> inScope) =>
        Error("MS0203", span, $"unknown name '{Quote(name)}' in a label's interpolation{Suggestions.DidYouMean(name, inScope)}: a '{{' in a label starts an expression (write '{{{{' for a literal brace)");

    public static Diagnostic DuplicateName(TextSpan span, string name) =>
        Error("MS0204", span, $"name '{Quote(name)}' is already defined in this scope");

    public static Diagnostic RunOnlyStatement(TextSpan span, string statement) =>
        Error("MS0205", span, $"'{statement}' is only allowed inside a run block");

    public static Diagnostic NoProcesses(TextSpan span) =>
        Error("MS0206", span, "a run block needs a process, but the file declares none");

    // ---- MS03xx: mappings and addresses
    public static Diagnostic HugeGvaNotAligned(TextSpan span, ulong gva, string page) =>
        Error("MS0301", span, $"virtual address {Hex(gva)} is not aligned to its {page} page");

    public static Diagnostic HugeGpaNotAligned(TextSpan span, ulong gpa, string page) =>
        Error("MS0302", span, $"guest-physical address {Hex(gpa)} is not aligned to its {page} page");

    public static Diagnostic MappingSize(TextSpan span, ulong size, string page) =>
        Error("MS0303", span, size == 0 ? "mapping size is zero" : $"mapping size {Hex(size)} is not a multiple of the {page} page");

    /// <summary>Ranges by their first and last address: a mapping may end exactly at 2^64.</summary>
    public static Diagnostic MappingsOverlap(TextSpan span, string process, ulong start, ulong last, ulong otherStart, ulong otherLast) =>
        Error("MS0304", span, $"in process '{process}', {Hex(start)}..{Hex(last)} overlaps the mapping {Hex(otherStart)}..{Hex(otherLast)}");

    public static Diagnostic NonCanonical(TextSpan span, ulong address, int bits) =>
        Error("MS0305", span, $"address {Hex(address)} is not canonical with {bits}-bit virtual addresses");

    public static Diagnostic NeedsFiveLevel(TextSpan span, ulong address) =>
        Error("MS0306", span, $"address {Hex(address)} needs 5-level paging (add 'guest paging 5-level')");

    public static Diagnostic GpaTooWide(TextSpan span, ulong gpa) =>
        Error("MS0307", span, $"guest-physical address {Hex(gpa)} is beyond the 52-bit physical address width");

    public static Diagnostic DemandAllTwice(TextSpan span, string process) =>
        Error("MS0308", span, $"process '{process}' has 'demand all' twice");

    public static Diagnostic MisalignedAddress(TextSpan span, string what, ulong value) =>
        Error("MS0309", span, $"{what} {Hex(value)} is not 4 KiB aligned");

    public static Diagnostic BadPageSize(TextSpan span, string what, ulong value) =>
        Error("MS0310", span, $"{what} {Hex(value)} is not a page size of the machine: write 4K, 2M or 1G");

    // ---- parameters (--set): usage errors, exit code 2
    public static Diagnostic UnknownParameter(TextSpan span, string name, IReadOnlyCollection<string> parameters) =>
        Error("MS0207", span, parameters.Count == 0
            ? $"unknown parameter '{Quote(name)}': the file has no top-level let to set"
            : $"unknown parameter '{Quote(name)}': not a top-level let of the file{Suggestions.DidYouMean(name, parameters)} (its parameters: {string.Join(", ", parameters)})");

    public static Diagnostic ParameterSetTwice(TextSpan span, string name) =>
        Error("MS0208", span, $"parameter '{Quote(name)}' is set twice: give each --set NAME once");

    public static Diagnostic BadAssignment(TextSpan span) =>
        Error("MS0209", span, "a --set is NAME=EXPR, e.g. --set ws=64M");

    // ---- MS04xx: configuration
    public static Diagnostic UnknownCost(TextSpan span, string name, IReadOnlyCollection<string> known) =>
        Error("MS0401", span, Suggestions.Nearest(name, known) is { } s
            ? $"unknown cost '{Quote(name)}'; did you mean '{s}'?"
            : $"unknown cost '{Quote(name)}'; known costs: {string.Join(", ", known)}");

    public static Diagnostic UnknownCounter(TextSpan span, string name, IEnumerable<string> known) =>
        Error("MS0402", span, $"unknown counter '{Quote(name)}'{Suggestions.DidYouMean(name, known)}");

    /// <summary>A TLB whose entries and ways do not make whole sets; <paramref name="ways"/> is null when no <c>ways</c> was written.</summary>
    public static Diagnostic TlbShape(TextSpan span, string what, ulong entries, ulong? ways) =>
        Error("MS0403", span, entries == 0 ? $"{what} of 0 entries: a TLB needs at least one entry"
            : ways == 0 ? $"{what} of 0 ways: a set needs at least one way"
            : $"{what} of {Count(entries, "entry", "entries")} cannot have {Count(ways!.Value, "way", "ways")}: entries must be a multiple of ways");

    public static Diagnostic DuplicateDeclaration(TextSpan span, string what) =>
        Error("MS0404", span, $"'{what}' is declared more than once");

    public static Diagnostic ValueOutOfRange(TextSpan span, string what, ulong value, string range) =>
        Error("MS0405", span, $"{what} {value} is out of range ({range})");

    public static Diagnostic UnknownReplayFormat(TextSpan span, string format) =>
        Error("MS0406", span, $"unknown replay format '{Quote(format)}'; known formats: lackey");

    public static Diagnostic UnknownMark(TextSpan span, string label, IEnumerable<string> marks) =>
        Error("MS0407", span, $"no mark \"{Quote(label)}\" in this file for 'since' to refer to{Suggestions.DidYouMean(label, marks)}");

    // ---- MS05xx: constant expressions
    public static Diagnostic Overflow(TextSpan span, string what) =>
        Error("MS0501", span, $"{what} does not fit in an unsigned 64-bit value");

    public static Diagnostic DivideByZero(TextSpan span) =>
        Error("MS0502", span, "division or remainder by zero");

    public static Diagnostic BelowZero(TextSpan span) =>
        Error("MS0503", span, "subtraction goes below zero");

    public static Diagnostic ShiftRange(TextSpan span, ulong amount) =>
        Error("MS0504", span, $"shift by {amount} is out of range 0..63");

    public static Diagnostic ZeroNotAllowed(TextSpan span, string what) =>
        Error("MS0505", span, $"{what} must not be zero");

    // ---- MS06xx: run time (attached by the interpreter to the statement that failed)
    public static Diagnostic RunTime(TextSpan span, string code, string message) => Error(code, span, message);

    public static Diagnostic RunTimeOverflow(TextSpan span, string what) =>
        Error("MS0601", span, $"{what} does not fit in an unsigned 64-bit value");

    public static Diagnostic ReplayFailed(TextSpan span, string message) => Error("MS0604", span, message);

    public static Diagnostic SinceBeforeMark(TextSpan span, string label) =>
        Error("MS0608", span, $"expect since \"{label}\": that mark has not been reached yet");

    // ---- MS07xx: expectations
    public static Diagnostic ExpectFailed(TextSpan span, string message) => Error("MS0701", span, message);

    // ---- MS08xx: warnings (check prints them; they change no exit code without --warnings-as-errors)
    public static Diagnostic MapToMmio(TextSpan span, ulong address, string nearest) =>
        Warning("MS0801", span, $"the map's target {Hex(address)} is in no slot: accesses there will be MMIO (handed to the VMM), not memory; "
            + $"{nearest} (if MMIO is intended, say so with an expect on mmio)");

    public static Diagnostic RangeLeavesMappings(TextSpan span, string what, ulong first, ulong last, string process, ulong outside) =>
        Warning("MS0802", span, $"the {what} range {Hex(first)}..{Hex(last)} leaves the map and demand regions of process '{process}': "
            + $"its access to {Hex(outside)} will fault (faults.segv) (if that is intended, say so with an expect on faults.segv)");

    public static Diagnostic ExpectNeverHolds(TextSpan span, string why) =>
        Warning("MS0803", span, $"this expect can never hold: {why}");

    public static Diagnostic UnexpectedOutcome(TextSpan span, string counter, string values, string what) =>
        Warning("MS0804", span, $"{counter} is {values} and no expect mentions it: {what} (if intended, add 'expect {counter} == N')");

    /// <summary>"1 entry", "2 entries": a number with its noun in the right number.</summary>
    public static string Count(ulong n, string one, string many) => $"{n} {(n == 1 ? one : many)}";

    internal static string JoinAnd(IReadOnlyList<string> items) => items.Count switch
    {
        0 => "",
        1 => items[0],
        _ => string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1],
    };

    internal static string JoinOr(IReadOnlyList<string> items) => items.Count switch
    {
        0 => "",
        1 => items[0],
        _ => string.Join(", ", items.Take(items.Count - 1)) + " or " + items[^1],
    };
}
