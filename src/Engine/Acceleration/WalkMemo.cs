using System.Runtime.CompilerServices;
using MemScript.Engine.Translation;

namespace MemScript.Engine.Acceleration;

/// <summary>
/// The outcomes of completed hardware walks, by process and 4 KiB page: a walk that would read the same
/// present entries again is replayed from one cache line of the simulator instead of up to 35 table
/// reads spread over the simulated memory. It only speeds the simulation up: a hit gives the counts,
/// cycles and TLB entry the walk gives, and it is never used while paging-structure caches are on
/// (their state decides how many references a walk makes).
/// </summary>
/// <remarks>
/// A completed walk read present entries only, so adding entries (demand faults, EPT violations, new
/// shadow entries) cannot change it. Anything that changes or clears a present guest, EPT or shadow
/// entry calls <see cref="Invalidate"/>, which starts a new epoch: entries of older epochs no longer
/// match. The table is 4-way set associative in 64-byte buckets and grows while one epoch keeps adding
/// pages, up to 4 Mi entries (64 MiB). A page's bucket is its page number (offset per process) modulo
/// the number of buckets, as in a TLB: neighbouring pages sit in neighbouring lines, which the host
/// streams in during a sweep, and doubling the table splits bucket b into b and b + old count, so that
/// growing is one sequential pass instead of millions of scattered writes.
/// </remarks>
internal sealed class WalkMemo
{
    private const int Ways = 4;
    private const int InitialBits = 12;
    private const int MaxBits = 22;
    private const int EpochBits = 13;
    private const int EpochShift = 64 - EpochBits;
    private const int MaxProcess = (1 << 19) - 2;

    // Keys and values interleaved, a bucket per 64-byte line: the array is pinned so that the buckets
    // can be aligned to cache lines and prefetched.
    private ulong[] _data = [];
    private int _origin;
    private int _bucketMask;
    private int _bits;
    private ulong _epoch;
    private long _insertsThisEpoch;

    public WalkMemo() => Allocate(InitialBits);

    /// <summary>How many times the memo was invalidated: never wraps, so other remembered walks can be stamped with it.</summary>
    public ulong Generation { get; private set; }

    private unsafe void Allocate(int bits)
    {
        _bits = bits;
        var entries = 1 << bits;
        _data = GC.AllocateArray<ulong>(entries * 2 + 8, pinned: true);
        var address = (ulong)Unsafe.AsPointer(ref _data[0]);
        _origin = (int)(((64 - address % 64) % 64) / 8);
        _bucketMask = entries / Ways - 1;
    }

    /// <summary>Whether a walk of this process can be remembered at all (the key has room for 2^19 processes).</summary>
    public static bool Covers(int process) => process <= MaxProcess;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Key(ulong gva, int process) => ((gva & ((1UL << 57) - 1)) >> 12 << 19) | (uint)(process + 1);

    // Processes that use the same addresses start at different buckets.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Spread(ulong key) => (key >> 19) + (key & ((1 << 19) - 1)) * 0x9E3779B97F4A7C15UL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Bucket(ulong key) => _origin + (int)(Spread(key) & (uint)_bucketMask) * Ways * 2;

    /// <summary>Finds the remembered walk of the page holding <paramref name="gva"/>; 0 when there is none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Find(ulong gva, int process)
    {
        var key = Key(gva, process);
        var data = _data;
        var at = Bucket(key);
        for (var way = 0; way < Ways * 2; way += 2)
        {
            if (data[at + way] == key)
            {
                var value = data[at + way + 1];
                return value >> EpochShift == _epoch ? value : 0;
            }
        }
        return 0;
    }

    /// <summary>Asks the host to bring the bucket of <paramref name="gva"/> into its cache (a hint: changes nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(ulong gva, int process) => HostCache.Prefetch(ref _data[Bucket(Key(gva, process))]);

    /// <summary>Remembers a completed walk (an outcome from <see cref="RememberedWalk.Pack"/>).</summary>
    public void Add(ulong gva, int process, ulong outcome)
    {
        var key = Key(gva, process);
        var data = _data;
        var at = Bucket(key);
        // The newest entry goes first; an older entry for the same key or the last way makes room.
        var last = Ways - 1;
        for (var way = 0; way < Ways - 1; way++)
            if (data[at + way * 2] == key) { last = way; break; }
        for (var way = last; way > 0; way--)
        {
            data[at + way * 2] = data[at + way * 2 - 2];
            data[at + way * 2 + 1] = data[at + way * 2 - 1];
        }
        data[at] = key;
        data[at + 1] = outcome | _epoch << EpochShift;
        if (++_insertsThisEpoch > (1L << _bits) / 2 && _bits < MaxBits) Grow();
    }

    /// <summary>Forgets every remembered walk: a present entry that a walk may have read has changed.</summary>
    public void Invalidate()
    {
        Generation++;
        _insertsThisEpoch = 0;
        _epoch = (_epoch + 1) & ((1UL << EpochBits) - 1);
        // After the epoch wraps around, entries from the epoch of the same number would match again.
        if (_epoch == 0) Array.Clear(_data);
    }

    // Copies up to millions of entries the first time it runs: compiled optimised at once, not tiered up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Grow()
    {
        var (old, origin, buckets) = (_data, _origin, _bucketMask + 1);
        Allocate(_bits + 1);
        _insertsThisEpoch = 0;
        // Bucket b's entries go to b or b + buckets, in the order they were (newest first).
        for (var b = 0; b < buckets; b++)
        {
            int low = _origin + b * Ways * 2, high = low + buckets * Ways * 2;
            for (var way = 0; way < Ways; way++)
            {
                var at = origin + (b * Ways + way) * 2;
                var (key, value) = (old[at], old[at + 1]);
                if (key == 0 || value >> EpochShift != _epoch) continue;
                ref var to = ref (Spread(key) & (uint)buckets) == 0 ? ref low : ref high;
                _data[to] = key;
                _data[to + 1] = value;
                to += 2;
            }
        }
    }
}

/// <summary>
/// What a completed walk gave (a walk remembered by the walk memo), packed in 50 bits: the TLB frame, the references it made, the TLB entry's
/// size and its guest page's size, and the permissions of the TLB entry (those of the guest path and of
/// the final stage, EPT or the memslot, together). An access those permissions refuse takes the full walk.
/// </summary>
internal readonly struct RememberedWalk(ulong packed)
{
    private const int FrameBits = 36;
    public const ulong MaxFrame = (1UL << FrameBits) - 1;

    public static ulong Pack(ulong frame, int refs, int sizeCode, int guestSizeCode, TlbPerms perms) =>
        (frame >> 12) | (ulong)refs << 36 | (ulong)sizeCode << 42 | (ulong)guestSizeCode << 44 | (ulong)perms << 46;

    public ulong Frame => (packed & MaxFrame) << 12;
    public int Refs => (int)(packed >> 36) & 63;
    public int SizeCode => (int)(packed >> 42) & 3;
    public int GuestSizeCode => (int)(packed >> 44) & 3;
    public TlbPerms Perms => (TlbPerms)((packed >> 46) & 15);
}
