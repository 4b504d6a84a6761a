using System.Collections.Immutable;

namespace MemScript.Engine.Accounting;

/// <summary>What a cycle charge is for: each kind is priced by one named <see cref="Cost"/> (zero-page is charged to guest or host).</summary>
public enum CostKind
{
    Access, WalkRef, HvRef, SlotLookup, VmExit, GuestFault, HostFault, ZeroPageGuest, ZeroPageHost,
    PteWrite, Emulate, ShadowFill, EptFill, Cr3Switch, MmioExit,
}

/// <summary>One kind of charge: the cost that prices it and the category reports show it under.</summary>
public sealed record ChargeKind(CostKind Kind, Cost Price, string Category);

/// <summary>The table of charge kinds, indexed by <see cref="CostKind"/>; categories in report order.</summary>
public static class ChargeKinds
{
    public static readonly ImmutableArray<ChargeKind> All =
    [
        new(CostKind.Access, Cost.Access, "accesses"),
        new(CostKind.WalkRef, Cost.WalkRef, "hardware page walks"),
        new(CostKind.HvRef, Cost.HvRef, "software walks, slot lookups"),
        new(CostKind.SlotLookup, Cost.SlotLookup, "software walks, slot lookups"),
        new(CostKind.VmExit, Cost.VmExit, "VM exits and entries"),
        new(CostKind.GuestFault, Cost.GuestFault, "guest page faults"),
        new(CostKind.HostFault, Cost.HostFault, "host page faults"),
        new(CostKind.ZeroPageGuest, Cost.ZeroPage, "guest page faults"),
        new(CostKind.ZeroPageHost, Cost.ZeroPage, "host page faults"),
        new(CostKind.PteWrite, Cost.PteWrite, "guest page faults"),
        new(CostKind.Emulate, Cost.Emulate, "emulated PT writes"),
        new(CostKind.ShadowFill, Cost.ShadowFill, "shadow/EPT fills"),
        new(CostKind.EptFill, Cost.EptFill, "shadow/EPT fills"),
        new(CostKind.Cr3Switch, Cost.Cr3Switch, "CR3 loads"),
        new(CostKind.MmioExit, Cost.MmioExit, "MMIO to the VMM"),
    ];
}

/// <summary>
/// The cycle prices of SEMANTICS.md section 8, by <see cref="Cost"/>, with the defaults of
/// <see cref="Vocabulary.Costs"/>; any can be overridden by <c>cost NAME VALUE</c>.
/// </summary>
public sealed record CostModel(ImmutableArray<ulong> Values, ulong? ShadowPages)
{
    public static CostModel Default { get; } = new([.. Vocabulary.Costs.Select(c => c.Default ?? 0)], null);

    public ulong this[Cost cost] => Values[(int)cost];

    public ulong Access => this[Cost.Access];
    public ulong WalkRef => this[Cost.WalkRef];
    public ulong HvRef => this[Cost.HvRef];
    public ulong SlotLookup => this[Cost.SlotLookup];
    public ulong VmExit => this[Cost.VmExit];

    public static CostModel FromOverrides(IEnumerable<(string Name, ulong Value)> overrides)
    {
        var values = Default.Values.ToArray();
        ulong? shadowPages = null;
        foreach (var (name, value) in overrides)
        {
            if (!Vocabulary.TryParseCost(name, out var cost)) throw new ArgumentException($"unknown cost '{name}'", nameof(overrides));
            if (cost == Cost.ShadowPages) shadowPages = value;
            else values[(int)cost] = value;
        }
        return new([.. values], shadowPages);
    }

    /// <summary>Prices indexed by <see cref="CostKind"/>, for the hot path.</summary>
    public ulong[] Prices() => [.. ChargeKinds.All.Select(k => this[k.Price])];
}
