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
    private readonly int _sets;
    private readonly int _ways;
    private readonly bool _pow2;
    private readonly ulong[] _keys;
    private readonly long[] _stamps; // 0 = invalid
    private readonly byte[] _perms;
    private readonly ulong[] _frames;
    private readonly byte[] _guestSizes;
    private long _clock;

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
        _keys = new ulong[entries];
        _stamps = new long[entries];
        _perms = new byte[entries];
        _frames = new ulong[entries];
        _guestSizes = new byte[entries];
    }

    // The key packs the virtual page number, the tag and the size; 57-bit addresses leave room for a 16-bit tag.
    private static ulong Key(ulong vpn, int tag, int sizeCode) => (vpn << 18) | ((ulong)(uint)tag << 2) | (uint)sizeCode;

    private static readonly int[] Shifts = [12, 21, 30];
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
            _stamps[last] = ++_clock;
            perms = (TlbPerms)_perms[last];
            return true;
        }
        return Probe(va, tag, out perms);
    }

    private bool Probe(ulong va, int tag, out TlbPerms perms)
    {
        for (var size = 0; size < 3; size++)
        {
            var vpn = va >> Shifts[size];
            var key = Key(vpn, tag, size);
            var start = SetOf(vpn) * _ways;
            var end = start + _ways;
            for (var i = start; i < end; i++)
            {
                if (_keys[i] == key && _stamps[i] != 0)
                {
                    _stamps[i] = ++_clock;
                    perms = (TlbPerms)_perms[i];
                    _last = i;
                    _lastShift = Shifts[size];
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
        var vpn = va >> Shifts[sizeCode];
        var key = Key(vpn, tag, sizeCode);
        var start = SetOf(vpn) * _ways;
        var end = start + _ways;
        var victim = start;
        for (var i = start; i < end; i++)
        {
            if (_stamps[i] != 0 && _keys[i] == key) { victim = i; break; }
            if (_stamps[i] < _stamps[victim]) victim = i;
        }
        _keys[victim] = key;
        _stamps[victim] = ++_clock;
        _perms[victim] = (byte)perms;
        _frames[victim] = frame;
        _guestSizes[victim] = (byte)Math.Max(sizeCode, guestSizeCode);
    }

    /// <summary>INVLPG: drops every entry of the tag that came from the guest page holding <paramref name="va"/>.</summary>
    public void InvalidatePage(ulong va, int tag)
    {
        _last = -1;
        va &= VaMask;
        for (var i = 0; i < _keys.Length; i++)
        {
            if (_stamps[i] == 0 || (int)((_keys[i] >> 2) & 0xffff) != tag) continue;
            var entryVa = (_keys[i] >> 18) << Shifts[(int)(_keys[i] & 3)];
            if (((entryVa ^ va) >> Shifts[_guestSizes[i]]) == 0) _stamps[i] = 0;
        }
    }

    public void FlushAll()
    {
        _last = -1;
        Array.Clear(_stamps);
    }

    /// <summary>Drops every entry of one tag.</summary>
    public void FlushTag(int tag)
    {
        _last = -1;
        for (var i = 0; i < _keys.Length; i++)
            if (_stamps[i] != 0 && (int)((_keys[i] >> 2) & 0xffff) == tag) _stamps[i] = 0;
    }

    /// <summary>Drops every entry of one tag that overlaps [start, end) of virtual addresses.</summary>
    public void FlushRange(int tag, ulong start, ulong end)
    {
        _last = -1;
        start &= VaMask;
        end = ((end - 1) & VaMask) + 1;
        for (var i = 0; i < _keys.Length; i++)
        {
            if (_stamps[i] == 0 || (int)((_keys[i] >> 2) & 0xffff) != tag) continue;
            var shift = Shifts[(int)(_keys[i] & 3)];
            var pageStart = (_keys[i] >> 18) << shift;
            var pageEnd = pageStart + (1UL << shift);
            if (pageStart < end && start < pageEnd) _stamps[i] = 0;
        }
    }
}
