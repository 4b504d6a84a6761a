using System.Collections.Immutable;

namespace MemScript.Model;

/// <summary>The counters of a run, in the order reports print them (the index of <see cref="Vocabulary.Counters"/>).</summary>
public enum CounterId
{
    Accesses, Cycles, TlbHits, TlbMisses, WalkRefs, HvRefs, GuestFaults, HostFaults, Segv, Exits, Mmio,
    PagesGuestPt, PagesShadow, PagesEpt, PagesHost,
    DirtyLogged, DirtyCollected, ShadowUnsync, ShadowSynced, ShadowPrefetched, ShadowZapped,
}

/// <summary>VM exit reasons the model produces, in report order (the index of <see cref="Vocabulary.ExitReasons"/>).</summary>
public enum ExitReason { ExceptionNmi, Invlpg, CrAccess, EptViolation, EptMisconfig, PmlFull, MmuTrap }

/// <summary>The named costs of the cost model (SEMANTICS.md section 8), in its order (the index of <see cref="Vocabulary.Costs"/>).</summary>
public enum Cost
{
    Access, WalkRef, HvRef, SlotLookup, VmExit, GuestFault, HostFault, ZeroPage, PteWrite, Emulate, ShadowFill, EptFill,
    Cr3Switch, MmioExit, ShadowPages,
}

/// <summary>One MMU mode: its name in the language and what it models.</summary>
public sealed record ModeInfo(MmuMode Mode, string Name, string Meaning);

/// <summary>One counter: its name in the language (<c>expect</c>, reports) and what it counts.</summary>
public sealed record CounterInfo(CounterId Id, string Name, string Meaning);

/// <summary>One exit reason: its name, its VMX basic exit reason number (none for this model's own) and when it happens.</summary>
public sealed record ExitReasonInfo(ExitReason Reason, string Name, int? Number, string Meaning);

/// <summary>One cost: its name in <c>cost NAME VALUE</c>, its default (null: computed, see SEMANTICS.md) and what it is charged for.</summary>
public sealed record CostInfo(Cost Cost, string Name, ulong? Default, string Meaning);

/// <summary>
/// The fixed words of the language that name engine concepts, one table per concept: the checker, the
/// parser's word lists, the engine's counters and costs, the printers and the docs all read these
/// tables, and a test fails if anything disagrees with them. Each table is indexed by its enum.
/// </summary>
public static class Vocabulary
{
    public static readonly ImmutableArray<ModeInfo> Modes =
    [
        new(MmuMode.Native, "native", "no virtualization: the hardware walks the guest's tables"),
        new(MmuMode.Software, "software", "every TLB miss traps to a hypervisor that walks the guest's tables in software"),
        new(MmuMode.Shadow, "shadow", "KVM's shadow page tables map guest-virtual straight to host-physical"),
        new(MmuMode.Ept, "ept", "the hardware walks the guest's tables and EPT in two dimensions"),
    ];

    public static readonly ImmutableArray<CounterInfo> Counters =
    [
        new(CounterId.Accesses, "accesses", "memory accesses of the timeline"),
        new(CounterId.Cycles, "cycles", "cycles charged by the cost model"),
        new(CounterId.TlbHits, "tlb.hits", "TLB lookups whose entry allowed the access"),
        new(CounterId.TlbMisses, "tlb.misses", "TLB lookups that missed or lacked a permission, retries included"),
        new(CounterId.WalkRefs, "walk.refs", "memory references of hardware page walks"),
        new(CounterId.HvRefs, "hv.refs", "guest entries read by a software walker (KVM's or the software MMU's)"),
        new(CounterId.GuestFaults, "faults.guest", "guest page faults"),
        new(CounterId.HostFaults, "faults.host", "host pages faulted in behind the memslots"),
        new(CounterId.Segv, "faults.segv", "accesses the guest kernel refused (SIGSEGV) or a non-canonical address (#GP)"),
        new(CounterId.Exits, "exits", "VM exits of every reason"),
        new(CounterId.Mmio, "mmio", "accesses handed to the VMM in user space (KVM_EXIT_MMIO)"),
        new(CounterId.PagesGuestPt, "pages.guest-pt", "guest page-table pages"),
        new(CounterId.PagesShadow, "pages.shadow", "live shadow page tables"),
        new(CounterId.PagesEpt, "pages.ept", "EPT tables"),
        new(CounterId.PagesHost, "pages.host", "host pages behind the memslots"),
        new(CounterId.DirtyLogged, "dirty.logged", "first writes to clean pages of dirty-log slots"),
        new(CounterId.DirtyCollected, "dirty.collected", "dirty pages read and cleared by collect dirty"),
        new(CounterId.ShadowUnsync, "shadow.unsync", "guest leaf tables KVM let go unsync instead of emulating a write"),
        new(CounterId.ShadowSynced, "shadow.synced", "unsync shadow tables synced again at a CR3 load"),
        new(CounterId.ShadowPrefetched, "shadow.prefetched", "shadow leaves KVM prefetched beside a fault"),
        new(CounterId.ShadowZapped, "shadow.zapped", "shadow tables KVM zapped (the limit, or write flooding)"),
    ];

