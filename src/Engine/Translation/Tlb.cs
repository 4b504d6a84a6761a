using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MemScript.Engine.Translation;

/// <summary>
/// TLB permission bits as cached with an entry. <see cref="Logged"/> is the model's own: a write through
/// the entry needs no dirty logging (its page is in no dirty-log slot, or dirty already).
/// </summary>
[Flags]
public enum TlbPerms : byte { None = 0, Write = 1, Exec = 2, User = 4, Logged = 8 }

/// <summary>
/// The TLB: one unified, set-associative bank with LRU replacement (SEMANTICS.md section 7) and, with
/// <c>tlb1g</c>, a second bank that holds the 1 GiB entries (13.1). An entry is tagged (PCID or one
/// shared tag), sized (4 KiB, 2 MiB, 1 GiB) and holds the permissions of the whole translation path.
/// Flat arrays keep lookups allocation-free.
/// </summary>
/// <remarks>
/// Each set keeps its ways in a list from most to least recently used, invalid ways last: a hit moves
/// its way to the front and a fill takes the last, so replacement costs no search. Which invalid way
/// a fill takes cannot be observed (lookups match on keys, and invalid ways are all equally old). The
/// two banks share the arrays: the 1 GiB bank's sets follow the main bank's.
/// </remarks>
public sealed class Tlb
{
    /// <summary>One bank: its sets, ways, and where its first set starts.</summary>
    private readonly struct Bank(int entries, int ways, int firstSet)
    {
        public readonly int Sets = entries / ways;
        public readonly int Ways = ways;
        public readonly int FirstSet = firstSet;
        private readonly bool _pow2 = ((entries / ways) & ((entries / ways) - 1)) == 0;

        public int SetOf(ulong vpn) => FirstSet + (_pow2 ? (int)(vpn & (ulong)(Sets - 1)) : (int)(vpn % (ulong)Sets));
    }

    private readonly Bank _main;
    // The 1 GiB bank, when there is one (Sets == 0 otherwise).
    private readonly Bank _huge;
    private readonly bool _hasHuge;
    // Valid entries carry ValidBit in their key (no key has bit 63: the page number ends at bit 62), so a
    // lookup is one comparison per way, four ways at a time.
    private readonly ulong[] _keys;
    private const ulong ValidBit = 1UL << 63;
    // The guest-physical frame of the entry's page, with the permissions in bits 0-3 and the guest
    // page's size code in bits 4-5 (frames are page aligned).
    private readonly ulong[] _payload;
    private const ulong PermBits = 15;
    // The recency list of each set, by entry index: the neighbours of each entry, and each set's ends.
    private readonly int[] _newer, _older, _newest, _oldest, _waysOfSet;

    // Which entry sizes may be present in the main bank (bit per size code), so that a miss does not
    // probe the sets of sizes never filled since the last full flush; bit 3: the 1 GiB bank may hold any.
    private int _sizes;

    // The entry of the last hit and the region where using it again is exactly what a full probe
    // does: its whole page when no smaller entry can exist (smaller sizes are probed first), else
    // only the 4 KiB page of the address that hit. Reset by every fill and flush.
    private int _last = -1;
    private int _lastShift;
    private ulong _lastMatch;

    // The 4 KiB key the last probe searched its set for and did not find, until the next fill: only a
    // fill adds keys (flushes only remove them), so until then its set still lacks it, and a fill of
    // that key (the walk after the miss) takes the LRU way without searching again.
    private ulong _missed = NoKey;
    private const ulong NoKey = ulong.MaxValue;

