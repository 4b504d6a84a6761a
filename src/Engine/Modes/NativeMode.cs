using MemScript.Engine.Guest;
using MemScript.Engine.Memory;

namespace MemScript.Engine.Modes;

/// <summary>
/// No virtualization (SEMANTICS.md section 3): slots are the machine's RAM, a guest-physical address is
/// the physical address, and a TLB miss walks the process's table in hardware.
/// </summary>
internal sealed class NativeMode(Machine machine) : TranslationMode(machine)
{
    public override MmuMode Kind => MmuMode.Native;

    public override bool HasVmm => false;

    public override FillOutcome Fill(ulong gva, AccessKind kind, bool kernel)
    {
        var walk = HardwareWalkStart(M.Kernel.Current!.Root, gva, M.Pwc, M.CurrentTag);
        var policy = new HardwarePolicy(M.Pwc, M.CurrentTag);
        GuestWalker.Walk(M.Kernel.Tables, gva, ref walk, ref policy);
        if (walk.End == WalkEnd.NotPresent)
        {
            M.CountWalk(gva, kind, walk.Refs);
            return M.Kernel.GuestFault(gva, kind, kernel, notPresent: true);
        }
        var gpa = walk.LeafAddress(gva);
        var slot = M.FindSlot(gpa);
        var allowed = Machine.Allows(walk.Perms, kind, kernel);
        if (slot is not null && allowed && !(slot.Readonly && kind == AccessKind.Write))
            return M.CompleteWalk(gva, kind, walk.Refs, walk.LeafSize, walk.LeafSize, walk.Perms, !slot.Readonly, true, gpa);
        M.CountWalk(gva, kind, walk.Refs);
        if (!allowed) return M.Kernel.GuestFault(gva, kind, kernel, notPresent: false);
        return M.Mmio(gva, gpa, kind);
    }

    protected override void ExplainGuestWalk(ulong gva, ref GuestWalk walk)
    {
        var policy = new HardwarePolicy(null, 0);
        GuestWalker.Walk(M.Kernel.Tables, gva, ref walk, ref policy);
    }

    protected override void ExplainMissCost(GuestProcess process, ulong gva, Explanation e)
    {
        var pwc = CachesForNextMiss(process, M.Pwc);
        var walk = HardwareWalkStart(process.Root, gva, pwc, M.TagOf(process));
        var policy = new HardwarePolicy(pwc, M.TagOf(process));
        GuestWalker.Walk(M.Kernel.Tables, gva, ref walk, ref policy);
        e.MissReferences = walk.Refs;
        e.MissCycles = (ulong)walk.Refs * M.Options.Costs.WalkRef;
    }
}
