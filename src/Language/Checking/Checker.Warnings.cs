using System.Collections.Immutable;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Language.Checking;

// The checks that look at the file as a whole once every item is read: the warnings (MS08xx) about
// what is valid but probably not meant, and the frames the page tables need at set-up (MS0112).
// Every warning is sound: it is given only when the file's constants show the problem for certain.
public sealed partial class Checker
{
    // ------------------------------------------------------------ what the item and body checks record

    /// <summary>Every constant map's target range, with the span of its gpa expression.</summary>
    private readonly List<(ulong Start, ulong End, TextSpan Span)> _mapTargetSpans = new();

    /// <summary>A constant sweep or random range: its process, its first and last address, the step between addresses, and where it stands in the timeline.</summary>
    private sealed record TimelineRange(string Process, string What, ulong First, ulong Last, ulong Step, TextSpan Span, int Order);

    private readonly List<TimelineRange> _ranges = new();

    /// <summary>Regions added at run time (constant map and demand lines), by process, with where they stand in the timeline.</summary>
    private readonly Dictionary<string, List<(ulong First, ulong Last, int Order)>> _runtimeRegions = new(StringComparer.Ordinal);

    // From this point of the timeline on, some process gained a region the checker cannot know (a map
    // whose address depends on a loop variable, or one while the current process is not known).
    private int _regionsUnknownFrom = int.MaxValue;

    // The process the timeline is in: set by run blocks and switches; null when a loop that switches makes it unknown.
    private string? _current;
    private int _order;

    private void RecordRunTimeRegion(MappingInfo? info)
    {
        var order = _order++;
        if (info is null || _current is null)
        {
            _regionsUnknownFrom = Math.Min(_regionsUnknownFrom, order);
            return;
        }
        if (!_runtimeRegions.TryGetValue(_current, out var list)) _runtimeRegions[_current] = list = new();
        list.Add(info.Kind == MappingKind.DemandAll ? (0, UserTop, order) : (info.Gva, info.Gva + (info.Size - 1), order));
    }

    private ulong UserTop => _guestLevels == 5 ? (1UL << 56) - 1 : (1UL << 47) - 1;

    private void RecordRange(string what, Value from, Value size, Value step, Value count, TextSpan span)
    {
        var order = _order++;
        if (_current is null || !from.IsConstant || !size.IsConstant || !step.IsConstant || !count.IsConstant) return;
        if (size.Number == 0 || step.Number == 0 || count.Number == 0) return;
        // The last address accessed: the largest multiple of the step below the size.
        var last = from.Number + (size.Number - 1) / step.Number * step.Number;
        if (last < from.Number) return;
        _ranges.Add(new TimelineRange(_current, what, from.Number, last, step.Number, span, order));
    }

    // ------------------------------------------------------------ the checks at the end

    private void CheckWholeFile(Script script, List<SlotInfo> slots, List<ProcessInfo> processes)
    {
        // These judge the file's slots and mappings as a whole: after an error one may be missing, and a
        // warning that an address is in no slot or no mapping would follow from that error, not the file.
        if (_diagnostics.Any(d => d.IsError)) return;
        var expected = SyntaxWalker.Statements(script).OfType<ExpectStmt>().Select(e => e.Counter.Text).ToHashSet(StringComparer.Ordinal);
        if (!expected.Contains("mmio") && !expected.Contains("exits.EPT_MISCONFIG")) WarnMmioMaps(slots);
        if (!expected.Contains("faults.segv")) WarnRangesOutsideMappings(processes);
        CheckTableFrames(script, slots, processes);
    }

    /// <summary>MS0801: a map whose target lies (partly) in no slot: accesses there are MMIO, which is rarely what a typo meant.</summary>
    private void WarnMmioMaps(List<SlotInfo> slots)
    {
        if (slots.Count == 0) return;
        var covered = Merge(slots.Select(s => (s.Gpa, s.End - 1)));
        foreach (var (start, end, span) in _mapTargetSpans)
        {
            if (FirstUncovered(covered, start, end - 1, 1) is not { } outside) continue;
            var nearest = slots.OrderBy(s => Distance(s, outside)).ThenBy(s => s.Id).First();
            Report(Errors.MapToMmio(span, outside,
                $"the nearest slot is slot {nearest.Id} (gpa {Errors.Hex(nearest.Gpa)}..{Errors.Hex(nearest.End - 1)})"));
        }
    }

