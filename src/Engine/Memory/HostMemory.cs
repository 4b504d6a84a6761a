using MemScript.Language;
using MemScript.Language.Syntax;

namespace MemScript.Engine.Memory;

/// <summary>
/// Host memory: the pages behind the slots, faulted in on first touch at the slot's backing size, and a
/// bump allocator of host-physical frames from 0x1_0000_0000, naturally aligned to their size.
/// </summary>
public sealed class HostMemory
{
    public const ulong FirstFrame = 0x1_0000_0000;

    private readonly Dictionary<ulong, ulong> _pages = new();
    private ulong _next = FirstFrame;

    public int PageCount => _pages.Count;

    public ulong AllocateFrames(ulong size)
    {
        var at = (_next + size - 1) & ~(size - 1);
        _next = at + size;
        return at;
    }

    // Backing pages are at least 4 KiB aligned, so the size code fits in the low bits of the key.
    private static ulong Key(ulong alignedHva, PageSize size) => alignedHva | (ulong)size;

    /// <summary>Finds the host page behind <paramref name="hva"/>; false when it was never touched.</summary>
    public bool TryGet(ulong hva, PageSize backing, out ulong hostPage)
    {
        var aligned = hva & ~(backing.Bytes() - 1);
        return _pages.TryGetValue(Key(aligned, backing), out hostPage);
    }

    /// <summary>Faults in the host page behind <paramref name="hva"/>; returns its host-physical base.</summary>
    public ulong FaultIn(ulong hva, PageSize backing)
    {
        var aligned = hva & ~(backing.Bytes() - 1);
        var hpa = AllocateFrames(backing.Bytes());
        _pages.Add(Key(aligned, backing), hpa);
        return hpa;
    }
}
