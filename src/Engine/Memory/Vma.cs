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

    public Vma? FirstOverlap(ulong start, ulong last) => _vmas.FirstOrDefault(v => v.Start <= last && start <= v.Last && v.Kind != VmaKind.Hole);

    public void Add(Vma vma)
    {
        RemoveRange(vma.Start, vma.Last);
        var i = 0;
        while (i < _vmas.Count && _vmas[i].Start < vma.Start) i++;
        _vmas.Insert(i, vma);
    }

    /// <summary>Removes [start, last] from every VMA, splitting those that straddle it.</summary>
    public void RemoveRange(ulong start, ulong last)
    {
        var result = new List<Vma>(_vmas.Count + 2);
        foreach (var v in _vmas)
        {
            if (v.Last < start || v.Start > last) { result.Add(v); continue; }
            if (v.Start < start) result.Add(v with { Last = start - 1 });
            if (v.Last > last) result.Add(v with { Start = last + 1 });
        }
        _vmas.Clear();
        _vmas.AddRange(result);
    }

    /// <summary>Changes the permissions of [start, last] in every VMA it touches, splitting at the edges.</summary>
    public void SetPerms(ulong start, ulong last, Perms perms)
    {
        var result = new List<Vma>(_vmas.Count + 2);
        foreach (var v in _vmas)
        {
            if (v.Last < start || v.Start > last || v.Kind == VmaKind.Hole) { result.Add(v); continue; }
            if (v.Start < start) result.Add(v with { Last = start - 1 });
            result.Add(v with { Start = Math.Max(v.Start, start), Last = Math.Min(v.Last, last), Perms = perms });
            if (v.Last > last) result.Add(v with { Start = last + 1 });
        }
        _vmas.Clear();
        _vmas.AddRange(result);
    }
}