    private static ulong Distance(SlotInfo slot, ulong address) =>
        address < slot.Gpa ? slot.Gpa - address : address >= slot.End ? address - (slot.End - 1) : 0;

    /// <summary>MS0802: a constant sweep or random range whose accesses reach addresses no map or demand region of its process covers.</summary>
    private void WarnRangesOutsideMappings(List<ProcessInfo> processes)
    {
        foreach (var range in _ranges)
        {
            if (range.Order >= _regionsUnknownFrom) continue;
            var process = processes.FirstOrDefault(p => p.Name == range.Process);
            if (process is null) continue;
            var regions = process.Mappings.Select(m => m.Kind == MappingKind.DemandAll ? (0UL, UserTop) : (m.Gva, m.Gva + (m.Size - 1)))
                .Concat(_runtimeRegions.GetValueOrDefault(range.Process)?.Where(r => r.Order < range.Order).Select(r => (r.First, r.Last)) ?? []);
            if (FirstUncovered(Merge(regions), range.First, range.Last, range.Step, range.First) is { } outside)
                Report(Errors.RangeLeavesMappings(range.Span, range.What, range.First, range.Last, range.Process, outside));
        }
    }

    /// <summary>Intervals (first and last address) merged and sorted.</summary>
    private static List<(ulong First, ulong Last)> Merge(IEnumerable<(ulong First, ulong Last)> intervals)
    {
        var merged = new List<(ulong First, ulong Last)>();
        foreach (var (first, last) in intervals.OrderBy(i => i.First))
        {
            if (merged.Count > 0 && (merged[^1].Last == ulong.MaxValue || first <= merged[^1].Last + 1))
                merged[^1] = (merged[^1].First, Math.Max(merged[^1].Last, last));
            else
                merged.Add((first, last));
        }
        return merged;
    }

    /// <summary>
    /// The first address of the progression <paramref name="origin"/> + k * <paramref name="step"/> in
    /// [<paramref name="first"/>, <paramref name="last"/>] that no interval covers, or null.
    /// </summary>
    private static ulong? FirstUncovered(List<(ulong First, ulong Last)> covered, ulong first, ulong last, ulong step, ulong origin = 0)
    {
        var gapStart = first;
        foreach (var (f, l) in covered)
        {
            if (l < gapStart) continue;
            if (f > gapStart && Hit(gapStart, Math.Min(f - 1, last)) is { } hit) return hit;
            if (l >= last) return null;
            gapStart = l + 1;
        }
        return gapStart <= last ? Hit(gapStart, last) : null;

        ulong? Hit(ulong a, ulong b)
        {
            if (a > b) return null;
            // The first address of the progression at or after a.
            var k = (a - origin + step - 1) / step;
            var x = origin + k * step;
            return x >= a && x <= b ? x : null;
        }
    }

    // ------------------------------------------------------------ expectations

    /// <summary>Exit reasons by the modes that produce them (SEMANTICS.md 3 to 6); a reason not listed may occur in any mode.</summary>
    private static readonly Dictionary<ExitReason, MmuMode[]> ReasonModes = new()
    {
        [ExitReason.ExceptionNmi] = [MmuMode.Shadow], [ExitReason.Invlpg] = [MmuMode.Shadow], [ExitReason.CrAccess] = [MmuMode.Shadow],
        [ExitReason.EptViolation] = [MmuMode.Ept], [ExitReason.EptMisconfig] = [MmuMode.Ept], [ExitReason.MmuTrap] = [MmuMode.Software],
    };

    /// <summary>Whether a counter is 0 in every run of that mode, by the semantics: no exits in native, EPT tables only in ept...</summary>
    private static bool AlwaysZero(string counter, MmuMode mode) => counter switch
    {
        "exits" or "hv.refs" => mode == MmuMode.Native,
        "pages.ept" => mode != MmuMode.Ept,
        "pages.shadow" => mode != MmuMode.Shadow,
        _ when counter.StartsWith("exits.", StringComparison.Ordinal) && Vocabulary.TryParseExitReason(counter["exits.".Length..], out var reason)
            => ReasonModes.TryGetValue(reason, out var modes) && !modes.Contains(mode),
        _ => false,
    };

