using System.Collections.Immutable;

namespace MemScript.Engine.Accounting;

/// <summary>Groups cost kinds into the categories reports show: where the cycles went.</summary>
public static class CycleBreakdown
{
    public static readonly ImmutableArray<(string Category, ImmutableArray<CostKind> Kinds)> Categories =
    [
        ("accesses", [CostKind.Access]),
        ("hardware page walks", [CostKind.WalkRef]),
        ("software walks, slot lookups", [CostKind.HvRef, CostKind.SlotLookup]),
        ("VM exits and entries", [CostKind.VmExit]),
        ("guest page faults", [CostKind.GuestFault, CostKind.ZeroPageGuest, CostKind.PteWrite]),
        ("host page faults", [CostKind.HostFault, CostKind.ZeroPageHost]),
        ("emulated PT writes", [CostKind.Emulate]),
        ("shadow/EPT fills", [CostKind.ShadowFill, CostKind.EptFill]),
        ("CR3 loads", [CostKind.Cr3Switch]),
        ("MMIO to the VMM", [CostKind.MmioExit]),
    ];

    public static IEnumerable<(string Category, ulong Cycles)> Of(CounterSet counters) =>
        Categories.Select(c => (c.Category, c.Kinds.Aggregate(0UL, (sum, k) => sum + counters.CyclesByKind[(int)k])));
}
