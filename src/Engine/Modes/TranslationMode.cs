using System.Collections.Immutable;
using MemScript.Engine.Guest;
using MemScript.Engine.Inspection;
using MemScript.Engine.Memory;
using MemScript.Engine.Translation;
using MemScript.Language.Checking;

namespace MemScript.Engine.Modes;

/// <summary>
/// One MMU mode: what a TLB miss does (walk, fault handling, fill), and how the mode reacts to the
/// guest's CR3 loads, INVLPG and page-table writes, and its part of explain. The access itself (the
/// TLB-hit path and the retry loop) is the machine's and the same in every mode. A mode is registered
/// in <see cref="ModeRegistry"/>.
/// </summary>
internal abstract class TranslationMode(Machine machine)
{
    protected readonly Machine M = machine;

    public abstract MmuMode Kind { get; }

    /// <summary>Whether a VMM runs beside the guest: MMIO is then a round trip to it (charged <c>mmio-exit</c>).</summary>
    public virtual bool HasVmm => true;

    /// <summary>Whether the mode must see each page-table write the guest kernel makes (<see cref="OnTableWrite"/>), so that none may be batched.</summary>
    public virtual bool SeesTableWrites => false;

    /// <summary>The shadow-table limit, where the mode has shadow tables.</summary>
    public virtual int? ShadowPageLimit => null;

    /// <summary>A TLB miss of <paramref name="gva"/>: fills the TLB, or faults (retry, drop) or goes to MMIO.</summary>
    public abstract FillOutcome Fill(ulong gva, AccessKind kind, bool kernel);

    /// <summary>After the machine loaded CR3 with <paramref name="process"/>'s root (and flushed what that flushes).</summary>
    public virtual void OnCr3Load(GuestProcess process)
    {
    }

    /// <summary>After the guest's INVLPG (the machine has invalidated the TLB unless the address is not canonical, a NOP).</summary>
    public virtual void OnInvlpg(ulong gva, bool canonical)
    {
    }

    /// <summary>After the guest kernel wrote entry <paramref name="index"/> of its table at <paramref name="table"/>.</summary>
    public virtual void OnTableWrite(ulong table, int level, int index)
    {
    }

    /// <summary><c>collect dirty</c> made these pages (guest-physical, in order) clean again; before the machine flushes the TLB.</summary>
    public virtual void OnDirtyCollected(IReadOnlyList<ulong> pages)
    {
    }

    /// <summary>
    /// Whether a leaf for <paramref name="gpa"/> may be writable for this access under the wp dirty log
    /// (13.4): a clean page of a dirty-log slot is mapped without W until a write logs it, which this
    /// does when <paramref name="kind"/> is a write.
    /// </summary>
    protected bool WritableUnderWp(SlotInfo slot, ulong gpa, AccessKind kind)
    {
        if (!slot.DirtyLog || M.Dirty.Method != DirtyTrack.Wp || !M.Dirty.IsClean(slot, gpa)) return true;
        if (kind != AccessKind.Write) return false;
        M.LogWrite(gpa);
        return true;
    }

    // ------------------------------------------------------------ explain

