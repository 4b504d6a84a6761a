using System.Collections.Immutable;
using MemScript.Engine.Inspection;
using MemScript.Engine.Interpreter;
using MemScript.Engine.Tracing;
using MemScript.Language.Checking;

namespace MemScript.Cli.Reports;

// The data of the HTML report, computed once by ReportBuilder: what the page draws and what the report's
// data snapshots lock (ReportDataText), so that a change of styling changes no snapshot and a change of
// data changes one.

/// <summary>Everything <c>memscript report</c> shows about one scenario.</summary>
public sealed record ReportData(
    ReportContext Context,
    Profile Profile,
    ImmutableArray<ModeData> Modes,
    MemslotMap Memslots,
    AssumptionTable Assumptions,
    PathMoment Moment)
{
    public IReadOnlyList<RunResult> Runs => Context.Runs;
}

/// <summary>When the steady-state path is drawn: after this many accesses (null: the end of the run), asked for as written.</summary>
public sealed record PathMoment(long? Accesses, string? Asked);

/// <summary>One mode's run and what the report takes from it beyond its counters.</summary>
public sealed record ModeData(RunResult Run, Timeline Timeline, FirstWalks FirstWalks, PathDrawing? Path)
{
    public MmuMode Mode => Run.Mode;
}

// ------------------------------------------------------------ walk references

/// <summary>What an entry read on a translation path belongs to.</summary>
public enum RefKind
{
    /// <summary>An EPT entry read by the hardware (translating a guest-physical address).</summary>
    Ept,

    /// <summary>A guest page-table entry read by the hardware.</summary>
    Guest,

    /// <summary>A shadow page-table entry read by the hardware.</summary>
    Shadow,

    /// <summary>A guest page-table entry read by software: KVM's walk under shadow paging, or the software MMU's.</summary>
    Software,
}

/// <summary>What an entry let the walk do.</summary>
public enum RefState
{
    /// <summary>Present: the walk went on (or, at a leaf, translated).</summary>
    Ok,

    /// <summary>Not present: the walk stopped here.</summary>
    NotPresent,

    /// <summary>KVM's MMIO entry (a misconfigured EPT entry, or a shadow entry with a reserved bit).</summary>
    Mmio,

    /// <summary>Present, but the walk ended here without a translation the access could use (a permission, or a page to log).</summary>
    Forbids,
}

/// <summary>
/// One entry read on a translation path, numbered in walk order: its kind, level, the address being
/// translated, the table it sits in (guest-physical for guest entries, host-physical for EPT and shadow),
/// its index and raw value. <see cref="Row"/> is the guest level row of the two-dimensional grid (ept).
/// </summary>
public sealed record WalkReference(int Number, RefKind Kind, int Level, int Row, ulong Translating, ulong Table, int Index, ulong Entry, RefState State)
{
    /// <summary>A leaf: the entry maps a page (level 1, or the page-size bit above it).</summary>
    public bool IsLeaf => State is RefState.Ok or RefState.Forbids && (Level == 1 || (Entry & (1UL << 7)) != 0);
}

// ------------------------------------------------------------ the first walks of an address

/// <summary>
/// The walks of one 4 KiB page from the start of the run until one filled the TLB (or
/// <see cref="ReportTraceSink.MaxWalks"/> of them): the staircase of EPT violations in a fresh VM.
/// <see cref="Process"/> is the process of the first miss there (the others' misses at the same
/// address are not followed); <see cref="Note"/> says why there is no walk, when there is none.
/// </summary>
public sealed record FirstWalks(ulong Address, string? Process, bool Defaulted, ImmutableArray<WalkRecord> Walks, bool Filled, bool Cut, string? Note);

/// <summary>
/// One walk: the access it served, the references the run counted for it, the entries on its path as the
/// tables stood at that moment (<see cref="Hardware"/>, from the root, up to where it stopped), the guest
/// entries read in software after it (<see cref="Software"/>: KVM's walk on a shadow #PF, the software
/// MMU's after MMU_TRAP), and the events that followed until the access retried or ended.
/// </summary>
public sealed record WalkRecord(
    int Number,
    long Access,
    ulong Address,
    AccessKind Kind,
    int CountedRefs,
    ImmutableArray<WalkReference> Hardware,
    ImmutableArray<WalkReference> Software,
    ImmutableArray<TraceEvent> Events,
    bool Filled);

// ------------------------------------------------------------ the steady-state path

/// <summary>The translation path of one address at one moment, as references to draw, with notes on the levels a huge leaf skips.</summary>
public sealed record PathDrawing(TranslationPath Path, long AccessesDone, ImmutableArray<WalkReference> Hardware, ImmutableArray<WalkReference> Software, ImmutableArray<string> Notes);

// ------------------------------------------------------------ the timeline

/// <summary>
/// Events along a run, counted per bucket of <see cref="BucketWidth"/> accesses (bucket i holds the
/// events of accesses i*w+1 to (i+1)*w; events before the first access are in bucket 0).
/// </summary>
public sealed record Timeline(long Accesses, long BucketWidth, int Buckets, ImmutableArray<TimelineSeries> Series, ImmutableArray<TimelineMark> Marks, int MarksLeftOut);

/// <summary>One kind of event along the run: its count in each bucket.</summary>
public sealed record TimelineSeries(string Name, ImmutableArray<long> Counts)
{
    public long Total => Counts.Sum();
}

/// <summary>A mark of the run and the number of accesses made before it.</summary>
public sealed record TimelineMark(string Label, long Access);

// ------------------------------------------------------------ the memslot map

/// <summary>
/// The guest-physical layout at the end of the run: each slot with the guest page tables and data pages
/// inside it, and the data pages that lie in no slot (MMIO).
/// </summary>
public sealed record MemslotMap(ImmutableArray<SlotView> Slots, ImmutableArray<PlacedRange> Outside, bool TooScattered);

/// <summary>A slot and what lives in it; the lists are cut at <see cref="ReportMemslots.MaxListed"/> with the rest counted.</summary>
public sealed record SlotView(SlotInfo Slot, ImmutableArray<PlacedRange> Tables, int TablesLeftOut, long TableCount, ImmutableArray<PlacedRange> Data, int DataLeftOut, ulong DataBytes);

/// <summary>A guest-physical range holding a process's page tables of one level, or data pages it maps (<see cref="Level"/> 0).</summary>
public sealed record PlacedRange(string Process, int Level, ulong Gpa, ulong Size);

// ------------------------------------------------------------ which assumption decides

/// <summary>
/// The scenario rerun with each profile feature at its classic value, one at a time (under the modern
/// profile), or why it was not: <see cref="Skipped"/>.
/// </summary>
public sealed record AssumptionTable(string? Skipped, ImmutableArray<AssumptionRow> Rows);

/// <summary>One feature: its value here and its classic value, and each mode's cycles with the feature switched (null: not rerun, as nothing changes).</summary>
public sealed record AssumptionRow(string Feature, string Value, string Classic, bool Declared, ImmutableArray<AssumptionRun> Runs)
{
    public bool AlreadyClassic => Value == Classic;
}

/// <summary>A mode's cycles in one rerun, or the error that stopped it.</summary>
public sealed record AssumptionRun(MmuMode Mode, ulong? Cycles, string? Error);
