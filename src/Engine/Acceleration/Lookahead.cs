using System.Runtime.CompilerServices;
using MemScript.Engine.Memory;
using MemScript.Engine.Modes;
using MemScript.Engine.Translation;

namespace MemScript.Engine.Acceleration;

/// <summary>
/// The next <see cref="Depth"/> addresses a generator will access, in order. While they wait, the window
/// brings what their walks will read into the host's cache, so that the cache misses of many accesses
/// overlap as they do in hardware instead of following each other. It changes nothing that is counted:
/// it only reads the machine's structures and issues prefetch hints.
/// </summary>
/// <remarks>
/// A walk's reads depend on each other (a guest entry names the next table, the last one the EPT walk),
/// so each address goes through four stages, <see cref="Depth"/> / 4 accesses apart, each reading what
/// the previous one prefetched and prefetching one level further: the walk memo, then (when the memo has
/// no walk of the page) the guest's last-level entry, then the EPT level-2 entry (or the shadow entry)
/// and the host page, then the EPT last-level entry. An address whose walk is remembered stops after the
/// probe of the memo, which the access then uses.
/// </remarks>
internal sealed class Lookahead
{
    // Stages 4 accesses apart are ample for a host cache miss at a few hundred nanoseconds an access;
    // a deeper window was slower on a 2 GHz Xeon (64: about 15% on the walk benchmark), as lines
    // prefetched too early are evicted again before their stage reads them.
    public const int Depth = 16;
    private const int Spacing = Depth / 4;

    private readonly Accelerator _fast;
    private readonly Machine _machine;
    private readonly ulong[] _gva = new ulong[Depth];
    private readonly int[] _stage = new int[Depth];     // the next stage to run; 0 when there is none
    private readonly TableSlot[] _guestTable = new TableSlot[Depth];
    private readonly int[] _guestIndex = new int[Depth];
    private readonly ulong[] _gpa = new ulong[Depth];
    private readonly EptTables.Table?[] _eptTable = new EptTables.Table?[Depth];
    // The remembered walk the first stage found, and the memo generation it was found in.
    private readonly ulong[] _known = new ulong[Depth];
    private readonly ulong[] _knownGeneration = new ulong[Depth];
    private int _head;
    private int _count;

    internal Lookahead(Accelerator fast)
    {
        _fast = fast;
        _machine = fast.Machine;
    }

    /// <summary>
    /// Adds the address to be accessed after those already waiting; returns the address to access now,
    /// once <see cref="Depth"/> are waiting, with the remembered walk of its page that the window found
    /// while it waited (0 when none, or when the memo has changed since).
    /// </summary>
    public bool Push(ulong gva, out ulong due, out ulong known)
    {
        var at = _head;
        due = _gva[at];
        known = _known[at] != 0 && _knownGeneration[at] == _fast.Memo!.Generation ? _known[at] : 0;
        _known[at] = 0;
        var ready = _count == Depth;
        if (!ready) _count++;
        _gva[at] = gva;
        PrefetchFirst(at);
        for (var stage = 1; stage < 4; stage++)
        {
            var slot = (at + Depth - stage * Spacing) & (Depth - 1);
            if (_stage[slot] == stage) PrefetchStage(slot, stage);
        }
        _head = (at + 1) & (Depth - 1);
        return ready;
    }

    /// <summary>Takes the waiting addresses out in order once the generator has no more (their stages are not run).</summary>
    public bool Drain(out ulong due)
    {
        if (_count == 0)
        {
            due = 0;
            return false;
        }
        var oldest = (_head + Depth - _count) & (Depth - 1);
        due = _gva[oldest];
        _count--;
        return true;
    }

    /// <summary>Stage 0: prefetch the memo's bucket.</summary>
    private void PrefetchFirst(int slot)
    {
        _stage[slot] = 0;
        var gva = _gva[slot];
        if (_machine.Current is not { } process || _machine.Mode == MmuMode.Software || !_machine.IsCanonical(gva)) return;
        if (_fast.Memo is { } memo && WalkMemo.Covers(process.Index)) memo.Prefetch(gva, process.Index);
        _stage[slot] = 1;
    }

    private void PrefetchStage(int slot, int number)
    {
        _stage[slot] = 0;
        var gva = _gva[slot];
        var process = _machine.Current!;
        switch (number)
        {
            case 1:
                // A remembered walk reads nothing else; the access takes it from the window.
                if (_fast.Memo is { } memo && WalkMemo.Covers(process.Index) && memo.Find(gva, process.Index) is var found and not 0)
                {
                    (_known[slot], _knownGeneration[slot]) = (found, memo.Generation);
                    return;
                }
                // Only a walk that is not remembered reads the guest's tables.
                if (!StartGuestWalk(slot, process) || !NextGuestEntry(slot, 2)) return;
                _stage[slot] = 2;
                return;
            case 2:
                if (!NextGuestEntry(slot, 1)) return;
                var gpa = _gpa[slot];
                if (_machine.FindSlot(gpa) is { } memslot)
                {
                    ref var record = ref _machine.Host.RecordOf(Memslots.HvaOf(memslot, gpa), memslot.Backing);
                    if (!Unsafe.IsNullRef(ref record)) HostCache.Prefetch(ref record);
                }
                switch (_machine.Translation)
                {
                    case EptMode ept when PrefetchUpper(ept.Tables, gpa) is { } table:
                        _eptTable[slot] = table;
                        _stage[slot] = 3;
                        break;
                    case ShadowMode shadow when shadow.CurrentRoot is { } root:
                        PrefetchShadow(root, shadow.Tables, gva);
                        break;
                }
                return;
            case 3:
                PrefetchLeaf(_eptTable[slot]!, _gpa[slot]);
                _eptTable[slot] = null;
                return;
        }
    }

