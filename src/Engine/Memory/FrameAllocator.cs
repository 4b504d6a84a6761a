using MemScript.Language.Checking;

namespace MemScript.Engine.Memory;

/// <summary>
/// The guest kernel's frame allocator: the lowest free naturally aligned range of the requested size,
/// searching the writable slots in guest-physical order. A frame is never free once handed out or when
/// any <c>map</c> of the file targets it. Used ranges are kept merged, so contiguous allocation stays cheap.
/// </summary>
public sealed class FrameAllocator
{
    private readonly SlotInfo[] _writable;
    private readonly List<(ulong Start, ulong End)> _used = new();

    public FrameAllocator(IEnumerable<SlotInfo> slots, IEnumerable<(ulong Start, ulong End)> reserved)
    {
        _writable = slots.Where(s => !s.Readonly).OrderBy(s => s.Gpa).ToArray();
        foreach (var (start, end) in reserved) MarkUsed(start & ~0xfffUL, (end + 0xfff) & ~0xfffUL);
    }

    /// <summary>Allocates <paramref name="size"/> bytes (4 KiB, 2 MiB or 1 GiB) aligned to their size; null when none is left.</summary>
    public ulong? Allocate(ulong size)
    {
        foreach (var slot in _writable)
        {
            var candidate = AlignUp(slot.Gpa, size);
            var i = FirstEndingAfter(candidate);
            while (candidate >= slot.Gpa && candidate + size <= slot.End && candidate + size > candidate)
            {
                if (i >= _used.Count || _used[i].Start >= candidate + size)
                {
                    MarkUsed(candidate, candidate + size);
                    return candidate;
                }
                candidate = AlignUp(Math.Max(candidate, _used[i].End), size);
                i++;
            }
        }
        return null;
    }

    private static ulong AlignUp(ulong value, ulong alignment)
    {
        var aligned = (value + alignment - 1) & ~(alignment - 1);
        return aligned < value ? ulong.MaxValue & ~(alignment - 1) : aligned;
    }

    // Index of the first used range whose end is above the address.
    private int FirstEndingAfter(ulong address)
    {
        int lo = 0, hi = _used.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (_used[mid].End <= address) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    private void MarkUsed(ulong start, ulong end)
    {
        if (end <= start) return;
        var i = FirstEndingAfter(start);
        // Merge with every range that touches [start, end).
        while (i > 0 && _used[i - 1].End == start) i--;
        var newStart = start;
        var newEnd = end;
        var j = i;
        while (j < _used.Count && _used[j].Start <= newEnd)
        {
            newStart = Math.Min(newStart, _used[j].Start);
            newEnd = Math.Max(newEnd, _used[j].End);
            j++;
        }
        _used.RemoveRange(i, j - i);
        _used.Insert(i, (newStart, newEnd));
    }
}