    /// <summary>
    /// Explains <paramref name="gva"/> in <paramref name="process"/> as the tables stand now, changing
    /// nothing: every entry of the translation path from the root, where a walk would stop and why, and
    /// what the next TLB miss there costs (from the same walk code the run uses, paging-structure caches
    /// included, on copies of them).
    /// </summary>
    public TranslationPath Explain(GuestProcess process, ulong gva)
    {
        if (!M.IsCanonical(gva))
            return new TranslationPath(process.Name, Kind, gva, process.Root, M.Levels, [], null, null, [], null, null, null, 0, 0, 0,
                $"{Hex.Format(gva)} is not canonical with {M.VirtualBits}-bit addresses: the access faults (#GP) before any walk, and the guest kills the process");

        var recorder = new WalkRecorder();
        var walk = GuestWalk.From(process.Root, M.Levels, recorder);
        ExplainGuestWalk(gva, ref walk);
        var e = new Explanation { Steps = recorder.GuestSteps };
        if (walk.End == WalkEnd.NotPresent)
        {
            var vma = M.Kernel.FaultVma(process, gva);
            e.Outcome = $"the guest's level-{walk.Level} entry is not present: a guest page fault (#PF)"
                        + (vma is { Kind: VmaKind.Demand } ? $"; {Hex.Format(gva)} is in a demand region, so the guest kernel allocates the page and the access retries"
                                                           : "; no region covers it, so the guest kernel sends SIGSEGV")
                        + GuestFaultNote;
        }
        else if (walk.End == WalkEnd.Leaf)
        {
            var gpa = walk.LeafAddress(gva);
            e.Gpa = gpa;
            e.Slot = M.FindSlot(gpa);
            if (e.Slot is { } slot)
            {
                e.Hva = Memslots.HvaOf(slot, gpa);
                if (HasVmm && M.Host.TryGet(e.Hva.Value, slot.Backing, out var page))
                    e.Hpa = page + (e.Hva.Value & (slot.Backing.Bytes() - 1));
            }
            ExplainLeaf(gva, walk, recorder, e);
        }
        else
        {
            e.Outcome = BlockedOutcome(walk);
        }
        ExplainAfterWalk(process, gva, walk, e);
        ExplainMissCost(process, gva, e);
        if (e.Slot is { DirtyLog: true } logged) e.Notes.Add(DirtyNote(logged, e.Gpa!.Value));
        return new TranslationPath(process.Name, Kind, gva, process.Root, M.Levels, e.Steps, e.Gpa, e.Final, e.ShadowSteps, e.Slot, e.Hva,
            e.Hpa, e.MissReferences, e.HypervisorReferences, e.MissCycles, e.Outcome) { Notes = [.. e.Notes] };
    }

    /// <summary>What is being built for explain, part by part.</summary>
    protected sealed class Explanation
    {
        public ImmutableArray<GuestStep> Steps = [];
        public ulong? Gpa, Hva, Hpa;
        public SlotInfo? Slot;
        public EptPath? Final;
        public ImmutableArray<WalkStep> ShadowSteps = [];
        public string Outcome = "";
        public int MissReferences, HypervisorReferences;
        public ulong MissCycles;
        public List<string> Notes = new();
    }

    /// <summary>Whether the page is dirty in the log and, if clean, what its next write costs (SEMANTICS.md 13.4).</summary>
    private string DirtyNote(SlotInfo slot, ulong gpa)
    {
        var page = Hex.Format(gpa & ~0xfffUL);
        if (M.Dirty.IsDirty(gpa))
            return $"dirty log of slot {slot.Id}: page gpa {page} is dirty (written since the last collect dirty); its writes are not logged again";
        var next = M.Dirty.Method switch
        {
            DirtyTrack.Free => "counted in dirty.logged, at no cost",
            DirtyTrack.Pml => $"it misses the TLB (a clean page's entry forbids writes), walks, and the hardware adds it to the PML buffer ({M.Dirty.PmlEntries} of 512 used; the 513th exits as PML_FULL)",
            _ => Kind switch
            {
                MmuMode.Ept => "its EPT leaf lacks W (write protection): an EPT_VIOLATION, and KVM logs the page and gives the leaf W",
                MmuMode.Shadow => "its shadow leaf lacks W (write protection): a shadow fault (EXCEPTION_NMI), and KVM logs the page and installs a writable leaf",
                _ => "the software MMU's TLB entry lacks W: the write traps (MMU_TRAP), and that fill logs the page",
            },
        };
        return $"dirty log of slot {slot.Id}: page gpa {page} is clean; its next write is logged: {next}";
    }

    /// <summary>The guest walk from the root, every level, without paging-structure caches (the walk a reader follows).</summary>
    protected abstract void ExplainGuestWalk(ulong gva, ref GuestWalk walk);

    /// <summary>Added to the outcome of a guest page fault: how the mode comes to see it.</summary>
    protected virtual string GuestFaultNote => "";

    /// <summary>The outcome of a walk that could not reach a table (EPT only).</summary>
    protected virtual string BlockedOutcome(GuestWalk walk) => "";

