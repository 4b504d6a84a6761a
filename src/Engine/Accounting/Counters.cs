using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace MemScript.Engine.Accounting;

/// <summary>
/// The live counters of one machine. Fields, not properties, so the hot path increments them directly;
/// <see cref="Snapshot"/> turns them into an immutable <see cref="CounterSet"/> indexed by <see cref="CounterId"/>.
/// </summary>
public sealed class Counters
{
    public long Accesses, TlbHits, TlbMisses, WalkRefs, HvRefs, GuestFaults, HostFaults, Segv, Exits, Mmio;
    public long PagesGuestPt, PagesShadow, PagesEpt, PagesHost;
    public long DirtyLogged, DirtyCollected, ShadowUnsync, ShadowSynced, ShadowPrefetched, ShadowZapped;
    /// <summary>Cycles of everything but the accesses themselves, which are charged lazily (see <see cref="TotalCycles"/>).</summary>
    public ulong Cycles;

    /// <summary>The price of one access: the hot path only counts accesses, and their cycles are derived.</summary>
    public ulong AccessPrice;

    public ulong TotalCycles => Cycles + (ulong)Accesses * AccessPrice;

    /// <summary>Whether <see cref="TotalCycles"/> would pass 2^64 - 1 (the accesses' lazy charge included).</summary>
    public bool CyclesOverflow => Math.BigMul((ulong)Accesses, AccessPrice, out var accessCycles) != 0 || Cycles + accessCycles < accessCycles;
    public readonly long[] ExitsByReason = new long[Vocabulary.ExitReasons.Length];
    public readonly ulong[] CyclesByKind = new ulong[ChargeKinds.All.Length];

    /// <summary>Cycles from each exit until the guest resumes: the exit itself and its handler's work.</summary>
    public readonly ulong[] CyclesByExit = new ulong[Vocabulary.ExitReasons.Length];

    /// <summary>The value of a counter now (the one place that maps <see cref="CounterId"/> to a field).</summary>
    public long this[CounterId id] => id switch
    {
        CounterId.Accesses => Accesses,
        CounterId.Cycles => (long)TotalCycles,
        CounterId.TlbHits => TlbHits,
        CounterId.TlbMisses => TlbMisses,
        CounterId.WalkRefs => WalkRefs,
        CounterId.HvRefs => HvRefs,
        CounterId.GuestFaults => GuestFaults,
        CounterId.HostFaults => HostFaults,
        CounterId.Segv => Segv,
        CounterId.Exits => Exits,
        CounterId.Mmio => Mmio,
        CounterId.PagesGuestPt => PagesGuestPt,
        CounterId.PagesShadow => PagesShadow,
        CounterId.PagesEpt => PagesEpt,
        CounterId.PagesHost => PagesHost,
        CounterId.DirtyLogged => DirtyLogged,
        CounterId.DirtyCollected => DirtyCollected,
        CounterId.ShadowUnsync => ShadowUnsync,
        CounterId.ShadowSynced => ShadowSynced,
        CounterId.ShadowPrefetched => ShadowPrefetched,
        CounterId.ShadowZapped => ShadowZapped,
        _ => throw new ArgumentOutOfRangeException(nameof(id), id, "a counter of the vocabulary without a field"),
    };

    public CounterSet Snapshot()
    {
        var byKind = CyclesByKind.ToArray();
        byKind[(int)CostKind.Access] = (ulong)Accesses * AccessPrice;
        var values = new long[Vocabulary.Counters.Length];
        for (var i = 0; i < values.Length; i++) values[i] = this[(CounterId)i];
        return new(ImmutableCollectionsMarshal.AsImmutableArray(values), [.. ExitsByReason], [.. byKind], [.. CyclesByExit]);
    }
}

/// <summary>The counters at one moment, as a plain value that can be subtracted (deltas between marks) and printed.</summary>
public sealed record CounterSet(ImmutableArray<long> Values, ImmutableArray<long> ExitsByReason, ImmutableArray<ulong> CyclesByKind, ImmutableArray<ulong> CyclesByExit)
{
    public static CounterSet Zero { get; } = new Counters().Snapshot();

    public long this[CounterId id] => Values[(int)id];

    public long Accesses => this[CounterId.Accesses];
    public ulong Cycles => (ulong)this[CounterId.Cycles];
    public long TlbHits => this[CounterId.TlbHits];
    public long TlbMisses => this[CounterId.TlbMisses];
    public long WalkRefs => this[CounterId.WalkRefs];
    public long HvRefs => this[CounterId.HvRefs];
    public long GuestFaults => this[CounterId.GuestFaults];
    public long HostFaults => this[CounterId.HostFaults];
    public long Segv => this[CounterId.Segv];
    public long Exits => this[CounterId.Exits];
    public long Mmio => this[CounterId.Mmio];
    public long PagesGuestPt => this[CounterId.PagesGuestPt];
    public long PagesShadow => this[CounterId.PagesShadow];
    public long PagesEpt => this[CounterId.PagesEpt];
    public long PagesHost => this[CounterId.PagesHost];
    public long DirtyLogged => this[CounterId.DirtyLogged];
    public long DirtyCollected => this[CounterId.DirtyCollected];
    public long ShadowUnsync => this[CounterId.ShadowUnsync];
    public long ShadowSynced => this[CounterId.ShadowSynced];
    public long ShadowPrefetched => this[CounterId.ShadowPrefetched];
    public long ShadowZapped => this[CounterId.ShadowZapped];

    /// <summary>The value of a counter by its language name (<c>tlb.hits</c>, <c>exits.EPT_VIOLATION</c>...).</summary>
    public long Get(string name)
    {
        if (Vocabulary.TryParseCounter(name, out var id)) return this[id];
        if (name.StartsWith("exits.", StringComparison.Ordinal) && Vocabulary.TryParseExitReason(name["exits.".Length..], out var reason))
            return ExitsByReason[(int)reason];
        throw new ArgumentException($"unknown counter '{name}'", nameof(name));
    }

    /// <summary>The counters in report order, with <c>exits.REASON</c> for every reason that occurred.</summary>
    public IEnumerable<(string Name, long Value)> Named()
    {
        foreach (var counter in Vocabulary.Counters) yield return (counter.Name, this[counter.Id]);
        foreach (var reason in Vocabulary.ExitReasons)
            if (ExitsByReason[(int)reason.Reason] != 0) yield return ("exits." + reason.Name, ExitsByReason[(int)reason.Reason]);
    }

    /// <summary>The change from <paramref name="earlier"/> to this; page counts are differences too.</summary>
    public CounterSet Subtract(CounterSet earlier) => new(
        [.. Values.Zip(earlier.Values, (a, b) => a - b)],
        [.. ExitsByReason.Zip(earlier.ExitsByReason, (a, b) => a - b)],
        [.. CyclesByKind.Zip(earlier.CyclesByKind, (a, b) => a - b)],
        [.. CyclesByExit.Zip(earlier.CyclesByExit, (a, b) => a - b)]);
}
