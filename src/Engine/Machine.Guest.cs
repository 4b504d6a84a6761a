using MemScript.Engine.Accounting;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;
using MemScript.Engine.Translation;
using MemScript.Language;
using MemScript.Language.Syntax;

namespace MemScript.Engine;

// The guest kernel's side: page tables, the frame allocator, page faults, CR3 loads, INVLPG, and the
// run-time edits map, demand, unmap and protect.
public sealed partial class Machine
{
    /// <summary>The kernel's direct map of physical memory (Linux's PAGE_OFFSET), where it writes page tables.</summary>
    private ulong DirectMapBase => _levels == 5 ? 0xff11_0000_0000_0000UL : 0xffff_8880_0000_0000UL;

    private ulong AllocateTable(string process, ulong gva)
    {
        CountTablePage();
        var frame = _frames.Allocate(4096) ?? throw EngineException.OutOfGuestMemory(process, gva);
        _guestTables.Add(frame, new ulong[512]);
        Counters.PagesGuestPt++;
        return frame;
    }

    /// <summary>Reads a guest page-table entry (no cost: the caller counts the reference as its mode does).</summary>
    internal ulong ReadGuestEntry(ulong table, int index) => _guestTables.Entry(table, index);

    /// <summary>
    /// The guest kernel writes one entry. In shadow mode a write to a page-table page that has a shadow
    /// table traps (it is write-protected): KVM emulates it and clears the shadow entry that mirrors it.
    /// </summary>
    private void WriteGuestEntry(ulong table, int level, int index, ulong value)
    {
        ref var slot = ref _guestTables[table][index];
        if ((slot & Pte.Present) != 0) _memo?.Invalidate();
        slot = value;
        Charge(CostKind.PteWrite);
        if (_shadow is not null && _shadow.IsWriteProtected(table))
        {
            var linear = DirectMapBase + table + (ulong)index * 8;
            Exit(ExitReason.ExceptionNmi, Tracing ? new PageFaultExit(Cycle, AccessNumber, new Gva(linear), 0b11) : null);
            Charge(CostKind.Emulate);
            if (Tracing) _trace!.Emit(new EmulatedWriteEvent(Cycle, AccessNumber, new Gpa(table + (ulong)index * 8)));
            ShadowMirrorWrite(table, level, index);
            Resume();
        }
    }

    private static ulong LeafBits(Perms perms, int level) =>
        Pte.Present | Pte.User * (perms.Kernel ? 0UL : 1UL) | (perms.Write ? Pte.Writable : 0) | (perms.Exec ? 0 : Pte.ExecuteDisable)
        | (level > 1 ? Pte.PageSize : 0);

    /// <summary>Fails at once when a mapping would need more page-table pages than the limit leaves.</summary>
    private void CheckMappingFits(ulong size, PageSize page)
    {
        var leafTables = size / (page.Bytes() * 512) + 1;
        if (Counters.PagesGuestPt + Counters.PagesEpt + Counters.PagesShadow + (long)Math.Min(leafTables, long.MaxValue / 2) > _options.MaxTablePages)
            throw EngineException.PageLimit("page-table pages", _options.MaxTablePages);
    }

    /// <summary>
    /// Maps [<paramref name="gva"/>, +<paramref name="size"/>) to guest-physical memory from
    /// <paramref name="gpa"/> with present entries, and records the region; returns the pages mapped.
    /// </summary>
    private long MapRange(GuestProcess process, ulong gva, ulong size, PageSize page, ulong gpa, Perms perms)
    {
        CheckMappingFits(size, page);
        long pages = 0;
        for (var offset = 0UL; offset < size; offset += page.Bytes())
        {
            // The first page of each leaf table walks from the root (creating tables); the pages after
            // it in the same table only have their leaves written.
            var table = WriteMapping(process, gva + offset, gpa + offset, page, perms);
            var more = WriteLeafRun(process, gva + offset, gpa + offset, (size - offset) / page.Bytes() - 1, page, perms, table);
            pages += 1 + more;
            offset += (ulong)more * page.Bytes();
        }
        process.Vmas.Add(Vma.Of(gva, size, page, perms, VmaKind.Mapped));
        return pages;
    }

