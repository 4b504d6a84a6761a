using System.Collections.Immutable;
using MemScript.Language;

namespace MemScript.Engine.Accounting;

/// <summary>
/// The live counters of one machine. Fields, not properties, so the hot path increments them directly;
/// <see cref="Snapshot"/> turns them into an immutable <see cref="CounterSet"/>.
/// </summary>
public sealed class Counters
{
    public long Accesses, TlbHits, TlbMisses, WalkRefs, HvRefs, GuestFaults, HostFaults, Segv, Exits, Mmio;
    public long PagesGuestPt, PagesShadow, PagesEpt, PagesHost;
    /// <summary>Cycles of everything but the accesses themselves, which are charged lazily (see <see cref="TotalCycles"/>).</summary>
    public ulong Cycles;

    /// <summary>The price of one access: the hot path only counts accesses, and their cycles are derived.</summary>
    public ulong AccessPrice;

    public ulong TotalCycles => Cycles + (ulong)Accesses * AccessPrice;
    public readonly long[] ExitsByReason = new long[ExitReasons.Count];
    public readonly ulong[] CyclesByKind = new ulong[Enum.GetValues<CostKind>().Length];

    /// <summary>Cycles from each exit until the guest resumes: the exit itself and its handler's work.</summary>
    public readonly ulong[] CyclesByExit = new ulong[ExitReasons.Count];

    public CounterSet Snapshot()
    {
        var byKind = CyclesByKind.ToArray();
        byKind[(int)CostKind.Access] = (ulong)Accesses * AccessPrice;
        return new(Accesses, TotalCycles, TlbHits, TlbMisses, WalkRefs, HvRefs, GuestFaults, HostFaults, Segv, Exits, Mmio,
            PagesGuestPt, PagesShadow, PagesEpt, PagesHost, [.. ExitsByReason], [.. byKind], [.. CyclesByExit]);
    }
}

/// <summary>The counters at one moment, as a plain value that can be subtracted (deltas between marks) and printed.</summary>
public sealed record CounterSet(
    long Accesses, ulong Cycles, long TlbHits, long TlbMisses, long WalkRefs, long HvRefs, long GuestFaults,
    long HostFaults, long Segv, long Exits, long Mmio, long PagesGuestPt, long PagesShadow, long PagesEpt,
    long PagesHost, ImmutableArray<long> ExitsByReason, ImmutableArray<ulong> CyclesByKind, ImmutableArray<ulong> CyclesByExit)
{
    public static CounterSet Zero { get; } = new Counters().Snapshot();

    /// <summary>The value of a counter by its language name (<c>tlb.hits</c>, <c>exits.EPT_VIOLATION</c>...).</summary>
    public long Get(string name) => name switch
    {
        "accesses" => Accesses,
        "cycles" => (long)Cycles,
        "tlb.hits" => TlbHits,
        "tlb.misses" => TlbMisses,
        "walk.refs" => WalkRefs,
        "hv.refs" => HvRefs,
        "faults.guest" => GuestFaults,
        "faults.host" => HostFaults,
        "faults.segv" => Segv,
        "exits" => Exits,
        "mmio" => Mmio,
        "pages.guest-pt" => PagesGuestPt,
        "pages.shadow" => PagesShadow,
        "pages.ept" => PagesEpt,
        "pages.host" => PagesHost,
        _ when name.StartsWith("exits.", StringComparison.Ordinal) => ExitCount(name["exits.".Length..]),
        _ => throw new ArgumentException($"unknown counter '{name}'", nameof(name)),
    };

    private long ExitCount(string reason)
    {
        for (var i = 0; i < ExitReasons.Count; i++)
            if (((ExitReason)i).Name() == reason) return ExitsByReason[i];
        throw new ArgumentException($"unknown exit reason '{reason}'", nameof(reason));
    }

    /// <summary>The counters in report order, with <c>exits.REASON</c> for every reason that occurred.</summary>
    public IEnumerable<(string Name, long Value)> Named()
    {
        foreach (var name in Vocabulary.Counters) yield return (name, Get(name));
        for (var i = 0; i < ExitReasons.Count; i++)
            if (ExitsByReason[i] != 0) yield return ("exits." + ((ExitReason)i).Name(), ExitsByReason[i]);
    }

    /// <summary>The change from <paramref name="earlier"/> to this; page counts are differences too.</summary>
    public CounterSet Subtract(CounterSet earlier) => new(
        Accesses - earlier.Accesses, Cycles - earlier.Cycles, TlbHits - earlier.TlbHits, TlbMisses - earlier.TlbMisses,
        WalkRefs - earlier.WalkRefs, HvRefs - earlier.HvRefs, GuestFaults - earlier.GuestFaults,
        HostFaults - earlier.HostFaults, Segv - earlier.Segv, Exits - earlier.Exits, Mmio - earlier.Mmio,
        PagesGuestPt - earlier.PagesGuestPt, PagesShadow - earlier.PagesShadow, PagesEpt - earlier.PagesEpt,
        PagesHost - earlier.PagesHost,
        [.. ExitsByReason.Zip(earlier.ExitsByReason, (a, b) => a - b)],
        [.. CyclesByKind.Zip(earlier.CyclesByKind, (a, b) => a - b)],
        [.. CyclesByExit.Zip(earlier.CyclesByExit, (a, b) => a - b)]);
}
