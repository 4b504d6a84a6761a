using System.Collections.Immutable;
using MemScript.Language.Syntax;

namespace MemScript.Language.Checking;

/// <summary>
/// The machine declarations of a file, evaluated and RESOLVED: the profile's defaults (SEMANTICS.md 13)
/// for every feature the file does not declare, the file's own declaration for every one it does
/// (whatever their order), and the language's defaults for the rest.
/// </summary>
public sealed record MachineDeclarations(
    MmuMode Mode,
    int GuestLevels,
    int HostLevels,
    int TlbEntries,
    int TlbWays,
    bool Pwc,
    int PwcEntries,
    bool Vpid,
    bool Pcid,
    ImmutableArray<(string Name, ulong Value)> Costs,
    ulong ClockHz,
    Profile Profile,
    int Tlb1GEntries,
    int Tlb1GWays,
    bool ShadowUnsync,
    int ShadowPrefetch,
    int ShadowFlood,
    bool EptAd,
    DirtyTrack DirtyTrack,
    ImmutableArray<string> Explicit)
{
    /// <summary>The language's defaults under the classic profile (v1 exactly).</summary>
    public static MachineDeclarations Defaults { get; } =
        new(MmuMode.Ept, 4, 4, 1536, 12, false, 32, true, false, [], 3_000_000_000,
            Profile.Classic, 0, 0, false, 0, 0, false, DirtyTrack.Free, []);

    /// <summary>The defaults with every profile feature at <paramref name="profile"/>'s value.</summary>
    public static MachineDeclarations ForProfile(Profile profile) => profile == Profile.Classic
        ? Defaults
        : Defaults with
        {
            Profile = Profile.Modern, Pwc = true, PwcEntries = 32, Tlb1GEntries = 16, Tlb1GWays = 4, ShadowUnsync = true,
            ShadowPrefetch = 8, ShadowFlood = 3, EptAd = true, DirtyTrack = DirtyTrack.Pml,
        };

    /// <summary>
    /// These declarations with one profile feature (a name of <see cref="ProfileFeatures.All"/>) taken from
    /// <paramref name="source"/>: how a report switches one feature to its classic value.
    /// </summary>
    public MachineDeclarations WithFeatureFrom(string feature, MachineDeclarations source) => feature switch
    {
        ProfileFeatures.Pwc => this with { Pwc = source.Pwc, PwcEntries = source.PwcEntries },
        ProfileFeatures.Tlb1G => this with { Tlb1GEntries = source.Tlb1GEntries, Tlb1GWays = source.Tlb1GWays },
        ProfileFeatures.ShadowUnsync => this with { ShadowUnsync = source.ShadowUnsync },
        ProfileFeatures.ShadowPrefetch => this with { ShadowPrefetch = source.ShadowPrefetch },
        ProfileFeatures.ShadowFlood => this with { ShadowFlood = source.ShadowFlood },
        ProfileFeatures.EptAd => this with { EptAd = source.EptAd },
        ProfileFeatures.DirtyTrack => this with { DirtyTrack = source.DirtyTrack },
        _ => throw new ArgumentException($"'{feature}' is not a profile feature", nameof(feature)),
    };
}

/// <summary>The features a profile sets (SEMANTICS.md 13), by the name of their declaration.</summary>
public static class ProfileFeatures
{
    public const string Pwc = "pwc";
    public const string Tlb1G = "tlb1g";
    public const string ShadowUnsync = "shadow unsync";
    public const string ShadowPrefetch = "shadow prefetch";
    public const string ShadowFlood = "shadow flood";
    public const string EptAd = "eptad";
    public const string DirtyTrack = "dirty-track";

    /// <summary>Every profile feature, in the order of SEMANTICS.md's table.</summary>
    public static readonly ImmutableArray<string> All = [Pwc, Tlb1G, ShadowUnsync, ShadowPrefetch, ShadowFlood, EptAd, DirtyTrack];
}

/// <summary>A memslot with evaluated fields (struct kvm_userspace_memory_region plus the host page size); <see cref="Prealloc"/>: host pages exist from VM creation.</summary>
public sealed record SlotInfo(ulong Id, ulong Gpa, ulong Size, ulong Hva, PageSize Backing, bool Readonly, bool DirtyLog, TextSpan Span, bool Prealloc = false)
{
    public ulong End => Gpa + Size;
}

public enum MappingKind { Map, Demand, DemandAll }

/// <summary>A process-block mapping with evaluated addresses.</summary>
public sealed record MappingInfo(MappingKind Kind, ulong Gva, ulong Size, PageSize Page, ulong Gpa, Perms Perms, TextSpan Span);

/// <summary>A guest process and the mappings it starts with.</summary>
public sealed record ProcessInfo(string Name, ImmutableArray<MappingInfo> Mappings, TextSpan Span);

/// <summary>A file that passed every check: what the engine needs to build the machine and run the timeline.</summary>
public sealed record CheckedScript(
    Script Syntax,
    MachineDeclarations Machine,
    ImmutableArray<SlotInfo> Slots,
    ImmutableArray<ProcessInfo> Processes,
    ImmutableArray<(ulong Start, ulong End)> MapTargets);