    /// <summary>
    /// Writes the leaves of up to <paramref name="wanted"/> pages after the one at <paramref name="gva"/>
    /// that share its leaf <paramref name="table"/>, as <see cref="WriteMapping"/> would one by one, and
    /// returns how many. Writing a leaf that is not present changes nothing else a walk reads and traps
    /// in no mode but shadow (a write-protected table), where each goes through WriteGuestEntry; in the
    /// others they are written directly and their charges made as one sum.
    /// </summary>
    private long WriteLeafRun(GuestProcess process, ulong gva, ulong gpa, ulong wanted, PageSize page, Perms perms, ulong table)
    {
        var level = LevelOf(page);
        var first = Pte.Index(gva, level);
        var count = (int)Math.Min(wanted, (ulong)(511 - first));
        var entries = _guestTables[table];
        var bits = LeafBits(perms, level);
        var bytes = page.Bytes();
        ulong uncharged = 0;
        for (var k = 1; k <= count; k++)
        {
            ref var entry = ref Pte.At(entries, first + k);
            if ((entry & Pte.Present) != 0)
            {
                Charge(CostKind.PteWrite, uncharged);
                throw AlreadyMapped(process, gva + (ulong)k * bytes);
            }
            var value = (gpa + (ulong)k * bytes) | bits;
            if (_shadow is not null)
            {
                WriteGuestEntry(table, level, first + k, value);
                continue;
            }
            entry = value;
            uncharged++;
        }
        Charge(CostKind.PteWrite, uncharged);
        return count;
    }

    private static EngineException AlreadyMapped(GuestProcess process, ulong gva) =>
        EngineException.MappingConflict($"{Hex.Format(gva)} is already mapped in process '{process.Name}'; unmap it first");

    /// <summary>Writes the entries mapping one page, creating the tables it needs (each zeroed); returns its leaf table.</summary>
    private ulong WriteMapping(GuestProcess process, ulong gva, ulong gpa, PageSize page, Perms perms)
    {
        var leafLevel = LevelOf(page);
        var table = process.Root;
        for (var level = _levels; level > leafLevel; level--)
        {
            var index = Pte.Index(gva, level);
            var entry = ReadGuestEntry(table, index);
            if ((entry & Pte.Present) == 0)
            {
                var child = AllocateTable(process.Name, gva);
                Charge(CostKind.ZeroPageGuest);
                WriteGuestEntry(table, level, index, child | Pte.Table);
                table = child;
            }
            else if ((entry & Pte.PageSize) != 0)
            {
                throw EngineException.MappingConflict($"cannot map a {page.Text()} page at {Hex.Format(gva)}: a larger page already maps it");
            }
            else
            {
                table = entry & Pte.AddressMask;
            }
        }
        var leafIndex = Pte.Index(gva, leafLevel);
        if ((ReadGuestEntry(table, leafIndex) & Pte.Present) != 0)
            throw AlreadyMapped(process, gva);
        WriteGuestEntry(table, leafLevel, leafIndex, gpa | LeafBits(perms, leafLevel));
        return table;
    }

    /// <summary>The VMA that decides a fault at <paramref name="gva"/>, including <c>demand all</c>.</summary>
    private Vma? FaultVma(GuestProcess process, ulong gva)
    {
        var vma = process.Vmas.Find(gva);
        if (vma is not null) return vma.Kind == VmaKind.Hole ? null : vma;
        if (process.DemandAll is { } perms && gva < (_levels == 5 ? 1UL << 56 : 1UL << 47))
            return Vma.Of(gva & ~0xfffUL, 4096, PageSize.Size4K, perms, VmaKind.Demand);
        return null;
    }

    /// <summary>
    /// A guest page fault. A not-present page in a demand region is filled (tables top down, then the
    /// frame) and the access retried; anything else is a segmentation fault and the access is dropped.
    /// </summary>
    private FillOutcome GuestFault(ulong gva, AccessKind kind, bool kernel, bool notPresent)
    {
        var process = _current!;
        Counters.GuestFaults++;
        Charge(CostKind.GuestFault);
        var vma = FaultVma(process, gva);
        var fill = notPresent && vma is { Kind: VmaKind.Demand } &&
                   Allows(vma.Perms.Write, !vma.Perms.Kernel, vma.Perms.Exec, kind, kernel);
        if (Tracing) _trace!.Emit(new GuestFaultEvent(Cycle, AccessNumber, new Gva(gva), kind, notPresent, fill));
        if (!fill)
        {
            Counters.Segv++;
            return FillOutcome.Dropped;
        }
        DemandFill(process, vma!, gva);
        return FillOutcome.Retry;
    }

    private void DemandFill(GuestProcess process, Vma vma, ulong gva)
    {
        var page = vma.Page;
        var leafLevel = LevelOf(page);
        var pageBase = gva & ~(page.Bytes() - 1);
        // Tables first, top down, then the frame: the allocator hands out frames in that order.
        var table = process.Root;
        var pending = new List<(ulong Table, int Level, int Index, ulong Value)>(_levels);
        for (var level = _levels; level > leafLevel; level--)
        {
            var index = Pte.Index(gva, level);
            var entry = ReadGuestEntry(table, index);
            if ((entry & Pte.Present) != 0)
            {
                table = entry & Pte.AddressMask;
                continue;
            }
            var child = AllocateTable(process.Name, gva);
            Charge(CostKind.ZeroPageGuest);
            pending.Add((table, level, index, child | Pte.Table));
            table = child;
        }
        var frame = _frames.Allocate(page.Bytes()) ?? throw EngineException.OutOfGuestMemory(process.Name, gva);
        Charge(CostKind.ZeroPageGuest, page.Bytes() / 4096);
        foreach (var (t, level, index, value) in pending) WriteGuestEntry(t, level, index, value);
        WriteGuestEntry(table, leafLevel, Pte.Index(pageBase, leafLevel), frame | LeafBits(vma.Perms, leafLevel));
    }

