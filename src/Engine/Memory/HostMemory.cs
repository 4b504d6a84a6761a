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
/// one read in a chunk. The chunks of the slots' own address ranges, known up front, sit in one flat
/// directory per range (a read at a computed index); anything else is found by open addressing. A
/// general dictionary of pages cost a cache miss per probe and 30 bytes per page.
/// </remarks>
public sealed class HostMemory
{
    public const ulong FirstFrame = 0x1_0000_0000;
    private const int ChunkBits = 9;
    // A directory costs 8 bytes per 512 pages of its range; larger ranges use the table alone.
    private const int MaxDirectory = 1 << 20;

    /// <summary>The chunks of one range of chunk numbers of one page size.</summary>
    private sealed class Directory(PageSize backing, ulong first, int length)
    {
        public readonly PageSize Backing = backing;
        public readonly ulong First = first;
        public readonly Translation.TableSlot[] Chunks = new Translation.TableSlot[length];
    }

    private readonly Directory[] _directories;

    // Open addressing over chunk keys stored plus one (0 marks a free place), with linear probing.
    private ulong[] _keys = new ulong[64];
    private ulong[][] _chunks = new ulong[64][];
    private int _chunkCount;
    private ulong _lastKey = ulong.MaxValue;
    private ulong[]? _lastChunk;
    private ulong _next = FirstFrame;

    public HostMemory() : this([]) { }

    /// <summary>Host memory whose chunks in the given address ranges (the slots') are found by index.</summary>
    public HostMemory(IEnumerable<(ulong Hva, ulong Size, PageSize Backing)> ranges)
    {
        var directories = new List<Directory>();
        // Overlapping ranges of one page size (aliased slots) share a directory.
        foreach (var group in ranges.Where(r => r.Size > 0).GroupBy(r => r.Backing).OrderBy(g => g.Key))
        {
            var spans = group.Select(r => (First: ChunkOf(r.Hva, r.Backing), Last: ChunkOf(r.Hva + (r.Size - 1), r.Backing)))
                .OrderBy(r => r.First).ToList();
            var (first, last) = spans[0];
            foreach (var (f, l) in spans.Skip(1).Append((ulong.MaxValue, ulong.MaxValue)))
            {
                if (f != ulong.MaxValue && f <= last + 1)
                {
                    last = Math.Max(last, l);
                    continue;
                }
                if (last - first < MaxDirectory) directories.Add(new Directory(group.Key, first, (int)(last - first + 1)));
                (first, last) = (f, l);
            }
        }
        _directories = [.. directories];
    }

    public int PageCount { get; private set; }

    public ulong AllocateFrames(ulong size)
    {
        var at = (_next + size - 1) & ~(size - 1);
        _next = at + size;
        return at;
    }

    private static ulong ChunkOf(ulong hva, PageSize size) => hva >> Shift(size) >> ChunkBits;

    // A chunk is named by its number and the page size, which fits in the low bits: chunk numbers of
    // 4 KiB pages have at most 43 bits, so shifting by two leaves room.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ChunkKey(ulong chunk, PageSize size) => (chunk << 2) | (ulong)size;

    /// <summary>The directory place of a chunk, or a null reference when no directory covers it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref ulong[]? Listed(ulong chunk, PageSize backing)
    {
        foreach (var directory in _directories)
        {
            var at = chunk - directory.First;
            if (directory.Backing == backing && at < (ulong)directory.Chunks.Length) return ref directory.Chunks[at].Entries;
        }
        return ref Unsafe.NullRef<ulong[]?>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong[]? Chunk(ulong chunk, PageSize backing)
    {
        ref var listed = ref Listed(chunk, backing);
        if (!Unsafe.IsNullRef(ref listed)) return listed;
        var key = ChunkKey(chunk, backing);
        if (key == _lastKey) return _lastChunk;
        var found = Find(key);
        if (found is null) return null;
        _lastKey = key;
        _lastChunk = found;
        return found;
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
        if (_preallocated.Length != 0 && Preallocated(hva, backing, out hostPage)) return true;
        var page = hva >> Shift(backing);
        hostPage = Chunk(page >> ChunkBits, backing) is { } chunk ? Translation.Pte.At(chunk, (int)(page & ((1 << ChunkBits) - 1))) : 0;
        return hostPage != 0;
    }

    /// <summary>A range of host-virtual memory whose pages all exist from the start, in consecutive host frames.</summary>
    private readonly record struct Range(ulong Hva, ulong Size, PageSize Backing, ulong Hpa);

    private Range[] _preallocated = [];

    /// <summary>The host pages preallocated so far (none of them faulted in, none in <see cref="PageCount"/>).</summary>
    public long PreallocatedPages { get; private set; }

    /// <summary>
    /// Allocates every host page of [<paramref name="hva"/>, +<paramref name="size"/>) at once, in address
    /// order, in consecutive frames (QEMU's -mem-prealloc). Kept as one range, not per page, so a slot of
    /// any size costs the same; pages of it already present (an aliased range) are not allocated again.
    /// </summary>
    public void Preallocate(ulong hva, ulong size, PageSize backing)
    {
        if (_preallocated.Any(r => r.Backing == backing && r.Hva <= hva && hva + size <= r.Hva + r.Size)) return;
        var bytes = backing.Bytes();
        var first = AllocateFrames(bytes);
        _next = first + size;
        _preallocated = [.. _preallocated, new Range(hva, size, backing, first)];
        PreallocatedPages += (long)(size / bytes);
    }

    private bool Preallocated(ulong hva, PageSize backing, out ulong hostPage)
    {
        foreach (var r in _preallocated)
        {
            if (r.Backing != backing || hva < r.Hva || hva - r.Hva >= r.Size) continue;
            hostPage = r.Hpa + ((hva - r.Hva) & ~(backing.Bytes() - 1));
            return true;
        }
        hostPage = 0;
        return false;
    }

    /// <summary>Where the host page behind <paramref name="hva"/> is recorded (for a prefetch); a null reference when none near it was ever touched.</summary>
    internal ref ulong RecordOf(ulong hva, PageSize backing)
    {
        var page = hva >> Shift(backing);
        if (Chunk(page >> ChunkBits, backing) is { } chunk) return ref Translation.Pte.At(chunk, (int)(page & ((1 << ChunkBits) - 1)));
        return ref Unsafe.NullRef<ulong>();
    }

    /// <summary>Faults in the host page behind <paramref name="hva"/>; returns its host-physical base.</summary>
    public ulong FaultIn(ulong hva, PageSize backing)
    {
        var page = hva >> Shift(backing);
        var number = page >> ChunkBits;
        var chunk = Chunk(number, backing);
        if (chunk is null)
        {
            chunk = new ulong[1 << ChunkBits];
            ref var listed = ref Listed(number, backing);
            if (!Unsafe.IsNullRef(ref listed))
            {
                listed = chunk;
            }
            else
            {
                var key = ChunkKey(number, backing);
                Insert(key, chunk);
                (_lastKey, _lastChunk) = (key, chunk);
            }
        }
        ref var slot = ref Translation.Pte.At(chunk, (int)(page & ((1 << ChunkBits) - 1)));
        if (slot != 0) throw new InvalidOperationException($"host page {hva:x} faulted in twice");
        slot = AllocateFrames(backing.Bytes());
        PageCount++;
        return slot;
    }

    private static int Shift(PageSize size) => size switch { PageSize.Size4K => 12, PageSize.Size2M => 21, _ => 30 };
}
