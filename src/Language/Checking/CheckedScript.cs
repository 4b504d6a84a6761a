using System.Collections.Immutable;
using MemScript.Language.Syntax;

namespace MemScript.Language.Checking;

/// <summary>The machine declarations of a file, evaluated, with the language's defaults filled in.</summary>
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
    ulong ClockHz)
{
    public static MachineDeclarations Defaults { get; } =
        new(MmuMode.Ept, 4, 4, 1536, 12, false, 32, true, false, [], 3_000_000_000);
}

/// <summary>A memslot with evaluated fields (struct kvm_userspace_memory_region plus the host page size).</summary>
public sealed record SlotInfo(ulong Id, ulong Gpa, ulong Size, ulong Hva, PageSize Backing, bool Readonly, bool DirtyLog, TextSpan Span)
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
