using System.Collections.Immutable;
using MemScript.Engine.Accounting;
using MemScript.Engine.Guest;
using MemScript.Engine.Inspection;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;
using MemScript.Engine.Translation;
using MemScript.Language.Checking;

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
    // while loaded: zaps spare the path being built, which starts at it, and flooding spares it.
    private ShadowPage? _root;

    private readonly bool _unsync;
    private readonly int _prefetch, _flood;

    // The tables KVM let go unsync, until synced or zapped.
    private readonly List<ShadowPage> _unsyncTables = new();

    // Under the wp dirty log: the shadow leaves that may map each page of a dirty-log slot (KVM's rmap),
    // so that collecting the log can take W off them. Checked when used: a table may be gone since.
    private readonly Dictionary<ulong, List<(ShadowPage Page, int Index)>> _leavesOf = new();

    public ShadowMode(Machine machine) : base(machine)
    {
        var options = machine.Options;
        (_unsync, _prefetch, _flood) = (options.ShadowUnsync, options.ShadowPrefetch, options.ShadowFlood);
        _shadow = new ShadowTables(Machine.ShadowLimit(options, machine.Slots.All), machine.Fast.TablesChanged,
            keepBuilt: _unsync || machine.Dirty.Active);
    }

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
                walk.Perms, true, true, GuestAddressOf(walk.Page, walk.Level, gva));
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

    /// <summary>
    /// The guest-physical address <paramref name="gva"/> reaches through a leaf of <paramref name="page"/>:
    /// known from the guest range of a direct table, or from the guest entry a leaf table's entry was built
    /// from; 0 where neither is kept (no dirty-log slot needs it then).
    /// </summary>
    private static ulong GuestAddressOf(ShadowPage page, int level, ulong gva)
    {
        var index = Pte.Index(gva, level);
        if (page.Key.Direct) return page.Key.Gpa + (ulong)index * Pte.Coverage(level) + (gva & (Pte.Coverage(level) - 1));
        return page.Built is { } built ? Pte.LeafAddress(built[index], level, gva) : 0;
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
        // Under the wp dirty log a clean page's leaf lacks W until a write faults on it, which logs it.
        var writableLeaf = perms.Writable && !slot.Readonly && WritableUnderWp(slot, gpa, kind);
        var leaf = (hpa & ~(bytes - 1)) | Pte.Present | (writableLeaf ? Pte.Writable : 0) | (perms.User ? Pte.User : 0)
                   | (perms.Executable ? 0 : Pte.ExecuteDisable) | (leafLevel > 1 ? Pte.PageSize : 0);
        M.Charge(CostKind.ShadowFill);
        var (table, old) = BuildPath(gva, ref policy.Tables, walk, gpa, leafLevel, leaf);
        RememberLeaf(slot, gpa, table, Pte.Index(gva, leafLevel));
        if (M.Tracing) M.Emit(new ShadowMapEvent(M.Cycle, M.AccessNumber, new Gva(gva & ~(bytes - 1)), new Hpa(hpa & ~(bytes - 1)), size, writableLeaf, false));
        // Prefetch beside a 4 KiB leaf written for a 4 KiB guest page: new, or with more permissions.
        if (_prefetch > 0 && leafLevel == 1 && walk.Level == 1 && leaf != old && (old & Pte.MmioMarker) == 0)
            Prefetch(gva, walk.Table, table);
        return FillOutcome.Retry;
    }

    /// <summary>
    /// KVM's shadow PTE prefetch (13.2, FNAME(pte_prefetch)): one read of the guest entries of the
    /// <c>shadow prefetch</c>-aligned block around the fault, and a shadow leaf for each other entry that
    /// is present, maps a page of a slot whose host page is present already, and has no shadow leaf yet.
    /// </summary>
    private void Prefetch(ulong gva, ulong guestTable, ShadowPage table)
    {
        M.Counters.HvRefs++;
        M.Charge(CostKind.HvRef);
        var upper = UpperPermissions(gva);
        var at = Pte.Index(gva, 1);
        var first = at & ~(_prefetch - 1);
        var count = 0;
        for (var index = first; index < first + _prefetch; index++)
        {
            if (index == at || (table.Entries[index] & Pte.Present) != 0) continue;
            var entry = M.Kernel.Tables.Entry(guestTable, index);
            if ((entry & Pte.Present) == 0) continue;
            var gpa = entry & Pte.AddressMask;
            if (M.FindSlot(gpa) is not { } slot || !M.Host.TryGet(Memslots.HvaOf(slot, gpa), slot.Backing, out var page)) continue;
            var perms = upper;
            perms.Apply(entry);
            var writable = perms.Writable && !slot.Readonly && !(M.Dirty.Method == DirtyTrack.Wp && M.Dirty.IsClean(slot, gpa));
            var hpa = page + (Memslots.HvaOf(slot, gpa) & (slot.Backing.Bytes() - 1));
            _shadow.SetLeaf(table, index, hpa | Pte.Present | (writable ? Pte.Writable : 0) | (perms.User ? Pte.User : 0)
                                          | (perms.Executable ? 0 : Pte.ExecuteDisable));
            if (table.Built is { } built) built[index] = entry;
            RememberLeaf(slot, gpa, table, index);
            M.Counters.ShadowPrefetched++;
            count++;
        }
        if (M.Tracing) M.Emit(new ShadowPrefetchEvent(M.Cycle, M.AccessNumber, new Gva(gva & ~0xfffUL), count));
    }

    /// <summary>The permissions of the guest's entries above the leaf for <paramref name="gva"/> (KVM's role.access of the leaf table).</summary>
    private PathPermissions UpperPermissions(ulong gva)
    {
        var perms = PathPermissions.All;
        var table = M.Kernel.Current!.Root;
        for (var level = M.Levels; level > 1; level--)
        {
            var entry = M.Kernel.Tables.Entry(table, Pte.Index(gva, level));
            perms.Apply(entry);
            table = entry & Pte.AddressMask;
        }
        return perms;
    }

    /// <summary>Under the wp dirty log, remembers the shadow leaf that maps a page of a dirty-log slot.</summary>
    private void RememberLeaf(SlotInfo slot, ulong gpa, ShadowPage table, int index)
    {
        if (!slot.DirtyLog || M.Dirty.Method != DirtyTrack.Wp) return;
        var page = gpa & ~0xfffUL;
        if (!_leavesOf.TryGetValue(page, out var leaves)) _leavesOf.Add(page, leaves = new List<(ShadowPage, int)>(1));
        leaves.Add((table, index));
    }

    /// <summary>Under the wp dirty log the pages made clean lose W in every shadow leaf that maps them.</summary>
    public override void OnDirtyCollected(IReadOnlyList<ulong> pages)
    {
        if (M.Dirty.Method != DirtyTrack.Wp) return;
        foreach (var page in pages)
        {
            if (!_leavesOf.Remove(page, out var leaves)) continue;
            var kept = new List<(ShadowPage, int)>(leaves.Count);
            foreach (var (table, index) in leaves)
            {
                var entry = table.Entries[index];
                if (table.Removed || (entry & Pte.Present) == 0 || (entry & Pte.MmioMarker) != 0
                    || (GuestAddressOf(table, table.Key.Level, (ulong)index << 12) & ~0xfffUL) != page || kept.Contains((table, index))) continue;
                if ((entry & Pte.Writable) != 0) _shadow.SetLeaf(table, index, entry & ~Pte.Writable);
                kept.Add((table, index));
            }
            if (kept.Count > 0) _leavesOf.Add(page, kept);
        }
    }

    /// <summary>
    /// Creates the shadow tables missing on the path to <paramref name="gva"/> and writes its leaf. Tables
    /// above the guest leaf shadow guest tables; below it (a guest huge page the host cannot map whole)
    /// they are direct tables that split the page, keyed by the guest-physical range they map, their
    /// level and the guest leaf's permissions (KVM's role.direct and role.access).
    /// </summary>
    /// <returns>The table holding the leaf, and the entry the leaf replaced.</returns>
    private (ShadowPage Table, ulong Old) BuildPath(ulong gva, ref LevelTables guestTables, GuestWalk walk, ulong gpa, int shadowLeafLevel, ulong leafEntry)
    {
        var page = _root!;
        var pinned = _path;
        pinned.Clear();
        pinned.Add(page);
        page.Flood = 0;
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
            // A shadow fault that installs an entry resets the flooding counts of the tables on its path.
            child.Flood = 0;
            page = child;
        }
        var leafIndex = Pte.Index(gva, shadowLeafLevel);
        var old = page.Entries[leafIndex];
        _shadow.SetLeaf(page, leafIndex, leafEntry);
        if (page.Built is { } built) built[leafIndex] = walk.Entry;
        return (page, old);
    }

    private ShadowPage CreatePage(ShadowKey key, ulong gvaBase, List<ShadowPage> pinned, int guestPageLevel = 0)
    {
        while (_shadow.Count >= _shadow.Limit && _shadow.Oldest(pinned) is { } victim) Zap(victim, ZapCause.Limit);
        M.CountTablePage();
        var page = _shadow.Add(key, M.Host.AllocateFrames(4096), gvaBase, M.CurrentTag, guestPageLevel);
        M.Counters.PagesShadow++;
        return page;
    }

    /// <summary>
    /// Drops a shadow table (and the entries pointing to it; its children stay), without a sync; KVM
    /// flushes the TLB and the paging-structure caches after zapping (kvm_flush_remote_tlbs).
    /// </summary>
    private void Zap(ShadowPage victim, ZapCause cause)
    {
        _shadow.Remove(victim);
        M.Counters.PagesShadow--;
        M.Counters.ShadowZapped++;
        M.Tlb.FlushAll();
        M.Pwc?.FlushAll();
        if (M.Tracing) M.Emit(new ShadowZapEvent(M.Cycle, M.AccessNumber, new Gpa(victim.Key.Gpa), victim.Key.Level, victim.Key.Direct, cause));
    }

    // ------------------------------------------------------------ what the guest does that KVM sees

    /// <summary>
    /// Every CR3 load exits (CR_ACCESS); KVM finds the root of that CR3 or creates an empty one, then
    /// syncs every unsync table reachable from it (kvm_mmu_sync_roots).
    /// </summary>
    public override void OnCr3Load(GuestProcess process)
    {
        M.Exit(ExitReason.CrAccess, M.Tracing ? new CrAccessExit(M.Cycle, M.AccessNumber, process.Name, new Gpa(process.Root)) : null);
        _root = _shadow.Find(RootKey(process)) ?? CreatePage(RootKey(process), 0, []);
        if (_unsyncTables.Count > 0) SyncReachable(_root);
        M.Resume();
    }

    /// <summary>Syncs the unsync tables reachable from <paramref name="root"/>, in address order.</summary>
    private void SyncReachable(ShadowPage root)
    {
        _unsyncTables.RemoveAll(t => t.Removed || !t.Unsync);
        var reachable = _unsyncTables.Where(t => Reaches(root, t)).OrderBy(t => t.GvaBase & ((1UL << 57) - 1)).ToList();
        foreach (var table in reachable) Sync(table);
        _unsyncTables.RemoveAll(t => !t.Unsync);
    }

    /// <summary>Whether a table hangs below <paramref name="root"/> (through the entries that point to it).</summary>
    private static bool Reaches(ShadowPage root, ShadowPage table)
    {
        if (table == root) return true;
        foreach (var (parent, _) in table.Parents)
            if (Reaches(root, parent)) return true;
        return false;
    }

    /// <summary>
    /// Syncs an unsync leaf table (mmu_sync_children): one slot lookup, one guest-entry read per non-empty
    /// shadow entry, and every entry whose guest entry changed since it was built is cleared (the TLB stays
    /// as the CR3 load left it: the guest invalidated what it changed). The page is write-protected again.
    /// </summary>
    private void Sync(ShadowPage table)
    {
        M.Charge(CostKind.SlotLookup);
        int entries = 0, cleared = 0;
        var built = table.Built!;
        for (var index = 0; index < 512; index++)
        {
            if ((table.Entries[index] & Pte.Present) == 0) continue;
            entries++;
            M.Counters.HvRefs++;
            M.Charge(CostKind.HvRef);
            if (!Changed(M.Kernel.Tables.Entry(table.Key.Gpa, index), built[index])) continue;
            _shadow.ClearEntry(table, index);
            cleared++;
        }
        table.Unsync = false;
        M.Counters.ShadowSynced++;
        if (M.Tracing) M.Emit(new ShadowSyncEvent(M.Cycle, M.AccessNumber, new Gpa(table.Key.Gpa), entries, cleared));
    }

    /// <summary>Whether a guest entry differs from the one a shadow entry was built from: present bit, address or permissions.</summary>
    private static bool Changed(ulong now, ulong built) =>
        ((now ^ built) & (Pte.Present | Pte.Writable | Pte.User | Pte.ExecuteDisable | Pte.AddressMask)) != 0;

    /// <summary>
    /// INVLPG exits. KVM clears the shadow leaf for the address (nothing for a non-canonical one, a NOP);
    /// with unsync, only a leaf of an unsync table is looked at, synced from its one guest entry.
    /// </summary>
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
            if (ShadowTables.IsTablePointer(entry, level))
            {
                page = _shadow.Child(page, index, entry);
                continue;
            }
            if (!_unsync)
            {
                _shadow.ClearEntry(page, index);
            }
            else if (page.Unsync)
            {
                // kvm_mmu_invalidate_addr: the one guest entry is read and the leaf synced; the table stays unsync.
                M.Counters.HvRefs++;
                M.Charge(CostKind.HvRef);
                M.Charge(CostKind.SlotLookup);
                if (Changed(M.Kernel.Tables.Entry(page.Key.Gpa, index), page.Built![index])) _shadow.ClearEntry(page, index);
            }
            return;
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
        var tables = _shadow.TablesOf(table);
        if (_unsync && tables.All(t => t.Key.Level == 1))
        {
            // mmu_try_to_unsync_pages: no emulation; the page's shadow tables go unsync, the page is no
            // longer write-protected and the guest's write stands. Nothing is cleared.
            foreach (var t in tables)
            {
                t.Unsync = true;
                _unsyncTables.Add(t);
            }
            M.Counters.ShadowUnsync++;
            if (M.Tracing) M.Emit(new ShadowUnsyncEvent(M.Cycle, M.AccessNumber, new Gpa(table)));
            M.Resume();
            return;
        }
        M.Charge(CostKind.Emulate);
        if (M.Tracing) M.Emit(new EmulatedWriteEvent(M.Cycle, M.AccessNumber, new Gpa(table + (ulong)index * 8)));
        MirrorWrite(table, level, index);
        if (_flood > 0) CountFlooding(tables.ToArray());
        M.Resume();
    }

    /// <summary>
    /// Write flooding (detect_write_flooding): each shadow table of the written page counts the emulated
    /// write (upper-level tables; leaf tables too without unsync); the write that brings a count to
    /// <c>shadow flood</c> zaps that table, unless it is the loaded root.
    /// </summary>
    private void CountFlooding(ShadowPage[] tables)
    {
        foreach (var t in tables)
        {
            if (t.Removed || (t.Key.Level == 1 && _unsync)) continue;
            if (++t.Flood >= _flood && t != _root) Zap(t, ZapCause.Flood);
        }
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
        if (shadowWalk.Page.Key is { Level: 1, Direct: false })
            e.Notes.Add(shadowWalk.Page.Unsync
                ? "the shadow leaf table is unsync: the guest writes its page table without exits; KVM syncs it at the next CR3 load (one guest-entry read per shadow entry) and an INVLPG of this address syncs this one entry"
                : $"the shadow leaf table is in sync: the guest's page table is write-protected, so a write to it exits{(_unsync ? " (the first makes it unsync)" : " and is emulated")}");
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
