using MemScript.Language.Checking;

namespace MemScript.Engine.Memory;

/// <summary>The VM's memslots in guest-physical order: which slot holds an address, and how KVM may map it.</summary>
public sealed class Memslots
{
    private readonly SlotInfo[] _slots;

    public Memslots(IEnumerable<SlotInfo> slots) => _slots = slots.OrderBy(s => s.Gpa).ToArray();

    public IReadOnlyList<SlotInfo> All => _slots;

    /// <summary>The slot holding a guest-physical address, or null for MMIO.</summary>
    public SlotInfo? Find(ulong gpa)
    {
        int lo = 0, hi = _slots.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            var s = _slots[mid];
            if (gpa < s.Gpa) hi = mid - 1;
            else if (gpa >= s.End) lo = mid + 1;
            else return s;
        }
        return null;
    }

    /// <summary>
    /// KVM's mapping size for a guest-physical address: the largest of 1 GiB, 2 MiB, 4 KiB no larger than
    /// the backing, whose aligned range lies in the slot, with gpa - hva a multiple of it, and 4 KiB in a
    /// dirty-log slot.
    /// </summary>
    public static PageSize HostMapSize(SlotInfo slot, ulong gpa)
    {
        if (slot.DirtyLog) return PageSize.Size4K;
        foreach (var size in (ReadOnlySpan<PageSize>)[PageSize.Size1G, PageSize.Size2M])
        {
            var bytes = size.Bytes();
            if (bytes > slot.Backing.Bytes()) continue;
            var start = gpa & ~(bytes - 1);
            if (start < slot.Gpa || start + bytes > slot.End) continue;
            if (((slot.Gpa ^ slot.Hva) & (bytes - 1)) != 0) continue;
            return size;
        }
        return PageSize.Size4K;
    }

    /// <summary>The host-virtual address behind a guest-physical one of <paramref name="slot"/>.</summary>
    public static ulong HvaOf(SlotInfo slot, ulong gpa) => slot.Hva + (gpa - slot.Gpa);
}