    /// <summary>The outcome of a walk that reached a leaf: the final translation and the TLB entry it gives.</summary>
    protected virtual void ExplainLeaf(ulong gva, GuestWalk walk, WalkRecorder recorder, Explanation e)
    {
        var gpa = e.Gpa!.Value;
        if (e.Slot is not { } slot)
        {
            e.Outcome = $"gpa {Hex.Format(gpa)} is in no memslot: MMIO, handed to the VMM" + (HasVmm ? " (KVM_EXIT_MMIO)" : " (natively: the device)");
            return;
        }
        var size = HasVmm ? PagingLevels.Min(walk.LeafSize, Machine.HostMapSize(slot, gpa)) : walk.LeafSize;
        e.Outcome = $"translated: a {size.Text()} TLB entry ({Rights(walk.Perms)}{(slot.Readonly ? ", writes go to the VMM: readonly slot" : "")})";
    }

    /// <summary>The mode's own structures after the guest walk (the shadow walk).</summary>
    protected virtual void ExplainAfterWalk(GuestProcess process, ulong gva, GuestWalk walk, Explanation e)
    {
    }

    /// <summary>What the next TLB miss of <paramref name="gva"/> costs: references and cycles.</summary>
    protected abstract void ExplainMissCost(GuestProcess process, ulong gva, Explanation e);

    protected static string Rights(PathPermissions perms) =>
        $"{(perms.Writable ? "writable" : "read-only")}, {(perms.User ? "user" : "kernel-only")}, {(perms.Executable ? "executable" : "not executable")}";

    // ------------------------------------------------------------ shared by the modes

    /// <summary>Where a hardware walk of a guest-linear table starts: the root, or the deepest table the paging-structure caches hold.</summary>
    protected GuestWalk HardwareWalkStart(ulong root, ulong gva, PagingStructureCache? pwc, int tag)
    {
        if (pwc is not null && pwc.Lookup(gva, tag, out var cached) is var hit and > 0) return GuestWalk.From(cached, hit - 1);
        return GuestWalk.From(root, M.Levels);
    }

    /// <summary>
    /// A copy of <paramref name="pwc"/> as the next miss of <paramref name="process"/> would find it, for
    /// explain: a process that is not current loads CR3 first, which without PCID flushes every entry.
    /// </summary>
    protected PagingStructureCache? CachesForNextMiss(GuestProcess process, PagingStructureCache? pwc) =>
        pwc is null ? null : process == M.Kernel.Current || M.Options.Pcid ? pwc.Clone() : pwc.Clone().Flushed();

    /// <summary>
    /// The guest walk done in software (KVM's under shadow paging, the software MMU's): each table read is
    /// a hypervisor reference and a slot lookup, and faults its host page in. <paramref name="tables"/>
    /// receives the table read at each level. A dry walk (explain) only counts.
    /// </summary>
    internal struct SoftwarePolicy(Machine machine, bool dry) : IWalkPolicy
    {
        public LevelTables Tables;

        public bool Reach(ulong table, int level, ref GuestWalk walk)
        {
            Tables[level] = table;
            walk.Refs++;
            if (dry) return true;
            machine.Charge(Accounting.CostKind.SlotLookup);
            machine.TouchHost(machine.FindSlot(table)!, table);
            machine.Counters.HvRefs++;
            machine.Charge(Accounting.CostKind.HvRef);
            return true;
        }

        public readonly void Descend(ulong gva, int level, ulong next, ref GuestWalk walk)
        {
        }
    }

    /// <summary>The guest table read at each level of a walk (levels 1 to 5).</summary>
    [System.Runtime.CompilerServices.InlineArray(6)]
    internal struct LevelTables
    {
        private ulong _first;
    }

    /// <summary>
    /// The hardware's walk of a guest-linear table in native and shadow modes' guest dimension: one
    /// reference per entry read; present non-leaf entries go into the paging-structure caches.
    /// </summary>
    internal readonly struct HardwarePolicy(PagingStructureCache? pwc, int tag) : IWalkPolicy
    {
        public bool Reach(ulong table, int level, ref GuestWalk walk)
        {
            walk.Refs++;
            return true;
        }

        public void Descend(ulong gva, int level, ulong next, ref GuestWalk walk) => pwc?.Fill(gva, tag, level, next);
    }
}
