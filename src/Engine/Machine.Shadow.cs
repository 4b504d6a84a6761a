using MemScript.Engine.Accounting;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;
using MemScript.Engine.Translation;
using MemScript.Language;
using MemScript.Language.Syntax;

namespace MemScript.Engine;

// KVM's shadow MMU (SEMANTICS.md section 5).
public sealed partial class Machine
{
    // The shadow tables on the path being built (never zapped while it is built): one list reused by
    // every fill, as a fill is not re-entered.
    private readonly List<ShadowPage> _shadowPath = new(6);

    private const uint PfPresent = 1, PfWrite = 2, PfUser = 4, PfReserved = 8, PfFetch = 16;

    private static uint ErrorCode(AccessKind kind, bool kernel, bool present) =>
        (present ? PfPresent : 0) | (kind == AccessKind.Write ? PfWrite : 0) | (kernel ? 0 : PfUser) | (kind == AccessKind.Exec ? PfFetch : 0);

    private FillOutcome FillShadow(ulong gva, AccessKind kind, bool kernel)
    {
        var shadow = _shadow!;
        var root = ShadowRoot(_current!);
        var (start, level) = WalkStart(root.Hpa, gva);
        var page = start == root.Hpa ? root : shadow.ByHpa(start);
        var refs = 0;
        var present = false;
        var exited = false;
        var perms = PathPermissions.All;
        for (; ; level--)
        {
            refs++;
            var entry = ShadowTables.EntryOf(page, Pte.Index(gva, level));
            if ((entry & Pte.Present) == 0) break;
            perms.Apply(entry);
            if ((entry & Pte.MmioMarker) != 0)
            {
                // KVM's MMIO shadow entry: the reserved bit faults. The entry keeps the guest's access
                // bits; when they allow the access KVM hands it to the VMM without walking the guest
                // table again, otherwise it walks the guest table and injects the #PF.
                CountWalk(gva, kind, refs);
                Exit(ExitReason.ExceptionNmi, Tracing ? new PageFaultExit(Cycle, AccessNumber, new Gva(gva), ErrorCode(kind, kernel, true) | PfReserved) : null);
                if (Allows(perms.Writable, perms.User, perms.Executable, kind, kernel))
                    return Mmio(gva, (entry & Pte.AddressMask & ~Pte.MmioMarker) + (gva & 0xfff), kind);
                exited = true;
                break;
            }
            if (Pte.IsLeaf(entry, level))
            {
                if (Allows(perms.Writable, perms.User, perms.Executable, kind, kernel))
                {
                    // A direct (splitting) table below the guest leaf: the guest page is larger than this entry.
                    return CompleteWalk(gva, kind, refs, SizeOfLevel(level), SizeOfLevel(Math.Max(level, page.GuestPageLevel)), perms, true, true,
                        entry & Pte.AddressMask & ~(Pte.Coverage(level) - 1));
                }
                present = true;
                break;
            }
            _pwc?.Fill(gva, _currentTag, level, entry & Pte.AddressMask);
            page = shadow.Child(page, Pte.Index(gva, level), entry);
        }
        if (!exited)
        {
            CountWalk(gva, kind, refs);
            Exit(ExitReason.ExceptionNmi, Tracing ? new PageFaultExit(Cycle, AccessNumber, new Gva(gva), ErrorCode(kind, kernel, present)) : null);
        }

        // KVM walks the guest table in software (FNAME(walk_addr)).
        Span<ulong> tables = stackalloc ulong[6];
        var walk = SoftwareWalk(gva, tables);
        if (!walk.Present) return GuestFault(gva, kind, kernel, notPresent: true);
        if (!Allows(walk.Writable, walk.User, walk.Executable, kind, kernel)) return GuestFault(gva, kind, kernel, notPresent: false);
        Charge(CostKind.SlotLookup);
        var slot = FindSlot(walk.Gpa);
        if (slot is null)
        {
            Charge(CostKind.ShadowFill);
            var mmioPage = walk.Gpa & ~0xfffUL;
            var access = (walk.Writable ? Pte.Writable : 0) | (walk.User ? Pte.User : 0) | (walk.Executable ? 0 : Pte.ExecuteDisable);
            BuildShadowPath(gva, tables, walk, 1, mmioPage | Pte.Present | Pte.MmioMarker | access);
            if (Tracing) _trace!.Emit(new ShadowMapEvent(Cycle, AccessNumber, new Gva(gva & ~0xfffUL), new Hpa(0), PageSize.Size4K, false, true));
            return Mmio(gva, walk.Gpa, kind);
        }
        if (slot.Readonly && kind == AccessKind.Write) return Mmio(gva, walk.Gpa, kind);
        var hpa = TouchHost(slot, walk.Gpa);
        var size = Min(SizeOfLevel(walk.LeafLevel), HostMapSize(slot, walk.Gpa));
        var bytes = size.Bytes();
        var leafLevel = LevelOf(size);
        var writableLeaf = walk.Writable && !slot.Readonly;
        var leaf = (hpa & ~(bytes - 1)) | Pte.Present | (writableLeaf ? Pte.Writable : 0) | (walk.User ? Pte.User : 0)
                   | (walk.Executable ? 0 : Pte.ExecuteDisable) | (leafLevel > 1 ? Pte.PageSize : 0);
        Charge(CostKind.ShadowFill);
        BuildShadowPath(gva, tables, walk, leafLevel, leaf);
        if (Tracing) _trace!.Emit(new ShadowMapEvent(Cycle, AccessNumber, new Gva(gva & ~(bytes - 1)), new Hpa(hpa & ~(bytes - 1)), size, writableLeaf, false));
        return FillOutcome.Retry;
    }

