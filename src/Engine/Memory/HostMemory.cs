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
/// one read in a chunk (the last chunk used is kept, and chunks are few enough for the dictionary to
/// stay in cache). A general dictionary of pages cost a cache miss per probe and 30 bytes per page.
/// </remarks>
public sealed class HostMemory
{
    public const ulong FirstFrame = 0x1_0000_0000;
    private const int ChunkBits = 9;

    private readonly Dictionary<ulong, ulong[]> _chunks = new();
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
        if (!_chunks.TryGetValue(key, out var chunk)) return null;
        _lastKey = key;
        _lastChunk = chunk;
        return chunk;
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
        if (_chunks.TryGetValue(ChunkKey(page, backing), out var chunk)) HostCache.Prefetch(ref Translation.Pte.At(chunk, (int)(page & ((1 << ChunkBits) - 1))));
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
            _chunks.Add(key, chunk);
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
