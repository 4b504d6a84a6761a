using MemScript.Engine.Accounting;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;
using MemScript.Engine.Translation;
using MemScript.Language.Checking;

namespace MemScript.Engine.Guest;

/// <summary>
/// The guest kernel: its processes and their page tables, the frame allocator, page faults and the
/// run-time edits map, demand, unmap and protect. Its memory accesses are charged as costs; the one
/// side effect it has on the host is through the mode, which sees every page-table write it makes.
/// </summary>
internal sealed class GuestKernel(Machine machine, FrameAllocator frames)
{
    private readonly Dictionary<string, GuestProcess> _processes = new(StringComparer.Ordinal);

    /// <summary>Every guest page-table page, by frame.</summary>
    public TableStore Tables { get; } = new();

    /// <summary>The process whose CR3 is loaded, or null before the first <c>run</c> block.</summary>
    public GuestProcess? Current { get; set; }

    public int ProcessCount => _processes.Count;

    public GuestProcess Process(string name) => _processes[name];

    public GuestProcess RequireCurrent() => Current ?? throw new InvalidOperationException("no process is running");

    /// <summary>The kernel's direct map of physical memory (Linux's PAGE_OFFSET), where it writes page tables.</summary>
    public ulong DirectMapBase => machine.Levels == 5 ? 0xff11_0000_0000_0000UL : 0xffff_8880_0000_0000UL;

    /// <inheritdoc cref="Machine.GuestPageTableFingerprint"/>
    public ulong Fingerprint()
    {
        var hash = 14695981039346656037UL;
        foreach (var (frame, entries) in Tables.All.OrderBy(t => t.Key))
        {
            hash = (hash ^ frame) * 1099511628211UL;
            foreach (var e in entries) hash = (hash ^ e) * 1099511628211UL;
        }
        return hash;
    }

    // ------------------------------------------------------------ set-up

    public void SetUp(ProcessInfo info)
    {
        var root = AllocateTable(info.Name, 0);
        var process = new GuestProcess(info.Name, _processes.Count, root);
        _processes.Add(info.Name, process);
        foreach (var m in info.Mappings)
        {
            switch (m.Kind)
            {
                case MappingKind.Map:
                    MapRange(process, m.Gva, m.Size, m.Page, m.Gpa, m.Perms);
                    break;
                case MappingKind.Demand:
                    process.Vmas.Add(Vma.Of(m.Gva, m.Size, m.Page, m.Perms, VmaKind.Demand));
                    break;
                case MappingKind.DemandAll:
                    process.DemandAll = m.Perms;
                    break;
                default:
                    throw new InvalidOperationException($"a mapping kind set-up does not handle: {m.Kind}");
            }
        }
    }

    private ulong AllocateTable(string process, ulong gva)
    {
        machine.CountTablePage();
        var frame = frames.Allocate(4096) ?? throw EngineException.OutOfGuestMemory(process, gva);
        Tables.Add(frame, new ulong[512]);
        machine.Counters.PagesGuestPt++;
        return frame;
    }

    // ------------------------------------------------------------ page-table entries

    /// <summary>
    /// The guest kernel writes one entry (charged <c>pte-write</c>). Overwriting a present entry tells the
    /// accelerator that the tables changed; the mode then sees the write (shadow paging traps it when the
    /// table is write-protected).
    /// </summary>
    public void WriteEntry(ulong table, int level, int index, ulong value)
    {
        ref var slot = ref Tables.Entry(table, index);
        if ((slot & Pte.Present) != 0) machine.Fast.TablesChanged();
        slot = value;
        machine.Charge(CostKind.PteWrite);
        machine.Translation.OnTableWrite(table, level, index);
    }

    private static ulong LeafBits(Perms perms, int level) =>
        Pte.Present | Pte.User * (perms.Kernel ? 0UL : 1UL) | (perms.Write ? Pte.Writable : 0) | (perms.Exec ? 0 : Pte.ExecuteDisable)
        | (level > 1 ? Pte.PageSize : 0);

