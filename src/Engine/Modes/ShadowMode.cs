using System.Collections.Immutable;
using MemScript.Engine.Accounting;
using MemScript.Engine.Guest;
using MemScript.Engine.Inspection;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;
using MemScript.Engine.Translation;

namespace MemScript.Engine.Modes;

/// <summary>
/// KVM's shadow MMU (SEMANTICS.md section 5): shadow tables map guest-virtual straight to host-physical
/// and the hardware walks them; KVM builds them on #PF exits from its software walk of the guest's
/// tables, write-protects the guest tables it shadows, and sees every CR3 load and INVLPG.
/// </summary>
internal sealed class ShadowMode : TranslationMode
{
    private const uint PfPresent = 1, PfWrite = 2, PfUser = 4, PfReserved = 8, PfFetch = 16;

    private readonly ShadowTables _shadow;

    // The shadow tables on the path being built (never zapped while it is built): one list reused by
    // every fill, as a fill is not re-entered.
    private readonly List<ShadowPage> _path = new(6);

    // KVM's root for the loaded CR3 (mmu->root), found or created at each CR3 load. It is never zapped
    // while loaded: zaps spare the path being built, which starts at it.
    private ShadowPage? _root;

    public ShadowMode(Machine machine) : base(machine) =>
        _shadow = new ShadowTables(Machine.ShadowLimit(machine.Options, machine.Slots.All), machine.Fast.TablesChanged);

    public override MmuMode Kind => MmuMode.Shadow;

    public override bool SeesTableWrites => true;

    public override int? ShadowPageLimit => _shadow.Limit;

    /// <summary>The shadow tables (read by the acceleration layer's prefetcher).</summary>
    internal ShadowTables Tables => _shadow;

    /// <summary>The root of the loaded CR3, or null before the first.</summary>
    internal ShadowPage? CurrentRoot => _root;

    private static uint ErrorCode(AccessKind kind, bool kernel, bool present) =>
        (present ? PfPresent : 0) | (kind == AccessKind.Write ? PfWrite : 0) | (kernel ? 0 : PfUser) | (kind == AccessKind.Exec ? PfFetch : 0);

    private ShadowKey RootKey(GuestProcess process) => new(process.Root, M.Levels, false, 0);

    // ------------------------------------------------------------ the hardware walk of the shadow tables

    private enum ShadowEnd { NotPresent, Mmio, Leaf }

    private struct ShadowWalk
    {
        public ShadowPage Page;
        public int Level, Refs;
        public ulong Entry;
        public PathPermissions Perms;
        public ShadowEnd End;
    }

    /// <summary>
    /// The hardware's walk of the shadow tables from <paramref name="root"/>, or from the deepest table the
    /// paging-structure caches hold, to a leaf, an MMIO entry or a non-present entry; present non-leaf
    /// entries go into the caches. <paramref name="steps"/> records the entries read, for explain.
    /// </summary>
    private ShadowWalk WalkShadow(ShadowPage root, ulong gva, PagingStructureCache? pwc, int tag, ImmutableArray<WalkStep>.Builder? steps)
    {
        var walk = new ShadowWalk { Page = root, Level = M.Levels, Perms = PathPermissions.All };
        if (pwc is not null && pwc.Lookup(gva, tag, out var cached) is var hit and > 0)
            (walk.Page, walk.Level) = (cached == root.Hpa ? root : _shadow.ByHpa(cached), hit - 1);
        for (; ; walk.Level--)
        {
            walk.Refs++;
            var index = Pte.Index(gva, walk.Level);
            var entry = ShadowTables.EntryOf(walk.Page, index);
            steps?.Add(new WalkStep(walk.Level, walk.Page.Hpa, index, entry));
            walk.Entry = entry;
            if ((entry & Pte.Present) == 0)
            {
                walk.End = ShadowEnd.NotPresent;
                return walk;
            }
            walk.Perms.Apply(entry);
            if ((entry & Pte.MmioMarker) != 0)
            {
                walk.End = ShadowEnd.Mmio;
                return walk;
            }
            if (Pte.IsLeaf(entry, walk.Level))
            {
                walk.End = ShadowEnd.Leaf;
                return walk;
            }
            pwc?.Fill(gva, tag, walk.Level, entry & Pte.AddressMask);
            walk.Page = _shadow.Child(walk.Page, index, entry);
        }
    }