    /// <summary>A TLB of <paramref name="entries"/> in sets of <paramref name="ways"/>, and a 1 GiB bank of <paramref name="hugeEntries"/> (0: none).</summary>
    public Tlb(int entries, int ways, int hugeEntries = 0, int hugeWays = 1)
    {
        _main = new Bank(entries, ways, 0);
        _hasHuge = hugeEntries > 0;
        _huge = _hasHuge ? new Bank(hugeEntries, hugeWays, _main.Sets) : default;
        var total = entries + (_hasHuge ? hugeEntries : 0);
        var sets = _main.Sets + (_hasHuge ? _huge.Sets : 0);
        _keys = new ulong[total];
        _payload = new ulong[total];
        _newer = new int[total];
        _older = new int[total];
        _newest = new int[sets];
        _oldest = new int[sets];
        _waysOfSet = new int[sets];
        for (var set = 0; set < sets; set++) _waysOfSet[set] = set < _main.Sets ? ways : hugeWays;
        for (var set = 0; set < sets; set++) ResetOrder(set);
    }

    /// <summary>The first entry index of a set.</summary>
    private int Start(int set) => set < _main.Sets ? set * _main.Ways : _main.Sets * _main.Ways + (set - _main.Sets) * _huge.Ways;

    /// <summary>Puts a set's ways in index order, way 0 first: the order a flushed set fills in.</summary>
    private void ResetOrder(int set)
    {
        var start = Start(set);
        var ways = _waysOfSet[set];
        for (var i = 0; i < ways; i++)
        {
            _newer[start + i] = i == 0 ? -1 : start + i - 1;
            _older[start + i] = i == ways - 1 ? -1 : start + i + 1;
        }
        _newest[set] = start;
        _oldest[set] = start + ways - 1;
    }

    private int SetOfEntry(int entry) =>
        entry < _main.Sets * _main.Ways ? entry / _main.Ways : _main.Sets + (entry - _main.Sets * _main.Ways) / _huge.Ways;

    private void Unlink(int set, int entry)
    {
        var (newer, older) = (_newer[entry], _older[entry]);
        if (newer >= 0) _older[newer] = older; else _newest[set] = older;
        if (older >= 0) _newer[older] = newer; else _oldest[set] = newer;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Touch(int set, int entry)
    {
        if (_newest[set] == entry) return;
        Unlink(set, entry);
        var first = _newest[set];
        _newer[entry] = -1;
        _older[entry] = first;
        _newer[first] = entry;
        _newest[set] = entry;
    }

    /// <summary>Invalidates an entry and makes it the oldest of its set, behind the valid ones.</summary>
    private void Drop(int entry)
    {
        _keys[entry] = 0;
        var set = SetOfEntry(entry);
        if (_oldest[set] == entry) return;
        Unlink(set, entry);
        var last = _oldest[set];
        _older[entry] = -1;
        _newer[entry] = last;
        _older[last] = entry;
        _oldest[set] = entry;
    }

    // The key packs the virtual page number, the tag and the size; 57-bit addresses leave room for a 16-bit tag.
    private static ulong Key(ulong vpn, int tag, int sizeCode) => (vpn << 18) | ((ulong)(uint)tag << 2) | (uint)sizeCode;

    /// <summary>Whether a stored key is a valid entry of <paramref name="tag"/>.</summary>
    private static bool IsValidOf(ulong stored, int tag) => (stored & ValidBit) != 0 && (int)((stored >> 2) & 0xffff) == tag;

    /// <summary>The first virtual address a stored key's entry maps, and the shift of its size.</summary>
    private static (ulong Start, int Shift) PageOf(ulong stored)
    {
        var shift = Shift((int)(stored & 3));
        return (((stored & ~ValidBit) >> 18) << shift, shift);
    }

    private static int Shift(int sizeCode) => 12 + 9 * sizeCode;
    private const ulong VaMask = (1UL << 57) - 1;

    /// <summary>The bank an entry of a size lives in.</summary>
    private ref readonly Bank BankOf(int sizeCode) => ref sizeCode == 2 && _hasHuge ? ref _huge : ref _main;

    /// <summary>
    /// Whether a lookup of a virtual address finds an entry that allows <paramref name="required"/>: the
    /// main bank's entry the probe finds first (4 KiB, then 2 MiB, then 1 GiB) decides there; with a
    /// 1 GiB bank, its entry is probed too, and an entry of either bank that allows the access is a hit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Hits(ulong va, int tag, TlbPerms required)
    {
        va &= VaMask;
        var last = _last;
        if (last >= 0 && Key(va >> _lastShift, tag, 0) == _lastMatch)
        {
            // It is already its set's most recent entry: it became the last hit by being moved there,
            // and anything else that reorders a set (another hit, a fill, a flush) resets it.
            if (((TlbPerms)(_payload[last] & PermBits) & required) == required) return true;
            if (!_hasHuge) return false;
        }
        return ProbeHits(va, tag, required);
    }

    private bool ProbeHits(ulong va, int tag, TlbPerms required)
    {
        if (Probe(va, tag, out var perms) && (perms & required) == required) return true;
        return _hasHuge && ProbeHuge(va, tag, required);
    }

    /// <summary>Looks up a virtual address in the main bank; returns the matching entry's permissions or false on a miss.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Lookup(ulong va, int tag, out TlbPerms perms)
    {
        va &= VaMask;
        var last = _last;
        if (last >= 0 && last < _main.Sets * _main.Ways && Key(va >> _lastShift, tag, 0) == _lastMatch)
        {
            perms = (TlbPerms)(_payload[last] & PermBits);
            return true;
        }
        return Probe(va, tag, out perms);
    }

    /// <summary>The valid entry of a set holding a key, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(int start, int ways, ulong key)
    {
        var wanted = key | ValidBit;
        // One bounds check for the whole set; keys are unique within a set, so the first match is the one.
        ref var first = ref _keys.AsSpan(start, ways)[0];
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var target = Vector256.Create(wanted);
            for (; i + 4 <= ways; i += 4)
            {
                var match = Vector256.Equals(Vector256.LoadUnsafe(ref first, (nuint)i), target).ExtractMostSignificantBits();
                if (match != 0) return start + i + BitOperations.TrailingZeroCount(match);
            }
        }
        for (; i < ways; i++)
            if (Unsafe.Add(ref first, i) == wanted) return start + i;
        return -1;
    }

