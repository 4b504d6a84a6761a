using MemScript.Engine.Accounting;
using MemScript.Language.Checking;

namespace MemScript.Engine;

/// <summary>Everything that configures one simulated machine, with the language's defaults.</summary>
public sealed record MachineOptions
{
    public MmuMode Mode { get; init; } = MmuMode.Ept;
    public int GuestLevels { get; init; } = 4;
    public int HostLevels { get; init; } = 4;
    public int TlbEntries { get; init; } = 1536;
    public int TlbWays { get; init; } = 12;
    public bool Pwc { get; init; }
    public int PwcEntries { get; init; } = 32;

    /// <summary>The separate 1 GiB TLB (0: none, 1 GiB entries share the main TLB).</summary>
    /// <summary>The profile the options came from (the features below are its values unless declared).</summary>
    public Profile Profile { get; init; } = Profile.Classic;

    public int Tlb1GEntries { get; init; }
    public int Tlb1GWays { get; init; } = 4;

    /// <summary>KVM's unsync leaf shadow tables (13.2).</summary>
    public bool ShadowUnsync { get; init; }

    /// <summary>KVM's shadow PTE prefetch: the size of the guest-entry block read around a fault (0: off).</summary>
    public int ShadowPrefetch { get; init; }

    /// <summary>The emulated writes to a shadowed upper-level table that zap its shadow table (0: never).</summary>
    public int ShadowFlood { get; init; }

    /// <summary>EPT accessed and dirty flags (13.3).</summary>
    public bool EptAd { get; init; }

    /// <summary>How writes to dirty-log slots are logged (13.4).</summary>
    public DirtyTrack DirtyTrack { get; init; } = DirtyTrack.Free;
    public bool Vpid { get; init; } = true;
    public bool Pcid { get; init; }
    public CostModel Costs { get; init; } = CostModel.Default;
    public ulong ClockHz { get; init; } = 3_000_000_000;

    /// <summary>A run stops with an error after this many accesses (0: no limit).</summary>
    public long MaxAccesses { get; init; }

    /// <summary>
    /// Upper bound on guest page-table, EPT and shadow pages together (1 GiB of tables: enough to map
    /// 512 GiB with 4 KiB pages), so a hostile scenario cannot exhaust memory.
    /// </summary>
    public long MaxTablePages { get; init; } = 262_144;

    /// <summary>Upper bound on host pages faulted in.</summary>
    public long MaxHostPages { get; init; } = 16_000_000;

    /// <summary>
    /// The acceleration layer (src/Engine/Acceleration): walk memo, remembered paths, the retry shortcut
    /// and the lookahead window. The results are identical either way; off only to check that they are.
    /// </summary>
    public bool Accelerate { get; init; } = true;

    public static MachineOptions From(MachineDeclarations d, MmuMode mode) => new()
    {
        Mode = mode,
        GuestLevels = d.GuestLevels,
        HostLevels = d.HostLevels,
        TlbEntries = d.TlbEntries,
        TlbWays = d.TlbWays,
        Pwc = d.Pwc,
        PwcEntries = d.PwcEntries,
        Vpid = d.Vpid,
        Pcid = d.Pcid,
        Costs = CostModel.FromOverrides(d.Costs),
        ClockHz = d.ClockHz,
        Profile = d.Profile,
        Tlb1GEntries = d.Tlb1GEntries,
        Tlb1GWays = d.Tlb1GWays,
        ShadowUnsync = d.ShadowUnsync,
        ShadowPrefetch = d.ShadowPrefetch,
        ShadowFlood = d.ShadowFlood,
        EptAd = d.EptAd,
        DirtyTrack = d.DirtyTrack,
    };
}