    // ------------------------------------------------------------ a TLB miss

    public override FillOutcome Fill(ulong gva, AccessKind kind, bool kernel)
    {
        var walk = WalkShadow(_root!, gva, M.Pwc, M.CurrentTag, null);
        var allowed = Machine.Allows(walk.Perms, kind, kernel);
        if (walk.End == ShadowEnd.Leaf && allowed)
        {
            // Below a direct (splitting) table the guest page is larger than this entry.
            return M.CompleteWalk(gva, kind, walk.Refs, PagingLevels.SizeOf(walk.Level), PagingLevels.SizeOf(Math.Max(walk.Level, walk.Page.GuestPageLevel)),
                walk.Perms, true, true, walk.Entry & Pte.AddressMask & ~(Pte.Coverage(walk.Level) - 1));
        }
        // Anything else stops the hardware walk with a #PF, which exits. KVM's MMIO entry faults on its
        // reserved bit and keeps the guest's access bits: when they allow the access KVM hands it to the
        // VMM without walking the guest table again; otherwise, as for every other #PF, KVM walks it.
        M.CountWalk(gva, kind, walk.Refs);
        var error = walk.End == ShadowEnd.Mmio ? ErrorCode(kind, kernel, true) | PfReserved : ErrorCode(kind, kernel, walk.End == ShadowEnd.Leaf);
        M.Exit(ExitReason.ExceptionNmi, M.Tracing ? new PageFaultExit(M.Cycle, M.AccessNumber, new Gva(gva), error) : null);
        if (walk.End == ShadowEnd.Mmio && allowed) return M.Mmio(gva, (walk.Entry & Pte.AddressMask & ~Pte.MmioMarker) + (gva & 0xfff), kind);
        return HandleShadowFault(gva, kind, kernel);
    }

    /// <summary>KVM's #PF handler: its software walk of the guest table, then an injected #PF, MMIO, or a new shadow entry.</summary>
    private FillOutcome HandleShadowFault(ulong gva, AccessKind kind, bool kernel)
    {
        var walk = GuestWalk.From(M.Kernel.Current!.Root, M.Levels);
        var policy = new SoftwarePolicy(M, dry: false);
        GuestWalker.Walk(M.Kernel.Tables, gva, ref walk, ref policy);
        if (walk.End != WalkEnd.Leaf) return M.Kernel.GuestFault(gva, kind, kernel, notPresent: true);
        var perms = walk.Perms;
        if (!Machine.Allows(perms, kind, kernel)) return M.Kernel.GuestFault(gva, kind, kernel, notPresent: false);
        M.Charge(CostKind.SlotLookup);
        var gpa = walk.LeafAddress(gva);
        var slot = M.FindSlot(gpa);
        if (slot is null)
        {
            M.Charge(CostKind.ShadowFill);
            var mmioPage = gpa & ~0xfffUL;
            var access = (perms.Writable ? Pte.Writable : 0) | (perms.User ? Pte.User : 0) | (perms.Executable ? 0 : Pte.ExecuteDisable);
            BuildPath(gva, ref policy.Tables, walk, gpa, 1, mmioPage | Pte.Present | Pte.MmioMarker | access);
            if (M.Tracing) M.Emit(new ShadowMapEvent(M.Cycle, M.AccessNumber, new Gva(gva & ~0xfffUL), new Hpa(0), PageSize.Size4K, false, true));
            return M.Mmio(gva, gpa, kind);
        }
        if (slot.Readonly && kind == AccessKind.Write) return M.Mmio(gva, gpa, kind);
        var hpa = M.TouchHost(slot, gpa);
        var size = PagingLevels.Min(walk.LeafSize, Machine.HostMapSize(slot, gpa));
        var bytes = size.Bytes();
        var leafLevel = PagingLevels.Of(size);
        var writableLeaf = perms.Writable && !slot.Readonly;
        var leaf = (hpa & ~(bytes - 1)) | Pte.Present | (writableLeaf ? Pte.Writable : 0) | (perms.User ? Pte.User : 0)
                   | (perms.Executable ? 0 : Pte.ExecuteDisable) | (leafLevel > 1 ? Pte.PageSize : 0);
        M.Charge(CostKind.ShadowFill);
        BuildPath(gva, ref policy.Tables, walk, gpa, leafLevel, leaf);
        if (M.Tracing) M.Emit(new ShadowMapEvent(M.Cycle, M.AccessNumber, new Gva(gva & ~(bytes - 1)), new Hpa(hpa & ~(bytes - 1)), size, writableLeaf, false));
        return FillOutcome.Retry;
    }