    /// <summary>The main bank's probe: 4 KiB, 2 MiB, then (without a 1 GiB bank) 1 GiB page numbers.</summary>
    private bool Probe(ulong va, int tag, out TlbPerms perms)
    {
        var sizes = _hasHuge ? 2 : 3;
        for (var size = 0; size < sizes; size++)
        {
            if ((_sizes & (1 << size)) == 0) continue;
            var vpn = va >> Shift(size);
            var key = Key(vpn, tag, size);
            var set = _main.SetOf(vpn);
            var i = Find(set * _main.Ways, _main.Ways, key);
            if (i < 0)
            {
                if (size == 0) _missed = key;
                continue;
            }
            Touch(set, i);
            perms = (TlbPerms)(_payload[i] & PermBits);
            _last = i;
            _lastShift = (_sizes & ((1 << size) - 1)) == 0 ? Shift(size) : 12;
            _lastMatch = Key(va >> _lastShift, tag, 0);
            return true;
        }
        perms = TlbPerms.None;
        return false;
    }

    /// <summary>The 1 GiB bank's probe: a hit only when its entry allows the access.</summary>
    private bool ProbeHuge(ulong va, int tag, TlbPerms required)
    {
        if ((_sizes & 8) == 0) return false;
        var vpn = va >> 30;
        var set = _huge.SetOf(vpn);
        var i = Find(Start(set), _huge.Ways, Key(vpn, tag, 2));
        if (i < 0) return false;
        Touch(set, i);
        if (((TlbPerms)(_payload[i] & PermBits) & required) != required) return false;
        _last = i;
        // Only where the main bank holds nothing can the whole 1 GiB page skip its probe.
        _lastShift = (_sizes & 3) == 0 ? 30 : 12;
        _lastMatch = Key(va >> _lastShift, tag, 0);
        return true;
    }

