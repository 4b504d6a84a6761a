using MemScript.Engine.Accounting;
using MemScript.Engine.Guest;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;

namespace MemScript.Engine.Modes;

/// <summary>
/// The seed's first design (SEMANTICS.md section 6): the hypervisor keeps the guest's translations in
/// software. Every TLB miss traps (MMU_TRAP); the hypervisor walks the guest table in software and
/// fills the TLB. Page-table writes, CR3 writes and INVLPG do not trap.
/// </summary>
internal sealed class SoftwareMode(Machine machine) : TranslationMode(machine)
{
    public override MmuMode Kind => MmuMode.Software;

    public override FillOutcome Fill(ulong gva, AccessKind kind, bool kernel)
    {
        if (M.Tracing) M.Emit(new TlbMissEvent(M.Cycle, M.AccessNumber, new Gva(gva), kind, 0));
        M.Exit(ExitReason.MmuTrap, M.Tracing ? new MmuTrapExit(M.Cycle, M.AccessNumber, new Gva(gva), kind) : null);
        var walk = GuestWalk.From(M.Kernel.Current!.Root, M.Levels);
        var policy = new SoftwarePolicy(M, dry: false);
        GuestWalker.Walk(M.Kernel.Tables, gva, ref walk, ref policy);
        if (walk.End != WalkEnd.Leaf) return M.Kernel.GuestFault(gva, kind, kernel, notPresent: true);
        if (!Machine.Allows(walk.Perms, kind, kernel)) return M.Kernel.GuestFault(gva, kind, kernel, notPresent: false);
        M.Charge(CostKind.SlotLookup);
        var gpa = walk.LeafAddress(gva);
        var slot = M.FindSlot(gpa);
        if (slot is null || (slot.Readonly && kind == AccessKind.Write)) return M.Mmio(gva, gpa, kind);
        M.TouchHost(slot, gpa);
        // The software MMU maps host memory as KVM would: an entry never spans two host pages or two slots.
        var size = PagingLevels.Min(walk.LeafSize, Machine.HostMapSize(slot, gpa));
        // Under the wp dirty log a clean page's entry lacks W: a write to it misses and traps, and that fill logs it.
        var writable = walk.Perms.Writable && !slot.Readonly && WritableUnderWp(slot, gpa, kind);
        M.FillTlb(gva, kind, size, walk.LeafSize, Machine.ToTlbPerms(writable, walk.Perms.User, walk.Perms.Executable), gpa);
        return FillOutcome.Filled;
    }

    protected override string GuestFaultNote => " (the software MMU finds this after an MMU_TRAP and injects the #PF)";

    protected override void ExplainGuestWalk(ulong gva, ref GuestWalk walk)
    {
        var policy = new SoftwarePolicy(M, dry: true);
        GuestWalker.Walk(M.Kernel.Tables, gva, ref walk, ref policy);
    }

    protected override void ExplainMissCost(GuestProcess process, ulong gva, Explanation e)
    {
        // The software walk uses no paging-structure cache: the next miss reads what the path above shows.
        var walk = GuestWalk.From(process.Root, M.Levels);
        var policy = new SoftwarePolicy(M, dry: true);
        GuestWalker.Walk(M.Kernel.Tables, gva, ref walk, ref policy);
        var costs = M.Options.Costs;
        e.HypervisorReferences = walk.Refs;
        e.MissCycles = costs.VmExit + (ulong)walk.Refs * costs.HvRef + (ulong)(walk.Refs + (walk.End == WalkEnd.Leaf ? 1 : 0)) * costs.SlotLookup;
    }
}