    /// <summary>MS0803: an expect whose comparison fails for every value its counter can take in every mode it applies to.</summary>
    private void WarnExpectThatCannotHold(ExpectStmt e, Value value)
    {
        if (!value.IsConstant || !Vocabulary.IsCounter(e.Counter.Text)) return;
        var v = value.Number;
        var counter = e.Counter.Text;
        string? why = e.Op switch
        {
            CompareOp.Lt when v == 0 => $"{counter} is never below 0",
            CompareOp.Gt when v == ulong.MaxValue => "no counter is above 2^64 - 1",
            _ => null,
        };
        if (why is null)
        {
            var modes = e.Modes.IsEmpty ? Vocabulary.AllModes : [.. e.Modes.Select(m => Vocabulary.ParseMode(m.Text)).Distinct()];
            var holdsAtZero = e.Op switch
            {
                CompareOp.Eq => v == 0, CompareOp.Ne => v != 0, CompareOp.Lt => v > 0, CompareOp.Le => true, CompareOp.Gt => false, _ => v == 0,
            };
            if (!holdsAtZero && modes.All(m => AlwaysZero(counter, m)))
                why = $"{counter} is always 0 in {Errors.JoinAnd(modes.Select(Vocabulary.ModeName).ToList())}";
        }
        if (why is not null) Report(Errors.ExpectNeverHolds(e.Span, why));
    }

    // ------------------------------------------------------------ frames for the page tables

    /// <summary>
    /// MS0112: set-up gives each process a root table and the tables its maps need, from the free 4 KiB
    /// frames of the writable slots (a frame that any map targets is never free). When they run out the
    /// run would stop at once with MS0602; say it here, with the numbers.
    /// </summary>
    private void CheckTableFrames(Script script, List<SlotInfo> slots, List<ProcessInfo> processes)
    {
        if (processes.Count == 0) return;
        var writable = slots.Where(s => !s.Readonly).ToList();
        if (writable.Count == 0) return;
        var reserved = Merge(_mapTargets.Where(t => t.End > t.Start).Select(t => (t.Start & ~0xfffUL, ((t.End + 0xfff) & ~0xfffUL) - 1)));
        ulong free = 0;
        foreach (var slot in writable)
        {
            var pages = slot.Size / 4096;
            foreach (var (first, last) in reserved)
            {
                var a = Math.Max(first, slot.Gpa);
                var b = Math.Min(last, slot.End - 1);
                if (a <= b) pages -= (b - a + 1) / 4096;
            }
            free += pages;
        }
        var own = processes.Select(p => 1 + TablesFor(p)).ToList();
        var all = own.Aggregate(0UL, (a, b) => a + b);
        // Past the engine's own bound on table pages (MachineOptions.MaxTablePages, 1 GiB of tables)
        // no slot size would help: the run stops with MS0607 first, which says what is wrong.
        if (all > EngineTablePageLimit) return;
        ulong needed = 0;
        for (var i = 0; i < processes.Count; i++)
        {
            if (needed + own[i] > free)
            {
                var decl = script.Items.OfType<ProcessDecl>().First(p => p.Name.Text == processes[i].Name);
                Report(Errors.SlotsTooSmallForTables(decl.Name.Span, processes[i].Name, own[i], free, needed, all));
                return;
            }
            needed += own[i];
        }
    }

    /// <summary>The page-table pages below the root that a process's maps create: one per distinct region each level's table covers.</summary>
    private ulong TablesFor(ProcessInfo process)
    {
        ulong tables = 0;
        for (var level = 1; level < _guestLevels; level++)
        {
            // A table of this level covers 2^(12 + 9 * level) bytes; a map needs one where its leaves are at or below this level.
            var shift = 12 + 9 * level;
            var indices = process.Mappings
                .Where(m => m.Kind == MappingKind.Map && LeafLevel(m.Page) <= level)
                .Select(m => (m.Gva >> shift, (m.Gva + (m.Size - 1)) >> shift));
            foreach (var (first, last) in Merge(indices)) tables += last - first + 1;
        }
        return tables;
    }

    /// <summary>The engine's default bound on page-table pages (MemScript.Engine.MachineOptions.MaxTablePages), which this layer cannot reference.</summary>
    private const ulong EngineTablePageLimit = 262_144;

    private static int LeafLevel(PageSize page) => page switch { PageSize.Size4K => 1, PageSize.Size2M => 2, _ => 3 };
}