    /// <summary>Fails at once when a mapping would need more page-table pages than the limit leaves.</summary>
    private void CheckMappingFits(ulong size, PageSize page)
    {
        var counters = machine.Counters;
        var leafTables = size / (page.Bytes() * 512) + 1;
        if (counters.PagesGuestPt + counters.PagesEpt + counters.PagesShadow + (long)Math.Min(leafTables, long.MaxValue / 2) > machine.Options.MaxTablePages)
            throw EngineException.PageLimit("page-table pages", machine.Options.MaxTablePages);
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
    /// returns how many. Writing a leaf that is not present changes nothing else a walk reads; where the
    /// mode sees page-table writes each goes through <see cref="WriteEntry"/>, elsewhere they are
    /// written directly and their charges made as one sum.
    /// </summary>
    private long WriteLeafRun(GuestProcess process, ulong gva, ulong gpa, ulong wanted, PageSize page, Perms perms, ulong table)
    {
        var level = PagingLevels.Of(page);
        var first = Pte.Index(gva, level);
        var count = (int)Math.Min(wanted, (ulong)(511 - first));
        var entries = Tables[table];
        var bits = LeafBits(perms, level);
        var bytes = page.Bytes();
        var oneByOne = machine.Translation.SeesTableWrites;
        ulong uncharged = 0;
        for (var k = 1; k <= count; k++)
        {
            ref var entry = ref Pte.At(entries, first + k);
            if ((entry & Pte.Present) != 0)
            {
                machine.Charge(CostKind.PteWrite, uncharged);
                throw AlreadyMapped(process, gva + (ulong)k * bytes);
            }
            var value = (gpa + (ulong)k * bytes) | bits;
            if (oneByOne)
            {
                WriteEntry(table, level, first + k, value);
                continue;
            }
            entry = value;
            uncharged++;
        }
        machine.Charge(CostKind.PteWrite, uncharged);
        return count;
    }

    private static EngineException AlreadyMapped(GuestProcess process, ulong gva) =>
        EngineException.MappingConflict($"{Hex.Format(gva)} is already mapped in process '{process.Name}'; unmap it first");

    /// <summary>Writes the entries mapping one page, creating the tables it needs (each zeroed); returns its leaf table.</summary>
    private ulong WriteMapping(GuestProcess process, ulong gva, ulong gpa, PageSize page, Perms perms)
    {
        var leafLevel = PagingLevels.Of(page);
        var table = process.Root;
        for (var level = machine.Levels; level > leafLevel; level--)
        {
            var index = Pte.Index(gva, level);
            var entry = Tables.Entry(table, index);
            if ((entry & Pte.Present) == 0)
            {
                var child = AllocateTable(process.Name, gva);
                machine.Charge(CostKind.ZeroPageGuest);
                WriteEntry(table, level, index, child | Pte.Table);
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
        if ((Tables.Entry(table, leafIndex) & Pte.Present) != 0)
            throw AlreadyMapped(process, gva);
        WriteEntry(table, leafLevel, leafIndex, gpa | LeafBits(perms, leafLevel));
        return table;
    }

    // ------------------------------------------------------------ page faults

    /// <summary>The VMA that decides a fault at <paramref name="gva"/>, including <c>demand all</c>.</summary>
    public Vma? FaultVma(GuestProcess process, ulong gva)
    {
        var vma = process.Vmas.Find(gva);
        if (vma is not null) return vma.Kind == VmaKind.Hole ? null : vma;
        if (process.DemandAll is { } perms && gva < (machine.Levels == 5 ? 1UL << 56 : 1UL << 47))
            return Vma.Of(gva & ~0xfffUL, 4096, PageSize.Size4K, perms, VmaKind.Demand);
        return null;
    }

    /// <summary>
    /// A guest page fault. A not-present page in a demand region is filled (tables top down, then the
    /// frame) and the access retried; anything else is a segmentation fault and the access is dropped.
    /// </summary>
    public FillOutcome GuestFault(ulong gva, AccessKind kind, bool kernel, bool notPresent)
    {
        var process = Current!;
        machine.Counters.GuestFaults++;
        machine.Charge(CostKind.GuestFault);
        var vma = FaultVma(process, gva);
        var fill = notPresent && vma is { Kind: VmaKind.Demand } &&
                   Machine.Allows(new PathPermissions { Writable = vma.Perms.Write, User = !vma.Perms.Kernel, Executable = vma.Perms.Exec }, kind, kernel);
        if (machine.Tracing) machine.Emit(new GuestFaultEvent(machine.Cycle, machine.AccessNumber, new Gva(gva), kind, notPresent, fill));
        if (!fill)
        {
            machine.Counters.Segv++;
            return FillOutcome.Dropped;
        }
        DemandFill(process, vma!, gva);
        return FillOutcome.Retry;
    }

    private void DemandFill(GuestProcess process, Vma vma, ulong gva)
    {
        var page = vma.Page;
        var leafLevel = PagingLevels.Of(page);
        var pageBase = gva & ~(page.Bytes() - 1);
        // Tables first, top down, then the frame: the allocator hands out frames in that order, and the
        // entries are written once all are allocated.
        var table = process.Root;
        var pending = new List<(ulong Table, int Level, int Index, ulong Value)>(machine.Levels);
        for (var level = machine.Levels; level > leafLevel; level--)
        {
            var index = Pte.Index(gva, level);
            var entry = Tables.Entry(table, index);
            if ((entry & Pte.Present) != 0)
            {
                table = entry & Pte.AddressMask;
                continue;
            }
            var child = AllocateTable(process.Name, gva);
            machine.Charge(CostKind.ZeroPageGuest);
            pending.Add((table, level, index, child | Pte.Table));
            table = child;
        }
        var frame = frames.Allocate(page.Bytes()) ?? throw EngineException.OutOfGuestMemory(process.Name, gva);
        machine.Charge(CostKind.ZeroPageGuest, page.Bytes() / 4096);
        foreach (var (t, level, index, value) in pending) WriteEntry(t, level, index, value);
        WriteEntry(table, leafLevel, Pte.Index(pageBase, leafLevel), frame | LeafBits(vma.Perms, leafLevel));
    }

    // ------------------------------------------------------------ run-time page-table edits

    /// <summary>Run-time <c>map</c>: writes present entries at once (mmap with MAP_POPULATE).</summary>
    public void Map(ulong gva, ulong size, PageSize page, ulong gpa, Perms perms)
    {
        var process = RequireUnmapped("map", gva, size);
        var pages = MapRange(process, gva, size, page, gpa, perms);
        if (machine.Tracing) machine.Emit(new PageTableEditEvent(machine.Cycle, machine.AccessNumber, "map", new Gva(gva), size, pages));
    }

    /// <summary>Run-time <c>demand</c>: only records the region.</summary>
    public void Demand(ulong gva, ulong size, PageSize page, Perms perms) =>
        RequireUnmapped("demand", gva, size).Vmas.Add(Vma.Of(gva, size, page, perms, VmaKind.Demand));

    public void DemandAll(Perms perms) => RequireCurrent().DemandAll = perms;

    /// <summary>The current process, when no region of it overlaps [gva, gva + size) (mmap without MAP_FIXED's clobbering).</summary>
    private GuestProcess RequireUnmapped(string operation, ulong gva, ulong size)
    {
        var process = RequireCurrent();
        var last = gva + (size - 1);
        if (process.Vmas.FirstOverlap(gva, last) is { } other)
            throw EngineException.MappingConflict($"{operation} {Hex.Format(gva)}..{Hex.Format(last)} overlaps the mapping {Hex.Format(other.Start)}..{Hex.Format(other.Last)}; unmap it first");
        return process;
    }

    /// <summary>Run-time <c>unmap</c> (munmap): clears the present leaves, forgets the range, then flushes.</summary>
    public void Unmap(ulong gva, ulong size)
    {
        var process = RequireCurrent();
        var last = gva + (size - 1);
        var changed = RewriteLeaves(process, gva, last, "unmap", (_, _) => 0);
        process.Vmas.RemoveRange(gva, last);
        if (process.DemandAll is not null)
            process.Vmas.Add(new Vma(gva, last, PageSize.Size4K, default, VmaKind.Hole));
        if (machine.Tracing) machine.Emit(new PageTableEditEvent(machine.Cycle, machine.AccessNumber, "unmap", new Gva(gva), size, changed.Count));
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
        if (machine.Tracing) machine.Emit(new PageTableEditEvent(machine.Cycle, machine.AccessNumber, "protect", new Gva(gva), size, changed.Count));
        FlushChanged(changed);
    }

    /// <summary>Rewrites every present leaf in [start, last]; returns the base of each page changed.</summary>
    private List<ulong> RewriteLeaves(GuestProcess process, ulong start, ulong last, string operation, Func<ulong, int, ulong> rewrite)
    {
        var changed = new List<ulong>();
        var leaves = new List<(ulong Table, int Level, int Index, ulong Entry, ulong Base)>();
        CollectLeaves(process.Root, machine.Levels, 0, start, last, leaves);
        foreach (var leaf in leaves)
        {
            var coverage = Pte.Coverage(leaf.Level);
            if (leaf.Base < start || leaf.Base + (coverage - 1) > last)
                throw EngineException.MappingConflict($"{operation} of part of the {PagingLevels.SizeOf(leaf.Level).Text()} page at {Hex.Format(leaf.Base)}: split it or {operation} the whole page");
        }
        foreach (var leaf in leaves)
        {
            WriteEntry(leaf.Table, leaf.Level, leaf.Index, rewrite(leaf.Entry, leaf.Level));
            changed.Add(leaf.Base);
        }
        return changed;
    }

    private void CollectLeaves(ulong table, int level, ulong tableBase, ulong start, ulong last,
        List<(ulong Table, int Level, int Index, ulong Entry, ulong Base)> leaves)
    {
        var coverage = Pte.Coverage(level);
        var entries = Tables[table];
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

    /// <summary>The canonical form of an address built from table indices: bits above the virtual-address width copy its top bit.</summary>
    public ulong SignExtend(ulong address) => (ulong)((long)(address << (64 - machine.VirtualBits)) >> (64 - machine.VirtualBits));

    /// <summary>Linux's flush after unmap or mprotect: INVLPG each page up to 33 of them, else a full CR3 reload.</summary>
    private void FlushChanged(List<ulong> changed)
    {
        if (changed.Count == 0) return;
        if (changed.Count <= 33)
            foreach (var page in changed) machine.Invlpg(page);
        else
            machine.FlushTlb();
    }
}
