using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MemScript.Engine.Translation;

/// <summary>TLB permission bits as cached with an entry.</summary>
[Flags]
public enum TlbPerms : byte { None = 0, Write = 1, Exec = 2, User = 4 }

/// <summary>
/// One unified, set-associative TLB with LRU replacement. An entry is tagged (PCID or one shared tag),
/// sized (4 KiB, 2 MiB, 1 GiB) and holds the permissions of the whole translation path. Flat arrays
/// keep lookups allocation-free.
/// </summary>
/// <remarks>
/// Each set keeps its ways in a list from most to least recently used, invalid ways last: a hit moves
/// its way to the front and a fill takes the last, so replacement costs no search. Which invalid way
/// a fill takes cannot be observed (lookups match on keys, and invalid ways are all equally old).
/// </remarks>
public sealed class Tlb
{
    private readonly int _sets;
    private readonly int _ways;
    private readonly bool _pow2;
    // Valid entries carry ValidBit in their key (no key has bit 63: the page number ends at bit 62), so a
    // lookup is one comparison per way, four ways at a time.
    private readonly ulong[] _keys;
    private const ulong ValidBit = 1UL << 63;
    // The frame, with the permissions in bits 0-2 and the guest page's size code in bits 3-4 (frames are page aligned).
    private readonly ulong[] _payload;
    // The recency list of each set, by entry index: the neighbours of each entry, and each set's ends.
    private readonly int[] _newer, _older, _newest, _oldest;

    // Which entry sizes may be present (bit per size code), so that a miss does not probe the sets of
    // sizes never filled since the last full flush.
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

    public Tlb(int entries, int ways)
    {
        _ways = ways;
        _sets = entries / ways;
        _pow2 = (_sets & (_sets - 1)) == 0;
        _keys = new ulong[entries];
        _payload = new ulong[entries];
        _newer = new int[entries];
        _older = new int[entries];
        _newest = new int[_sets];
        _oldest = new int[_sets];
        for (var set = 0; set < _sets; set++) ResetOrder(set);
    }

    /// <summary>Puts a set's ways in index order, way 0 first: the order a flushed set fills in.</summary>
    private void ResetOrder(int set)
    {
        var start = set * _ways;
        for (var i = 0; i < _ways; i++)
        {
            _newer[start + i] = i == 0 ? -1 : start + i - 1;
            _older[start + i] = i == _ways - 1 ? -1 : start + i + 1;
        }
        _newest[set] = start;
        _oldest[set] = start + _ways - 1;
    }

    private void Unlink(int set, int entry)
    {
        var (newer, older) = (_newer[entry], _older[entry]);
        if (newer >= 0) _older[newer] = older; else _newest[set] = older;
        if (older >= 0) _newer[older] = newer; else _oldest[set] = newer;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
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
        var set = entry / _ways;
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

    private int SetOf(ulong vpn) => _pow2 ? (int)(vpn & (ulong)(_sets - 1)) : (int)(vpn % (ulong)_sets);

    /// <summary>Looks up a virtual address; returns the matching entry's permissions or false on a miss.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool Lookup(ulong va, int tag, out TlbPerms perms)
    {
        va &= VaMask;
        var last = _last;
        if (last >= 0 && Key(va >> _lastShift, tag, 0) == _lastMatch)
        {
            // It is already its set's most recent entry: it became the last hit by being moved there,
            // and anything else that reorders a set (another hit, a fill, a flush) resets it.
            perms = (TlbPerms)(_payload[last] & 7);
            return true;
        }
        return Probe(va, tag, out perms);
    }

    /// <summary>The valid entry of a set holding a key, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(int start, ulong key)
    {
        var wanted = key | ValidBit;
        // One bounds check for the whole set; keys are unique within a set, so the first match is the one.
        ref var first = ref _keys.AsSpan(start, _ways)[0];
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var target = Vector256.Create(wanted);
            for (; i + 4 <= _ways; i += 4)
            {
                var match = Vector256.Equals(Vector256.LoadUnsafe(ref first, (nuint)i), target).ExtractMostSignificantBits();
                if (match != 0) return start + i + BitOperations.TrailingZeroCount(match);
            }
        }
        for (; i < _ways; i++)
            if (Unsafe.Add(ref first, i) == wanted) return start + i;
        return -1;
    }

    private bool Probe(ulong va, int tag, out TlbPerms perms)
    {
        for (var size = 0; size < 3; size++)
        {
            if ((_sizes & (1 << size)) == 0) continue;
            var vpn = va >> Shift(size);
            var key = Key(vpn, tag, size);
            var set = SetOf(vpn);
            var i = Find(set * _ways, key);
            if (i < 0)
            {
                if (size == 0) _missed = key;
                continue;
            }
            Touch(set, i);
            perms = (TlbPerms)(_payload[i] & 7);
            _last = i;
            _lastShift = (_sizes & ((1 << size) - 1)) == 0 ? Shift(size) : 12;
            _lastMatch = Key(va >> _lastShift, tag, 0);
            return true;
        }
        perms = TlbPerms.None;
        return false;
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
        var set = SetOf(vpn);
        // The way already holding the key, else the least recently used (an invalid one if any).
        var victim = key == _missed ? -1 : Find(set * _ways, key);
        if (victim < 0) victim = _oldest[set];
        _missed = NoKey;
        _keys[victim] = key | ValidBit;
        _payload[victim] = (frame & ~0xfffUL) | (uint)perms | (uint)Math.Max(sizeCode, guestSizeCode) << 3;
        Touch(set, victim);
        _sizes |= 1 << sizeCode;
    }

    /// <summary>INVLPG: drops every entry of the tag that came from the guest page holding <paramref name="va"/>.</summary>
    public void InvalidatePage(ulong va, int tag)
    {
        _last = -1;
        va &= VaMask;
        for (var i = 0; i < _keys.Length; i++)
        {
            if (!IsValidOf(_keys[i], tag)) continue;
            var (entryVa, _) = PageOf(_keys[i]);
            if (((entryVa ^ va) >> Shift((int)(_payload[i] >> 3) & 3)) == 0) Drop(i);
        }
    }

    public void FlushAll()
    {
        _last = -1;
        _sizes = 0;
        Array.Clear(_keys);
        for (var set = 0; set < _sets; set++) ResetOrder(set);
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
