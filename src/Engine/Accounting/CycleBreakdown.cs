using System.Collections.Immutable;

namespace MemScript.Engine.Accounting;

/// <summary>Groups cost kinds into the categories reports show (from <see cref="ChargeKinds"/>): where the cycles went.</summary>
public static class CycleBreakdown
{
    public static readonly ImmutableArray<(string Category, ImmutableArray<CostKind> Kinds)> Categories =
    [
        .. ChargeKinds.All.Select(k => k.Category).Distinct()
            .Select(c => (c, ChargeKinds.All.Where(k => k.Category == c).Select(k => k.Kind).ToImmutableArray())),
    ];

    public static IEnumerable<(string Category, ulong Cycles)> Of(CounterSet counters) =>
        Categories.Select(c => (c.Category, c.Kinds.Aggregate(0UL, (sum, k) => sum + counters.CyclesByKind[(int)k])));
}
