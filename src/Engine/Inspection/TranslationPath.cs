using System.Collections.Immutable;
using MemScript.Engine.Translation;
using MemScript.Language.Checking;
using MemScript.Language.Syntax;

namespace MemScript.Engine.Inspection;

/// <summary>One entry read by a walk: its level, the table it sits in (guest-physical or host-physical), its index and raw value.</summary>
public sealed record WalkStep(int Level, ulong Table, int Index, ulong Entry);

/// <summary>How the walk of one guest-physical address through EPT went.</summary>
public sealed record EptPath(ulong Gpa, ImmutableArray<WalkStep> Steps, EptResult Result, ulong Hpa);

/// <summary>One guest page-table entry read on the way, with the EPT walk that translated its table first (in ept).</summary>
public sealed record GuestStep(WalkStep Entry, EptPath? TableTranslation);

/// <summary>
/// The whole translation of one guest-virtual address in one mode at one moment: the guest walk (with
/// EPT nested under each table in ept), the shadow walk (in shadow), the slot, host-virtual and
/// host-physical addresses, what a TLB miss here costs, and where and why a walk would stop.
/// </summary>
public sealed record TranslationPath(
    string Process,
    MmuMode Mode,
    ulong Gva,
    ulong Cr3,
    int GuestLevels,
    ImmutableArray<GuestStep> GuestSteps,
    ulong? Gpa,
    EptPath? FinalTranslation,
    ImmutableArray<WalkStep> ShadowSteps,
    SlotInfo? Slot,
    ulong? Hva,
    ulong? Hpa,
    int MissReferences,
    int HypervisorReferences,
    ulong MissCycles,
    string Outcome)
{
    public bool Complete => Hpa is not null || (Gpa is not null && Slot is null);

    /// <summary>State that decides what the next access costs but is not on the path: an unsync shadow table, a clean or dirty page.</summary>
    public ImmutableArray<string> Notes { get; init; } = [];
}