    /// <summary>
    /// Fills an entry of the given size code (0: 4 KiB, 1: 2 MiB, 2: 1 GiB), replacing the LRU way of its
    /// set. <paramref name="guestSizeCode"/> is the size of the guest page it came from, which can be
    /// larger when the page was splintered: INVLPG must drop every piece of it.
    /// </summary>
    public void Fill(ulong va, int tag, int sizeCode, TlbPerms perms, ulong frame, int guestSizeCode)
    {
        _last = -1;
        va &= VaMask;
        var vpn = va >> Shift(sizeCode);
        var key = Key(vpn, tag, sizeCode);
        ref readonly var bank = ref BankOf(sizeCode);
        var set = bank.SetOf(vpn);
        // The way already holding the key, else the least recently used (an invalid one if any).
        var victim = key == _missed ? -1 : Find(Start(set), bank.Ways, key);
        if (victim < 0) victim = _oldest[set];
        _missed = NoKey;
        _keys[victim] = key | ValidBit;
        _payload[victim] = (frame & ~0xfffUL) | (uint)perms | (uint)Math.Max(sizeCode, guestSizeCode) << 4;
        Touch(set, victim);
        _sizes |= sizeCode == 2 && _hasHuge ? 8 : 1 << sizeCode;
    }

    /// <summary>
    /// The entry a lookup would hit with <paramref name="required"/>, as <see cref="Hits"/> decides, or -1;
    /// for the free dirty log, which looks for a write through an entry whose writes are not yet logged.
    /// </summary>
    public int EntryAllowing(ulong va, int tag, TlbPerms required)
    {
        va &= VaMask;
        if (!ProbeHits(va, tag, required)) return -1;
        return _last;
    }

    /// <summary>The guest-physical 4 KiB page that <paramref name="va"/> reaches through entry <paramref name="entry"/>.</summary>
    public ulong GuestPageOf(int entry, ulong va)
    {
        var shift = Shift((int)(_keys[entry] & 3));
        return ((_payload[entry] & ~0xfffUL) + (va & ((1UL << shift) - 1))) & ~0xfffUL;
    }

    /// <summary>Whether an entry maps a 4 KiB page.</summary>
    public bool Is4K(int entry) => (_keys[entry] & 3) == 0;

    /// <summary>Adds permission bits to an entry (the free dirty log marks a 4 KiB entry logged once its page is dirty).</summary>
    public void Grant(int entry, TlbPerms perms) => _payload[entry] |= (uint)perms;

    /// <summary>INVLPG: drops every entry of the tag that came from the guest page holding <paramref name="va"/>.</summary>
    public void InvalidatePage(ulong va, int tag)
    {
        _last = -1;
        va &= VaMask;
        for (var i = 0; i < _keys.Length; i++)
        {
            if (!IsValidOf(_keys[i], tag)) continue;
            var (entryVa, _) = PageOf(_keys[i]);
            if (((entryVa ^ va) >> Shift((int)(_payload[i] >> 4) & 3)) == 0) Drop(i);
        }
    }

    public void FlushAll()
    {
        _last = -1;
        _sizes = 0;
        Array.Clear(_keys);
        for (var set = 0; set < _newest.Length; set++) ResetOrder(set);
    }

    /// <summary>Drops every entry of one tag.</summary>
    public void FlushTag(int tag)
    {
        _last = -1;
        for (var i = 0; i < _keys.Length; i++)
            if (IsValidOf(_keys[i], tag)) Drop(i);
    }

    /// <summary>Drops every entry of one tag that overlaps [start, last] of (canonical) virtual addresses.</summary>
    public void FlushRange(int tag, ulong start, ulong last)
    {
        _last = -1;
        start &= VaMask;
        last &= VaMask;
        for (var i = 0; i < _keys.Length; i++)
        {
            if (!IsValidOf(_keys[i], tag)) continue;
            var (pageStart, shift) = PageOf(_keys[i]);
            var pageLast = pageStart + ((1UL << shift) - 1);
            if (pageStart <= last && start <= pageLast) Drop(i);
        }
    }
}