    // ------------------------------------------------------------ CR3, INVLPG

    /// <summary>Switches to a process (the first run block, or <c>switch</c>); the current process loads nothing.</summary>
    public void SwitchTo(string name)
    {
        var process = _processes[name];
        if (process == _current) return;
        LoadCr3(process, reload: false);
    }

    /// <summary><c>flush tlb</c>: reload the same CR3, flushing the current process's entries.</summary>
    public void FlushTlb() => LoadCr3(RequireCurrent(), reload: true);

    private GuestProcess RequireCurrent() => _current ?? throw new InvalidOperationException("no process is running");

    private void LoadCr3(GuestProcess process, bool reload)
    {
        Charge(CostKind.Cr3Switch);
        if (Tracing) _trace!.Emit(new Cr3Event(Cycle, AccessNumber, process.Name, new Gpa(process.Root), reload));
        var tag = TagOf(process);
        if (reload)
        {
            _tlb.FlushTag(tag);
            _pwc?.FlushTag(tag);
        }
        else if (!_options.Pcid)
        {
            _tlb.FlushAll();
            _pwc?.FlushAll();
        }
        _current = process;
        _currentTag = tag;
        if (_shadow is not null)
        {
            Exit(ExitReason.CrAccess, Tracing ? new CrAccessExit(Cycle, AccessNumber, process.Name, new Gpa(process.Root)) : null);
            ShadowRoot(process);
            Resume();
        }
    }

    /// <summary>INVLPG: drops the current process's entries for the page holding the address (all of a huge page).</summary>
    public void Invlpg(ulong gva)
    {
        RequireCurrent();
        if (Tracing) _trace!.Emit(new InvlpgEvent(Cycle, AccessNumber, new Gva(gva)));
        if (!IsCanonical(gva))
        {
            // INVLPG of a non-canonical address is a NOP (SDM vol. 2A, INVLPG); under shadow paging it
            // still exits, and KVM ignores it (kvm_mmu_invalidate_addr, is_noncanonical_invlpg_address).
            if (_shadow is not null)
            {
                Exit(ExitReason.Invlpg, Tracing ? new InvlpgExit(Cycle, AccessNumber, new Gva(gva)) : null);
                Resume();
            }
            return;
        }
        _tlb.InvalidatePage(gva, _currentTag);
        // INVLPG also invalidates the paging-structure caches of the current PCID (SDM 4.10.4.1).
        _pwc?.FlushTag(_currentTag);
        if (_shadow is not null)
        {
            Exit(ExitReason.Invlpg, Tracing ? new InvlpgExit(Cycle, AccessNumber, new Gva(gva)) : null);
            ShadowInvalidatePage(gva);
            Resume();
        }
    }

    // ------------------------------------------------------------ run-time page-table edits

    /// <summary>Run-time <c>map</c>: writes present entries at once (mmap with MAP_POPULATE).</summary>
    public void Map(ulong gva, ulong size, PageSize page, ulong gpa, Perms perms)
    {
        var process = RequireUnmapped("map", gva, size);
        var pages = MapRange(process, gva, size, page, gpa, perms);
        if (Tracing) _trace!.Emit(new PageTableEditEvent(Cycle, AccessNumber, "map", new Gva(gva), size, pages));
    }

    /// <summary>Run-time <c>demand</c>: only records the region.</summary>
    public void Demand(ulong gva, ulong size, PageSize page, Perms perms)
    {
        RequireUnmapped("demand", gva, size).Vmas.Add(Vma.Of(gva, size, page, perms, VmaKind.Demand));
    }

    /// <summary>The current process, when no region of it overlaps [gva, gva + size) (mmap without MAP_FIXED's clobbering).</summary>
    private GuestProcess RequireUnmapped(string operation, ulong gva, ulong size)
    {
        var process = RequireCurrent();
        var last = gva + (size - 1);
        if (process.Vmas.FirstOverlap(gva, last) is { } other)
            throw EngineException.MappingConflict($"{operation} {Hex.Format(gva)}..{Hex.Format(last)} overlaps the mapping {Hex.Format(other.Start)}..{Hex.Format(other.Last)}; unmap it first");
        return process;
    }

