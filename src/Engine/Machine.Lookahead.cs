using MemScript.Engine.Memory;
using MemScript.Engine.Translation;
using MemScript.Language.Syntax;

namespace MemScript.Engine;

// Prefetching for generators that know their addresses ahead (random, for now).
public sealed partial class Machine
{
    /// <summary>Opens a window of addresses that will be accessed in turn (see <see cref="Lookahead"/>).</summary>
    public Lookahead OpenLookahead() => new(this);

    /// <summary>
    /// The next <see cref="Depth"/> addresses a generator will access, in order. While they wait, the
    /// window brings what their walks will read into the host's cache, so that the cache misses of many
    /// accesses overlap as they do in hardware instead of following each other. It changes nothing
    /// that is counted: it only reads the machine's structures and issues prefetch hints.
    /// </summary>
    /// <remarks>
    /// A walk's reads depend on each other (a guest entry names the next table, the last one the EPT
    /// walk), so each address goes through four stages, <see cref="Depth"/> / 4 accesses apart, each
    /// reading what the previous one prefetched and prefetching one level further: the walk memo, then
    /// (when the memo has no walk of the page) the guest's last-level entry, then the EPT level-2 entry
    /// (or the shadow entry) and the host page, then the EPT last-level entry. An address whose walk is
    /// remembered stops after the probe of the memo, which the access then uses.
    /// </remarks>
    public sealed class Lookahead
    {
        // Stages 4 accesses apart are ample for a host cache miss at a few hundred nanoseconds an access;
        // a deeper window was slower on a 2 GHz Xeon (64: about 15% on the walk benchmark), as lines
        // prefetched too early are evicted again before their stage reads them.
        public const int Depth = 16;
        private const int Spacing = Depth / 4;

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

        internal Lookahead(Machine machine) => _machine = machine;

        /// <summary>
        /// Adds the address to be accessed after those already waiting; returns the address to access now,
        /// once <see cref="Depth"/> are waiting, with the remembered walk of its page that the window found
        /// while it waited (0 when none, or when the memo has changed since).
        /// </summary>
        public bool Push(ulong gva, out ulong due, out ulong known)
        {
            var at = _head;
            due = _gva[at];
            known = _known[at] != 0 && _knownGeneration[at] == _machine._memo!.Generation ? _known[at] : 0;
            _known[at] = 0;
            var ready = _count == Depth;
            if (!ready) _count++;
            _gva[at] = gva;
            _machine.PrefetchFirst(this, at);
            for (var stage = 1; stage < 4; stage++)
            {
                var slot = (at + Depth - stage * Spacing) & (Depth - 1);
                if (_stage[slot] == stage) _machine.PrefetchStage(this, slot, stage);
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

        internal ref ulong Gva(int slot) => ref _gva[slot];
        internal ref int Stage(int slot) => ref _stage[slot];
        internal ref ulong[]? GuestTable(int slot) => ref _guestTable[slot].Entries;
        internal ref int GuestIndex(int slot) => ref _guestIndex[slot];
        internal ref ulong Gpa(int slot) => ref _gpa[slot];
        internal ref EptTables.Table? EptTable(int slot) => ref _eptTable[slot];
        internal ref ulong Known(int slot) => ref _known[slot];
        internal ref ulong KnownGeneration(int slot) => ref _knownGeneration[slot];
    }

    /// <summary>Stage 0: prefetch the memo's bucket.</summary>
    private void PrefetchFirst(Lookahead window, int slot)
    {
        ref var stage = ref window.Stage(slot);
        stage = 0;
        var gva = window.Gva(slot);
        if (_current is not { } process || _mode == MmuMode.Software || !IsCanonical(gva)) return;
        if (_memo is not null && WalkMemo.Covers(process.Index)) _memo.Prefetch(gva, process.Index);
        stage = 1;
    }

    /// <summary>
    /// Follows the guest's walk of the slot's address down to its level-2 table (the levels above, and
    /// usually that table too, stay in the host's cache) and sets the entry there for
    /// <see cref="NextGuestEntry"/>, or the guest-physical address of a 1 GiB page. False when the walk
    /// ends without a present leaf.
    /// </summary>
    private bool StartGuestWalk(Lookahead window, int slot, GuestProcess process)
    {
        var gva = window.Gva(slot);
        var table = process.Root;
        if (_upperPaths is not null && _upperPaths.TryGet(gva, process.Index, _memo!.Generation, out var known, out _, out _))
            table = known;
        else for (var level = _levels; level > 2; level--)
        {
            var entry = ReadGuestEntry(table, Pte.Index(gva, level));
            if ((entry & Pte.Present) == 0) return false;
            if (Pte.IsLeaf(entry, level))
            {
                window.Gpa(slot) = Pte.LeafAddress(entry, level, gva);
                window.GuestTable(slot) = null;
                return true;
            }
            table = entry & Pte.AddressMask;
        }
        (window.GuestTable(slot), window.GuestIndex(slot)) = (_guestTables[table], Pte.Index(gva, 2));
        return true;
    }

    private void PrefetchStage(Lookahead window, int slot, int number)
    {
        ref var stage = ref window.Stage(slot);
        stage = 0;
        var gva = window.Gva(slot);
        var process = _current!;
        switch (number)
        {
            case 1:
                // A remembered walk reads nothing else; the access takes it from the window.
                if (_memo is not null && WalkMemo.Covers(process.Index) && _memo.Find(gva, process.Index) is var found and not 0)
                {
                    (window.Known(slot), window.KnownGeneration(slot)) = (found, _memo.Generation);
                    return;
                }
                // Only a walk that is not remembered reads the guest's tables.
                if (!StartGuestWalk(window, slot, process) || !NextGuestEntry(window, slot, 2)) return;
                stage = 2;
                return;
            case 2:
                if (!NextGuestEntry(window, slot, 1)) return;
                var gpa = window.Gpa(slot);
                if (FindSlot(gpa) is { } memslot) _host.Prefetch(memslot.Hva + (gpa - memslot.Gpa), memslot.Backing);
                if (_ept is not null)
                {
                    if (_ept.PrefetchUpper(gpa) is { } table)
                    {
                        window.EptTable(slot) = table;
                        stage = 3;
                    }
                }
                else if (_shadow is not null && KnownShadowRoot(process) is { } root)
                {
                    _shadow.Prefetch(root, gva, _levels);
                }
                return;
            case 3:
                _ept!.PrefetchLeaf(window.EptTable(slot)!, window.Gpa(slot));
                window.EptTable(slot) = null;
                return;
        }
    }

    /// <summary>
    /// Reads the guest entry the previous stage prefetched (at <paramref name="level"/>) when the walk is
    /// still in the guest's tables: a leaf gives the guest-physical address, a table the next entry to
    /// prefetch. False when the walk ends without a present leaf.
    /// </summary>
    private bool NextGuestEntry(Lookahead window, int slot, int level)
    {
        ref var entries = ref window.GuestTable(slot);
        if (entries is null) return true; // a huge page: the address is known already
        var entry = Pte.At(entries, window.GuestIndex(slot));
        entries = null;
        if ((entry & Pte.Present) == 0) return false;
        var gva = window.Gva(slot);
        if (Pte.IsLeaf(entry, level))
        {
            window.Gpa(slot) = Pte.LeafAddress(entry, level, gva);
            return true;
        }
        var next = _guestTables[entry & Pte.AddressMask];
        var index = Pte.Index(gva, level - 1);
        HostCache.Prefetch(ref Pte.At(next, index));
        (entries, window.GuestIndex(slot)) = (next, index);
        return true;
    }
}