    public static readonly ImmutableArray<ExitReasonInfo> ExitReasons =
    [
        new(ExitReason.ExceptionNmi, "EXCEPTION_NMI", 0, "a #PF under shadow paging: a shadow miss, a trapped page-table write, an MMIO entry"),
        new(ExitReason.Invlpg, "INVLPG", 14, "the guest's INVLPG under shadow paging"),
        new(ExitReason.CrAccess, "CR_ACCESS", 28, "a CR3 load under shadow paging"),
        new(ExitReason.EptViolation, "EPT_VIOLATION", 48, "a walk met a non-present or forbidding EPT entry"),
        new(ExitReason.EptMisconfig, "EPT_MISCONFIG", 49, "an access reached KVM's MMIO entry in EPT"),
        new(ExitReason.PmlFull, "PML_FULL", 62, "a write to log found the 512-entry page-modification log full"),
        new(ExitReason.MmuTrap, "MMU_TRAP", null, "a TLB miss under the software MMU (this model's own reason)"),
    ];

    public static readonly ImmutableArray<CostInfo> Costs =
    [
        new(Cost.Access, "access", 1, "every access"),
        new(Cost.WalkRef, "walk-ref", 30, "each hardware page-walk reference"),
        new(Cost.HvRef, "hv-ref", 40, "each guest entry read by a software walker"),
        new(Cost.SlotLookup, "slot-lookup", 20, "each guest-physical address translated by software"),
        new(Cost.VmExit, "vm-exit", 1200, "each VM exit and re-entry, before handler work"),
        new(Cost.GuestFault, "guest-fault", 1500, "the guest kernel's page-fault handler"),
        new(Cost.HostFault, "host-fault", 2000, "the host kernel's page-fault handler"),
        new(Cost.ZeroPage, "zero-page", 400, "zeroing 4 KiB (a 2 MiB page costs 512 times that)"),
        new(Cost.PteWrite, "pte-write", 10, "each page-table entry the guest kernel writes"),
        new(Cost.Emulate, "emulate", 800, "KVM emulating one trapped page-table write"),
        new(Cost.ShadowFill, "shadow-fill", 300, "KVM building shadow entries for one fault"),
        new(Cost.EptFill, "ept-fill", 300, "KVM installing an EPT mapping for one violation"),
        new(Cost.Cr3Switch, "cr3-switch", 100, "each CR3 load"),
        new(Cost.MmioExit, "mmio-exit", 4000, "a round trip to the VMM in user space"),
        new(Cost.ShadowPages, "shadow-pages", null, "not a cost: the shadow-table limit (default: 2% of the writable guest frames, at least 64)"),
    ];

    // ---------------------------------------------------------------- names

    public static string ModeName(MmuMode mode) => Modes[(int)mode].Name;

    public static string Name(this CounterId counter) => Counters[(int)counter].Name;

    public static string Name(this ExitReason reason) => ExitReasons[(int)reason].Name;

    /// <summary>The VMX basic exit reason number; MMU_TRAP is this model's own and has none.</summary>
    public static int? Number(this ExitReason reason) => ExitReasons[(int)reason].Number;

    public static string Name(this Cost cost) => Costs[(int)cost].Name;

    public static readonly ImmutableArray<MmuMode> AllModes = [.. Modes.Select(m => m.Mode)];

    public static bool TryParseMode(string text, out MmuMode mode) => TryFind(Modes, m => m.Name, text, m => m.Mode, out mode);

    public static MmuMode ParseMode(string text) =>
        TryParseMode(text, out var mode) ? mode : throw new ArgumentException($"unknown mode '{text}'", nameof(text));

    public static bool TryParseCounter(string text, out CounterId counter) => TryFind(Counters, c => c.Name, text, c => c.Id, out counter);

    public static bool TryParseExitReason(string text, out ExitReason reason) => TryFind(ExitReasons, r => r.Name, text, r => r.Reason, out reason);

    public static bool TryParseCost(string text, out Cost cost) => TryFind(Costs, c => c.Name, text, c => c.Cost, out cost);

    /// <summary>Whether <c>expect</c> can name it: a counter, or <c>exits.REASON</c>.</summary>
    public static bool IsCounter(string name) =>
        TryParseCounter(name, out _) || (name.StartsWith("exits.", StringComparison.Ordinal) && TryParseExitReason(name["exits.".Length..], out _));

    /// <summary>Every name <c>expect</c> accepts, in report order: the counters, then <c>exits.REASON</c> for each reason.</summary>
    public static IEnumerable<string> CounterNames() => Counters.Select(c => c.Name).Concat(ExitReasons.Select(r => "exits." + r.Name));

    private static bool TryFind<TInfo, TKey>(ImmutableArray<TInfo> table, Func<TInfo, string> name, string text, Func<TInfo, TKey> key, out TKey found)
    {
        foreach (var info in table)
        {
            if (name(info) != text) continue;
            found = key(info);
            return true;
        }
        found = default!;
        return false;
    }
}
