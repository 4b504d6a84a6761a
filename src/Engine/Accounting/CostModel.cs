using System.Collections.Immutable;

namespace MemScript.Engine.Accounting;

/// <summary>What a cycle charge is for; several kinds share one price (zero-page is charged to guest or host).</summary>
public enum CostKind
{
    Access, WalkRef, HvRef, SlotLookup, VmExit, GuestFault, HostFault, ZeroPageGuest, ZeroPageHost,
    PteWrite, Emulate, ShadowFill, EptFill, Cr3Switch, MmioExit,
}

/// <summary>The cycle prices of SEMANTICS.md section 8, with its defaults; any can be overridden by <c>cost NAME VALUE</c>.</summary>
public sealed record CostModel
{
    public ulong Access { get; init; } = 1;
    public ulong WalkRef { get; init; } = 30;
    public ulong HvRef { get; init; } = 40;
    public ulong SlotLookup { get; init; } = 20;
    public ulong VmExit { get; init; } = 1200;
    public ulong GuestFault { get; init; } = 1500;
    public ulong HostFault { get; init; } = 2000;
    public ulong ZeroPage { get; init; } = 400;
    public ulong PteWrite { get; init; } = 10;
    public ulong Emulate { get; init; } = 800;
    public ulong ShadowFill { get; init; } = 300;
    public ulong EptFill { get; init; } = 300;
    public ulong Cr3Switch { get; init; } = 100;
    public ulong MmioExit { get; init; } = 4000;

    /// <summary>The shadow-table limit when set by <c>cost shadow-pages N</c>; null means KVM's default.</summary>
    public ulong? ShadowPages { get; init; }

    public static CostModel Default { get; } = new();

    public static CostModel FromOverrides(IEnumerable<(string Name, ulong Value)> overrides)
    {
        var model = Default;
        foreach (var (name, value) in overrides)
        {
            model = name switch
            {
                "access" => model with { Access = value },
                "walk-ref" => model with { WalkRef = value },
                "hv-ref" => model with { HvRef = value },
                "slot-lookup" => model with { SlotLookup = value },
                "vm-exit" => model with { VmExit = value },
                "guest-fault" => model with { GuestFault = value },
                "host-fault" => model with { HostFault = value },
                "zero-page" => model with { ZeroPage = value },
                "pte-write" => model with { PteWrite = value },
                "emulate" => model with { Emulate = value },
                "shadow-fill" => model with { ShadowFill = value },
                "ept-fill" => model with { EptFill = value },
                "cr3-switch" => model with { Cr3Switch = value },
                "mmio-exit" => model with { MmioExit = value },
                "shadow-pages" => model with { ShadowPages = value },
                _ => throw new ArgumentException($"unknown cost '{name}'", nameof(overrides)),
            };
        }
        return model;
    }

    /// <summary>Prices indexed by <see cref="CostKind"/>, for the hot path.</summary>
    public ImmutableArray<ulong> Prices() =>
    [
        Access, WalkRef, HvRef, SlotLookup, VmExit, GuestFault, HostFault, ZeroPage, ZeroPage,
        PteWrite, Emulate, ShadowFill, EptFill, Cr3Switch, MmioExit,
    ];
}
