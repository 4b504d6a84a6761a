using MemScript.Language.Syntax;

namespace MemScript.Engine.Memory;

public enum VmaKind { Mapped, Demand, Hole }

/// <summary>A region of a process's address space as the guest kernel tracks it (a VMA). Holes block <c>demand all</c>.</summary>
public sealed record Vma(ulong Start, ulong End, PageSize Page, Perms Perms, VmaKind Kind);

/// <summary>A process's VMAs, sorted and non-overlapping, with the split operations munmap and mprotect need.</summary>
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
            else if (address >= v.End) lo = mid + 1;
            else return v;
        }
        return null;
    }

    public Vma? FirstOverlap(ulong start, ulong end) => _vmas.FirstOrDefault(v => v.Start < end && start < v.End && v.Kind != VmaKind.Hole);

    public void Add(Vma vma)
    {
        RemoveRange(vma.Start, vma.End, keepHoles: false);
        var i = 0;
        while (i < _vmas.Count && _vmas[i].Start < vma.Start) i++;
        _vmas.Insert(i, vma);
    }

    /// <summary>Removes [start, end) from every VMA, splitting those that straddle it.</summary>
    public void RemoveRange(ulong start, ulong end, bool keepHoles = false)
    {
        var result = new List<Vma>(_vmas.Count + 2);
        foreach (var v in _vmas)
        {
            if (v.End <= start || v.Start >= end) { result.Add(v); continue; }
            if (keepHoles && v.Kind == VmaKind.Hole) { result.Add(v); continue; }
            if (v.Start < start) result.Add(v with { End = start });
            if (v.End > end) result.Add(v with { Start = end });
        }
        _vmas.Clear();
        _vmas.AddRange(result);
    }

    /// <summary>Changes the permissions of [start, end) in every VMA it touches, splitting at the edges.</summary>
    public void SetPerms(ulong start, ulong end, Perms perms)
    {
        var result = new List<Vma>(_vmas.Count + 2);
        foreach (var v in _vmas)
        {
            if (v.End <= start || v.Start >= end || v.Kind == VmaKind.Hole) { result.Add(v); continue; }
            if (v.Start < start) result.Add(v with { End = start });
            result.Add(v with { Start = Math.Max(v.Start, start), End = Math.Min(v.End, end), Perms = perms });
            if (v.End > end) result.Add(v with { Start = end });
        }
        _vmas.Clear();
        _vmas.AddRange(result);
    }
}