    /// <summary>
    /// Creates the shadow tables missing on the path to <paramref name="gva"/> and writes its leaf. Tables
    /// above the guest leaf shadow guest tables; below it (a guest huge page the host cannot map whole)
    /// they are direct tables that split the page, keyed by the guest-physical range they map, their
    /// level and the guest leaf's permissions (KVM's role.direct and role.access).
    /// </summary>
    private void BuildPath(ulong gva, ref LevelTables guestTables, GuestWalk walk, ulong gpa, int shadowLeafLevel, ulong leafEntry)
    {
        var page = _root!;
        var pinned = _path;
        pinned.Clear();
        pinned.Add(page);
        var access = (walk.Perms.Writable ? 1 : 0) | (walk.Perms.User ? 2 : 0) | (walk.Perms.Executable ? 4 : 0);
        for (var level = M.Levels; level > shadowLeafLevel; level--)
        {
            var index = Pte.Index(gva, level);
            var entry = page.Entries[index];
            ShadowPage child;
            if (ShadowTables.IsTablePointer(entry, level))
            {
                child = _shadow.Child(page, index, entry);
            }
            else
            {
                _shadow.ClearEntry(page, index);
                var coverage = Pte.Coverage(level);
                var key = level - 1 >= walk.Level
                    ? new ShadowKey(guestTables[level - 1], level - 1, false, 0)
                    : new ShadowKey(gpa & ~(coverage - 1), level - 1, true, access);
                child = _shadow.Find(key) ?? CreatePage(key, M.Kernel.SignExtend(gva & ~(coverage - 1)), pinned, key.Direct ? walk.Level : 0);
                ShadowTables.Link(page, index, child);
            }
            pinned.Add(child);
            page = child;
        }
        _shadow.SetLeaf(page, Pte.Index(gva, shadowLeafLevel), leafEntry);
    }

    private ShadowPage CreatePage(ShadowKey key, ulong gvaBase, List<ShadowPage> pinned, int guestPageLevel = 0)
    {
        while (_shadow.Count >= _shadow.Limit && _shadow.Oldest(pinned) is { } victim) Zap(victim);
        M.CountTablePage();
        var page = _shadow.Add(key, M.Host.AllocateFrames(4096), gvaBase, M.CurrentTag, guestPageLevel);
        M.Counters.PagesShadow++;
        return page;
    }

    /// <summary>Drops a shadow table (and the entries pointing to it); KVM flushes the TLB after zapping.</summary>
    private void Zap(ShadowPage victim)
    {
        _shadow.Remove(victim);
        M.Counters.PagesShadow--;
        M.Tlb.FlushAll();
        M.Pwc?.FlushAll();
        if (M.Tracing) M.Emit(new ShadowZapEvent(M.Cycle, M.AccessNumber, new Gpa(victim.Key.Gpa), victim.Key.Level, victim.Key.Direct));
    }

    // ------------------------------------------------------------ what the guest does that KVM sees

    /// <summary>Every CR3 load exits (CR_ACCESS); KVM finds the root of that CR3 or creates an empty one.</summary>
    public override void OnCr3Load(GuestProcess process)
    {
        M.Exit(ExitReason.CrAccess, M.Tracing ? new CrAccessExit(M.Cycle, M.AccessNumber, process.Name, new Gpa(process.Root)) : null);
        _root = _shadow.Find(RootKey(process)) ?? CreatePage(RootKey(process), 0, []);
        M.Resume();
    }

    /// <summary>INVLPG exits; KVM clears the shadow leaf for the address (nothing for a non-canonical one, a NOP).</summary>
    public override void OnInvlpg(ulong gva, bool canonical)
    {
        M.Exit(ExitReason.Invlpg, M.Tracing ? new InvlpgExit(M.Cycle, M.AccessNumber, new Gva(gva)) : null);
        if (canonical) InvalidatePage(gva);
        M.Resume();
    }

