namespace MemScript.Engine.Translation;

/// <summary>TLB permission bits as cached with an entry.</summary>
[Flags]
public enum TlbPerms : byte { None = 0, Write = 1, Exec = 2, User = 4 }

/// <summary>
/// One unified, set-associative TLB with LRU replacement. An entry is tagged (PCID or one shared tag),
/// sized (4 KiB, 2 MiB, 1 GiB) and holds the permissions of the whole translation path. Flat arrays
/// keep lookups allocation-free.
/// </summary>
public sealed class Tlb
{
    // Key and LRU stamp side by side: a probe of a 12-way set reads three cache lines, not one per array.
    private struct Way
    {
        public ulong Key;
        public long Stamp; // 0 = invalid
    }

    private readonly int _sets;
    private readonly int _ways;
    private readonly bool _pow2;
    private readonly Way[] _way;
    // The frame, with the permissions in bits 0-2 and the guest page's size code in bits 3-4 (frames are page aligned).
    private readonly ulong[] _payload;
    private long _clock;

    // Which entry sizes may be present (bit per size code), so that a miss does not probe the sets of
    // sizes never filled since the last full flush.
    private int _sizes;

    // The entry of the last hit. Reset by every fill and flush, so while it is valid no other entry
    // can match an address it matches before it does: using it is exactly what the full probe does.
    private int _last = -1;
    private int _lastShift;
    private ulong _lastKey;

    public Tlb(int entries, int ways)
    {
        _ways = ways;
        _sets = entries / ways;
        _pow2 = (_sets & (_sets - 1)) == 0;
        _way = new Way[entries];
        _payload = new ulong[entries];
    }

    // The key packs the virtual page number, the tag and the size; 57-bit addresses leave room for a 16-bit tag.
    private static ulong Key(ulong vpn, int tag, int sizeCode) => (vpn << 18) | ((ulong)(uint)tag << 2) | (uint)sizeCode;

    private static int Shift(int sizeCode) => 12 + 9 * sizeCode;
    private const ulong VaMask = (1UL << 57) - 1;

    private int SetOf(ulong vpn) => _pow2 ? (int)(vpn & (ulong)(_sets - 1)) : (int)(vpn % (ulong)_sets);

    /// <summary>Looks up a virtual address; returns the matching entry's permissions or false on a miss.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool Lookup(ulong va, int tag, out TlbPerms perms)
    {
        va &= VaMask;
        var last = _last;
        if (last >= 0 && Key(va >> _lastShift, tag, 0) == (_lastKey & ~3UL))
        {
            _way[last].Stamp = ++_clock;
            perms = (TlbPerms)(_payload[last] & 7);
            return true;
        }
        return Probe(va, tag, out perms);
    }

    private bool Probe(ulong va, int tag, out TlbPerms perms)
    {
        var way = _way;
        for (var size = 0; size < 3; size++)
        {
            if ((_sizes & (1 << size)) == 0) continue;
            var vpn = va >> Shift(size);
            var key = Key(vpn, tag, size);
            var start = SetOf(vpn) * _ways;
            var end = start + _ways;
            for (var i = start; i < end; i++)
            {
                if (way[i].Key == key && way[i].Stamp != 0)
                {
                    way[i].Stamp = ++_clock;
                    perms = (TlbPerms)(_payload[i] & 7);
                    _last = i;
                    _lastShift = Shift(size);
                    _lastKey = key;
                    return true;
                }
            }
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
        var start = SetOf(vpn) * _ways;
        var end = start + _ways;
        var way = _way;
        // The way already holding the key, else the least recently used (invalid ways have stamp 0).
        var victim = start;
        var oldest = way[start].Stamp;
        for (var i = start; i < end; i++)
        {
            var stamp = way[i].Stamp;
            if (way[i].Key == key && stamp != 0) { victim = i; break; }
            victim = stamp < oldest ? i : victim;
            oldest = stamp < oldest ? stamp : oldest;
        }
        way[victim].Key = key;
        way[victim].Stamp = ++_clock;
        _payload[victim] = (frame & ~0xfffUL) | (uint)perms | (uint)Math.Max(sizeCode, guestSizeCode) << 3;
        _sizes |= 1 << sizeCode;
    }

    /// <summary>INVLPG: drops every entry of the tag that came from the guest page holding <paramref name="va"/>.</summary>
    public void InvalidatePage(ulong va, int tag)
    {
        _last = -1;
        va &= VaMask;
        for (var i = 0; i < _way.Length; i++)
        {
            var key = _way[i].Key;
            if (_way[i].Stamp == 0 || (int)((key >> 2) & 0xffff) != tag) continue;
            var entryVa = (key >> 18) << Shift((int)(key & 3));
            if (((entryVa ^ va) >> Shift((int)(_payload[i] >> 3) & 3)) == 0) _way[i].Stamp = 0;
        }
    }

    public void FlushAll()
    {
        _last = -1;
        _sizes = 0;
        Array.Clear(_way);
    }

    /// <summary>Drops every entry of one tag.</summary>
    public void FlushTag(int tag)
    {
        _last = -1;
        for (var i = 0; i < _way.Length; i++)
            if (_way[i].Stamp != 0 && (int)((_way[i].Key >> 2) & 0xffff) == tag) _way[i].Stamp = 0;
    }

    /// <summary>Drops every entry of one tag that overlaps [start, end) of virtual addresses.</summary>
    public void FlushRange(int tag, ulong start, ulong end)
    {
        _last = -1;
        start &= VaMask;
        end = ((end - 1) & VaMask) + 1;
        for (var i = 0; i < _way.Length; i++)
        {
            var key = _way[i].Key;
            if (_way[i].Stamp == 0 || (int)((key >> 2) & 0xffff) != tag) continue;
            var shift = Shift((int)(key & 3));
            var pageStart = (key >> 18) << shift;
            var pageEnd = pageStart + (1UL << shift);
            if (pageStart < end && start < pageEnd) _way[i].Stamp = 0;
        }
    }
}