    public void DemandAll(Perms perms) => RequireCurrent().DemandAll = perms;

    /// <summary>Run-time <c>unmap</c> (munmap): clears the present leaves, forgets the range, then flushes.</summary>
    public void Unmap(ulong gva, ulong size)
    {
        var process = RequireCurrent();
        var last = gva + (size - 1);
        var changed = RewriteLeaves(process, gva, last, "unmap", (_, _) => 0);
        process.Vmas.RemoveRange(gva, last);
        if (process.DemandAll is not null)
            process.Vmas.Add(new Vma(gva, last, PageSize.Size4K, default, VmaKind.Hole));
        if (Tracing) _trace!.Emit(new PageTableEditEvent(Cycle, AccessNumber, "unmap", new Gva(gva), size, changed.Count));
        FlushChanged(changed);
    }

    /// <summary>Run-time <c>protect</c> (mprotect): rewrites the present leaves' permissions, then flushes.</summary>
    public void Protect(ulong gva, ulong size, Perms perms)
    {
        var process = RequireCurrent();
        var last = gva + (size - 1);
        var changed = RewriteLeaves(process, gva, last, "protect",
            (entry, level) => (entry & Pte.AddressMask) | LeafBits(perms, level));
        process.Vmas.SetPerms(gva, last, perms);
        if (process.DemandAll is not null)
        {
            // Under demand all, protecting untouched space creates a region with the new permissions.
            // Inclusive ends: the range may end at 2^64, where v would wrap past its last address.
            for (var v = gva; ;)
            {
                var vma = process.Vmas.Find(v);
                var regionLast = vma?.Last ?? Math.Min(last, process.Vmas.All.Where(x => x.Start > v).Select(x => x.Start - 1).DefaultIfEmpty(last).Min());
                if (vma is null) process.Vmas.Add(new Vma(v, regionLast, PageSize.Size4K, perms, VmaKind.Demand));
                if (regionLast >= last) break;
                v = regionLast + 1;
            }
        }
        if (Tracing) _trace!.Emit(new PageTableEditEvent(Cycle, AccessNumber, "protect", new Gva(gva), size, changed.Count));
        FlushChanged(changed);
    }

    /// <summary>Rewrites every present leaf in [start, last]; returns the base of each page changed.</summary>
    private List<ulong> RewriteLeaves(GuestProcess process, ulong start, ulong last, string operation, Func<ulong, int, ulong> rewrite)
    {
        var changed = new List<ulong>();
        var leaves = new List<(ulong Table, int Level, int Index, ulong Entry, ulong Base)>();
        CollectLeaves(process.Root, _levels, 0, start, last, leaves);
        foreach (var leaf in leaves)
        {
            var coverage = Pte.Coverage(leaf.Level);
            if (leaf.Base < start || leaf.Base + (coverage - 1) > last)
                throw EngineException.MappingConflict($"{operation} of part of the {SizeOfLevel(leaf.Level).Text()} page at {Hex.Format(leaf.Base)}: split it or {operation} the whole page");
        }
        foreach (var leaf in leaves)
        {
            WriteGuestEntry(leaf.Table, leaf.Level, leaf.Index, rewrite(leaf.Entry, leaf.Level));
            changed.Add(leaf.Base);
        }
        return changed;
    }

    private void CollectLeaves(ulong table, int level, ulong tableBase, ulong start, ulong last,
        List<(ulong Table, int Level, int Index, ulong Entry, ulong Base)> leaves)
    {
        var coverage = Pte.Coverage(level);
        var entries = _guestTables[table];
        for (var i = 0; i < 512; i++)
        {
            // The last address an entry covers, not the one after it: the root's last entry covers the
            // top of the address space, where base + coverage wraps to 0.
            var entryBase = SignExtend(tableBase + (ulong)i * coverage);
            var entryLast = entryBase + (coverage - 1);
            if (entryLast < start || entryBase > last) continue;
            var entry = entries[i];
            if ((entry & Pte.Present) == 0) continue;
            if (level == 1 || (entry & Pte.PageSize) != 0) leaves.Add((table, level, i, entry, entryBase));
            else CollectLeaves(entry & Pte.AddressMask, level - 1, entryBase, start, last, leaves);
        }
    }

    private ulong SignExtend(ulong address) => (ulong)((long)(address << (64 - VirtualBits)) >> (64 - VirtualBits));

    private int VirtualBits => _levels == 5 ? 57 : 48;

    /// <summary>Linux's flush after unmap or mprotect: INVLPG each page up to 33 of them, else a full CR3 reload.</summary>
    private void FlushChanged(List<ulong> changed)
    {
        if (changed.Count == 0) return;
        if (changed.Count <= 33)
            foreach (var page in changed) Invlpg(page);
        else
            FlushTlb();
    }
}