    /// <summary>The shadow root of a process's CR3, created empty when KVM has none.</summary>
    private ShadowPage ShadowRoot(GuestProcess process) =>
        KnownShadowRoot(process) ?? (_lastShadowRoot = CreateShadowPage(new ShadowKey(process.Root, _levels, false, 0), 0, []));

    /// <summary>The shadow root of a process's CR3 if KVM has one (creates nothing).</summary>
    private ShadowPage? KnownShadowRoot(GuestProcess process)
    {
        var key = new ShadowKey(process.Root, _levels, false, 0);
        if (_lastShadowRoot is { Removed: false } last && last.Key == key) return last;
        return _lastShadowRoot = _shadow!.Find(key);
    }

    // The root found last: every fill and every prefetch of a shadow walk asks for the current
    // process's, and a table lookup by key each time was a good part of a fill. It is not used once
    // zapped, though a current root never is (the path being built is pinned): a guard, should that
    // rule change.
    private ShadowPage? _lastShadowRoot;

    /// <summary>
    /// Creates the shadow tables missing on the path to <paramref name="gva"/> and writes its leaf. Tables
    /// above the guest leaf shadow guest tables; below it (a guest huge page the host cannot map whole)
    /// they are direct tables that split the page.
    /// </summary>
    private void BuildShadowPath(ulong gva, Span<ulong> guestTables, GuestWalk walk, int shadowLeafLevel, ulong leafEntry)
    {
        var shadow = _shadow!;
        var page = ShadowRoot(_current!);
        var pinned = _shadowPath;
        pinned.Clear();
        pinned.Add(page);
        var access = (walk.Writable ? 1 : 0) | (walk.User ? 2 : 0) | (walk.Executable ? 4 : 0);
        for (var level = _levels; level > shadowLeafLevel; level--)
        {
            var index = Pte.Index(gva, level);
            var entry = page.Entries[index];
            ShadowPage child;
            if (ShadowTables.IsTablePointer(entry, level))
            {
                child = shadow.Child(page, index, entry);
            }
            else
            {
                if ((entry & Pte.Present) != 0)
                {
                    shadow.ClearEntry(page, index);
                    _memo?.Invalidate();
                }
                var coverage = Pte.Coverage(level);
                var key = level - 1 >= walk.LeafLevel
                    ? new ShadowKey(guestTables[level - 1], level - 1, false, 0)
                    : new ShadowKey(walk.Gpa & ~(coverage - 1), level - 1, true, access);
                child = shadow.Find(key) ?? CreateShadowPage(key, SignExtend(gva & ~(coverage - 1)), pinned, key.Direct ? walk.LeafLevel : 0);
                page.Entries[index] = child.Hpa | Pte.Table;
                child.Parents.Add((page, index));
            }
            pinned.Add(child);
            page = child;
        }
        var leafIndex = Pte.Index(gva, shadowLeafLevel);
        if ((page.Entries[leafIndex] & Pte.Present) != 0) _memo?.Invalidate();
        if (ShadowTables.IsTablePointer(page.Entries[leafIndex], shadowLeafLevel)) shadow.ClearEntry(page, leafIndex);
        page.Entries[leafIndex] = leafEntry;
    }

    private ShadowPage CreateShadowPage(ShadowKey key, ulong gvaBase, List<ShadowPage> pinned, int guestPageLevel = 0)
    {
        var shadow = _shadow!;
        while (shadow.Count >= shadow.Limit && shadow.Oldest(pinned) is { } victim) Zap(victim);
        CountTablePage();
        var page = shadow.Add(key, _host.AllocateFrames(4096), gvaBase, _currentTag, guestPageLevel);
        Counters.PagesShadow++;
        return page;
    }

    /// <summary>Drops a shadow table (and the entries pointing to it); KVM flushes the TLB after zapping.</summary>
    private void Zap(ShadowPage victim)
    {
        _shadow!.Remove(victim);
        _memo?.Invalidate();
        Counters.PagesShadow--;
        _tlb.FlushAll();
        _pwc?.FlushAll();
        if (Tracing) _trace!.Emit(new ShadowZapEvent(Cycle, AccessNumber, new Gpa(victim.Key.Gpa), victim.Key.Level, victim.Key.Direct));
    }

    /// <summary>After an emulated guest page-table write: clear the shadow entry that mirrors the written entry.</summary>
    private void ShadowMirrorWrite(ulong table, int level, int index)
    {
        var page = _shadow!.Find(new ShadowKey(table, level, false, 0));
        if (page is null) return;
        var old = _shadow.ClearEntry(page, index);
        if ((old & Pte.Present) == 0) return;
        _memo?.Invalidate();
        if (ShadowTables.IsTablePointer(old, level))
        {
            _pwc?.FlushAll();
            return;
        }
        var coverage = Pte.Coverage(level);
        var start = SignExtend(page.GvaBase + (ulong)index * coverage);
        _tlb.FlushRange(page.Tag, start, start + (coverage - 1));
    }

    /// <summary>KVM's INVLPG handler: clear the shadow leaf for the address.</summary>
    private void ShadowInvalidatePage(ulong gva)
    {
        var shadow = _shadow!;
        var page = ShadowRoot(_current!);
        for (var level = _levels; level >= 1; level--)
        {
            var index = Pte.Index(gva, level);
            var entry = page.Entries[index];
            if ((entry & Pte.Present) == 0) return;
            if (!ShadowTables.IsTablePointer(entry, level))
            {
                shadow.ClearEntry(page, index);
                _memo?.Invalidate();
                return;
            }
            page = shadow.Child(page, index, entry);
        }
    }
}
