using MemScript.Language.Syntax;

namespace MemScript.Engine.Memory;

public enum VmaKind { Mapped, Demand, Hole }

/// <summary>
/// A region of a process's address space as the guest kernel tracks it (a VMA), from
/// <see cref="Start"/> to <see cref="Last"/> inclusive: a region may end exactly at 2^64, where an
/// exclusive end would wrap to 0. Holes block <c>demand all</c>.
/// </summary>
public sealed record Vma(ulong Start, ulong Last, PageSize Page, Perms Perms, VmaKind Kind)
{
    /// <summary>The region of <paramref name="size"/> bytes (non-zero) from <paramref name="start"/>.</summary>
    public static Vma Of(ulong start, ulong size, PageSize page, Perms perms, VmaKind kind) => new(start, start + (size - 1), page, perms, kind);

    public bool Contains(ulong address) => address >= Start && address <= Last;
}

/// <summary>
/// A process's VMAs, sorted and non-overlapping, with the split operations munmap and mprotect need.
/// Ranges are given by their first and last address, so that none wraps at the top of the address space.
/// </summary>
public sealed class VmaList
{
    private readonly List<Vma> _vmas = new();

    public IReadOnlyList<Vma> All => _vmas;

    public Vma? Find(ulong address)
    {
        int lo = 0, hi = _vmas.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            var v = _vmas[mid];
            if (address < v.Start) hi = mid - 1;
            else if (address > v.Last) lo = mid + 1;
            else return v;
        }
        return null;
    }

    /// <summary>The first VMA that overlaps [start, last] and is not a hole, or null.</summary>
    public Vma? FirstOverlap(ulong start, ulong last)
    {
        for (var i = FirstEndingAtOrAfter(start); i < _vmas.Count && _vmas[i].Start <= last; i++)
            if (_vmas[i].Kind != VmaKind.Hole) return _vmas[i];
        return null;
    }

    public void Add(Vma vma)
    {
        RemoveRange(vma.Start, vma.Last);
        // Nothing overlaps it now, so it goes before the first VMA that ends after it starts.
        _vmas.Insert(FirstEndingAtOrAfter(vma.Start), vma);
    }

    /// <summary>Removes [start, last] from every VMA, splitting those that straddle it.</summary>
    public void RemoveRange(ulong start, ulong last) => Rewrite(start, last, static (v, s, l, _, pieces) =>
    {
        if (v.Start < s) pieces.Add(v with { Last = s - 1 });
        if (v.Last > l) pieces.Add(v with { Start = l + 1 });
    }, default);

    /// <summary>Changes the permissions of [start, last] in every VMA it touches, splitting at the edges.</summary>
    public void SetPerms(ulong start, ulong last, Perms perms) => Rewrite(start, last, static (v, s, l, p, pieces) =>
    {
        if (v.Kind == VmaKind.Hole) { pieces.Add(v); return; }
        if (v.Start < s) pieces.Add(v with { Last = s - 1 });
        pieces.Add(v with { Start = Math.Max(v.Start, s), Last = Math.Min(v.Last, l), Perms = p });
        if (v.Last > l) pieces.Add(v with { Start = l + 1 });
    }, perms);

    // The VMAs are sorted and disjoint, so their last addresses are sorted too: a binary search finds
    // where [start, last] begins, and only the VMAs it touches are rewritten (set-up of many mappings
    // must stay linear, not quadratic).
    private int FirstEndingAtOrAfter(ulong address)
    {
        int lo = 0, hi = _vmas.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_vmas[mid].Last < address) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private void Rewrite(ulong start, ulong last, Action<Vma, ulong, ulong, Perms, List<Vma>> split, Perms perms)
    {
        var i = FirstEndingAtOrAfter(start);
        var j = i;
        while (j < _vmas.Count && _vmas[j].Start <= last) j++;
        if (i == j) return;
        var pieces = new List<Vma>(j - i + 2);
        for (var k = i; k < j; k++) split(_vmas[k], start, last, perms, pieces);
        _vmas.RemoveRange(i, j - i);
        _vmas.InsertRange(i, pieces);
    }
}