    /// <summary>
    /// Follows the guest's walk of the slot's address down to its level-2 table (the levels above, and
    /// usually that table too, stay in the host's cache) and sets the entry there for
    /// <see cref="NextGuestEntry"/>, or the guest-physical address of a 1 GiB page. False when the walk
    /// ends without a present leaf.
    /// </summary>
    private bool StartGuestWalk(int slot, GuestProcess process)
    {
        var gva = _gva[slot];
        var tables = _machine.Kernel.Tables;
        var table = process.Root;
        if (_fast.TryUpperPath(gva, process.Index, out var known, out _, out _))
            table = known;
        else for (var level = _machine.Levels; level > 2; level--)
        {
            var entry = tables.Entry(table, Pte.Index(gva, level));
            if ((entry & Pte.Present) == 0) return false;
            if (Pte.IsLeaf(entry, level))
            {
                _gpa[slot] = Pte.LeafAddress(entry, level, gva);
                _guestTable[slot].Entries = null;
                return true;
            }
            table = entry & Pte.AddressMask;
        }
        (_guestTable[slot].Entries, _guestIndex[slot]) = (tables[table], Pte.Index(gva, 2));
        return true;
    }

    /// <summary>
    /// Reads the guest entry the previous stage prefetched (at <paramref name="level"/>) when the walk is
    /// still in the guest's tables: a leaf gives the guest-physical address, a table the next entry to
    /// prefetch. False when the walk ends without a present leaf.
    /// </summary>
    private bool NextGuestEntry(int slot, int level)
    {
        ref var entries = ref _guestTable[slot].Entries;
        if (entries is null) return true; // a huge page: the address is known already
        var entry = Pte.At(entries, _guestIndex[slot]);
        entries = null;
        if ((entry & Pte.Present) == 0) return false;
        var gva = _gva[slot];
        if (Pte.IsLeaf(entry, level))
        {
            _gpa[slot] = Pte.LeafAddress(entry, level, gva);
            return true;
        }
        var next = _machine.Kernel.Tables[entry & Pte.AddressMask];
        var index = Pte.Index(gva, level - 1);
        HostCache.Prefetch(ref Pte.At(next, index));
        (entries, _guestIndex[slot]) = (next, index);
        return true;
    }

    /// <summary>
    /// Reads the EPT walk of <paramref name="gpa"/> down to level 2 and prefetches that entry and the child
    /// reference beside it; returns the level-2 table for <see cref="PrefetchLeaf"/>, or null when the walk
    /// ends above or the last-level entry could be prefetched at once.
    /// </summary>
    private EptTables.Table? PrefetchUpper(EptTables ept, ulong gpa)
    {
        if (_fast.EptLastLevel(gpa) is { } last)
        {
            // The last-level table is known: its entry can be prefetched now, and no later stage is needed.
            HostCache.Prefetch(ref EptTables.EntryOf(last, Pte.Index(gpa, 1)));
            return null;
        }
        var table = ept.RootTable;
        for (var level = ept.Levels; level > 2; level--)
        {
            var index = Pte.Index(gpa, level);
            var entry = EptTables.EntryOf(table, index);
            if ((entry & EptEntry.Rwx) == 0 || EptEntry.IsMisconfigured(entry) || (entry & EptEntry.PageSize) != 0) return null;
            table = EptTables.Child(table, index);
        }
        var at = Pte.Index(gpa, 2);
        HostCache.Prefetch(ref EptTables.EntryOf(table, at));
        HostCache.Prefetch(ref Unsafe.As<EptTables.Table?, ulong>(ref table.Children![at]));
        return table;
    }

    /// <summary>Follows the level-2 entry <see cref="PrefetchUpper"/> prefetched and prefetches the last-level entry.</summary>
    private static void PrefetchLeaf(EptTables.Table table, ulong gpa)
    {
        var at = Pte.Index(gpa, 2);
        var entry = EptTables.EntryOf(table, at);
        if ((entry & EptEntry.Rwx) == 0 || EptEntry.IsMisconfigured(entry) || (entry & EptEntry.PageSize) != 0) return;
        if (table.Children![at] is not { } child) return;
        HostCache.Prefetch(ref child.Entries[Pte.Index(gpa, 1)]);
    }

    /// <summary>
    /// Follows the shadow tables from <paramref name="root"/> for <paramref name="gva"/> and prefetches the
    /// last-level table's header and entry. The last step takes the child the entry last led to without
    /// checking it, which would load the very header being prefetched: a stale child only makes the hint useless.
    /// </summary>
    private void PrefetchShadow(ShadowPage root, ShadowTables shadow, ulong gva)
    {
        var page = root;
        for (var level = _machine.Levels; level > 1; level--)
        {
            var index = Pte.Index(gva, level);
            var entry = ShadowTables.EntryOf(page, index);
            if (!ShadowTables.IsTablePointer(entry, level)) return;
            if (level > 2)
            {
                page = shadow.Child(page, index, entry);
                continue;
            }
            if (page.Children![index] is not { } last) return;
            HostCache.PrefetchObject(last);
            HostCache.Prefetch(ref ShadowTables.EntryOf(last, Pte.Index(gva, 1)));
        }
    }
}
