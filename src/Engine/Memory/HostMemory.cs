using System.Runtime.CompilerServices;
using MemScript.Language;
using MemScript.Language.Syntax;

namespace MemScript.Engine.Memory;

/// <summary>
/// Host memory: the pages behind the slots, faulted in on first touch at the slot's backing size, and a
/// bump allocator of host-physical frames from 0x1_0000_0000, naturally aligned to their size.
/// </summary>
/// <remarks>
/// Pages are found by host-virtual address in chunks of 512 consecutive pages of one size, like a page
/// table's last level: a touched page costs 8 bytes when its neighbours are touched too, and a lookup is
/// one read in a chunk (the last chunk used is kept, and chunks are few enough for their table to stay
/// in cache). A general dictionary of pages cost a cache miss per probe and 30 bytes per page; the
/// chunks are found by open addressing, which needs no division and one array read per probe.
/// </remarks>
public sealed class HostMemory
{
    public const ulong FirstFrame = 0x1_0000_0000;
    private const int ChunkBits = 9;

    // Open addressing over chunk keys stored plus one (0 marks a free place), with linear probing.
    private ulong[] _keys = new ulong[64];
    private ulong[][] _chunks = new ulong[64][];
    private int _chunkCount;
    private ulong _lastKey = ulong.MaxValue;
    private ulong[]? _lastChunk;
    private ulong _next = FirstFrame;

    public int PageCount { get; private set; }

    public ulong AllocateFrames(ulong size)
    {
        var at = (_next + size - 1) & ~(size - 1);
        _next = at + size;
        return at;
    }

    // A chunk is named by its first page's number and the page size, which fits in the low bits:
    // page numbers of 4 KiB pages have at most 52 bits, so shifting by the chunk size leaves room.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ChunkKey(ulong pageNumber, PageSize size) => ((pageNumber >> ChunkBits) << 2) | (ulong)size;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong[]? Chunk(ulong key)
    {
        if (key == _lastKey) return _lastChunk;
        var chunk = Find(key);
        if (chunk is null) return null;
        _lastKey = key;
        _lastChunk = chunk;
        return chunk;
    }

    private int Place(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> 40) & (_keys.Length - 1);

    private ulong[]? Find(ulong key)
    {
        var keys = _keys;
        var mask = keys.Length - 1;
        for (var at = Place(key); ; at = (at + 1) & mask)
        {
            var stored = keys[at];
            if (stored == key + 1) return _chunks[at];
            if (stored == 0) return null;
        }
    }

    private void Insert(ulong key, ulong[] chunk)
    {
        if ((_chunkCount + 1) * 2 > _keys.Length)
        {
            var (keys, chunks) = (_keys, _chunks);
            (_keys, _chunks) = (new ulong[keys.Length * 2], new ulong[keys.Length * 2][]);
            for (var i = 0; i < keys.Length; i++)
                if (keys[i] != 0) Place(keys[i] - 1, chunks[i]);
        }
        Place(key, chunk);
        _chunkCount++;
    }

    private void Place(ulong key, ulong[] chunk)
    {
        var mask = _keys.Length - 1;
        var at = Place(key);
        while (_keys[at] != 0) at = (at + 1) & mask;
        _keys[at] = key + 1;
        _chunks[at] = chunk;
    }

    /// <summary>Finds the host page behind <paramref name="hva"/>; false when it was never touched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(ulong hva, PageSize backing, out ulong hostPage)
    {
        var page = hva >> Shift(backing);
        hostPage = Chunk(ChunkKey(page, backing)) is { } chunk ? Translation.Pte.At(chunk, (int)(page & ((1 << ChunkBits) - 1))) : 0;
        return hostPage != 0;
    }

    /// <summary>Prefetches where the host page behind <paramref name="hva"/> is recorded (a hint: changes nothing).</summary>
    public void Prefetch(ulong hva, PageSize backing)
    {
        var page = hva >> Shift(backing);
        if (Find(ChunkKey(page, backing)) is { } chunk) HostCache.Prefetch(ref Translation.Pte.At(chunk, (int)(page & ((1 << ChunkBits) - 1))));
    }

    /// <summary>Faults in the host page behind <paramref name="hva"/>; returns its host-physical base.</summary>
    public ulong FaultIn(ulong hva, PageSize backing)
    {
        var page = hva >> Shift(backing);
        var key = ChunkKey(page, backing);
        var chunk = Chunk(key);
        if (chunk is null)
        {
            chunk = new ulong[1 << ChunkBits];
            Insert(key, chunk);
            (_lastKey, _lastChunk) = (key, chunk);
        }
        ref var slot = ref Translation.Pte.At(chunk, (int)(page & ((1 << ChunkBits) - 1)));
        if (slot != 0) throw new InvalidOperationException($"host page {hva:x} faulted in twice");
        slot = AllocateFrames(backing.Bytes());
        PageCount++;
        return slot;
    }

    private static int Shift(PageSize size) => size switch { PageSize.Size4K => 12, PageSize.Size2M => 21, _ => 30 };
}