    private void InvalidatePage(ulong gva)
    {
        var page = _root!;
        for (var level = M.Levels; level >= 1; level--)
        {
            var index = Pte.Index(gva, level);
            var entry = page.Entries[index];
            if ((entry & Pte.Present) == 0) return;
            if (!ShadowTables.IsTablePointer(entry, level))
            {
                _shadow.ClearEntry(page, index);
                return;
            }
            page = _shadow.Child(page, index, entry);
        }
    }

    /// <summary>
    /// A guest write to a write-protected page-table page traps (EXCEPTION_NMI, #PF present and write, at
    /// the kernel's direct-map address of the entry); KVM emulates it and clears the shadow entry that
    /// mirrors it. Writes to tables with no shadow table do not exit.
    /// </summary>
    public override void OnTableWrite(ulong table, int level, int index)
    {
        if (!_shadow.IsWriteProtected(table)) return;
        var linear = M.Kernel.DirectMapBase + table + (ulong)index * 8;
        M.Exit(ExitReason.ExceptionNmi, M.Tracing ? new PageFaultExit(M.Cycle, M.AccessNumber, new Gva(linear), PfPresent | PfWrite) : null);
        M.Charge(CostKind.Emulate);
        if (M.Tracing) M.Emit(new EmulatedWriteEvent(M.Cycle, M.AccessNumber, new Gpa(table + (ulong)index * 8)));
        MirrorWrite(table, level, index);
        M.Resume();
    }

    /// <summary>After an emulated guest page-table write: clear the shadow entry that mirrors the written entry.</summary>
    private void MirrorWrite(ulong table, int level, int index)
    {
        var page = _shadow.Find(new ShadowKey(table, level, false, 0));
        if (page is null) return;
        var old = _shadow.ClearEntry(page, index);
        if ((old & Pte.Present) == 0) return;
        if (ShadowTables.IsTablePointer(old, level))
        {
            M.Pwc?.FlushAll();
            return;
        }
        var coverage = Pte.Coverage(level);
        var start = M.Kernel.SignExtend(page.GvaBase + (ulong)index * coverage);
        M.Tlb.FlushRange(page.Tag, start, start + (coverage - 1));
    }

    // ------------------------------------------------------------ explain

    protected override string GuestFaultNote => " (under shadow paging KVM finds this in its software walk after an EXCEPTION_NMI exit and injects the #PF)";

    protected override void ExplainGuestWalk(ulong gva, ref GuestWalk walk)
    {
        var policy = new SoftwarePolicy(M, dry: true);
        GuestWalker.Walk(M.Kernel.Tables, gva, ref walk, ref policy);
    }

    protected override void ExplainAfterWalk(GuestProcess process, ulong gva, GuestWalk walk, Explanation e)
    {
        // KVM's software walk reads the guest entries the path above shows.
        e.HypervisorReferences = walk.Refs;
        if (_shadow.Find(RootKey(process)) is not { } root)
        {
            e.Outcome += "; KVM has no shadow root for this CR3 yet: the next CR3 load creates it";
            return;
        }
        var steps = ImmutableArray.CreateBuilder<WalkStep>();
        var shadowWalk = WalkShadow(root, gva, null, 0, steps);
        e.ShadowSteps = steps.ToImmutable();
        e.Outcome += shadowWalk.End switch
        {
            ShadowEnd.NotPresent => $"; the shadow walk stops at a non-present level-{shadowWalk.Level} shadow entry: a #PF that exits as EXCEPTION_NMI (0), and KVM walks the guest table to fill the shadow entry",
            ShadowEnd.Mmio => "; the shadow walk reaches KVM's MMIO entry (reserved bit): EXCEPTION_NMI (0), then KVM_EXIT_MMIO",
            _ => "",
        };
    }

    protected override void ExplainMissCost(GuestProcess process, ulong gva, Explanation e)
    {
        // Without a root the next CR3 load creates an empty one, whose first entry stops the walk.
        var refs = _shadow.Find(RootKey(process)) is { } root
            ? WalkShadow(root, gva, CachesForNextMiss(process, M.Pwc), M.TagOf(process), null).Refs
            : 1;
        e.MissReferences = refs;
        e.MissCycles = (ulong)refs * M.Options.Costs.WalkRef;
    }
}
