using MemScript.Language.Syntax;

namespace MemScript.Engine.Memory;

/// <summary>A guest process: its page-table root (CR3), its VMAs and its TLB tag.</summary>
public sealed class GuestProcess(string name, int index, ulong root)
{
    public string Name { get; } = name;

    /// <summary>Position in the file; the PCID when PCID is on.</summary>
    public int Index { get; } = index;

    public ulong Root { get; } = root;

    public VmaList Vmas { get; } = new();

    /// <summary>Permissions of <c>demand all</c>, when the process has it.</summary>
    public Perms? DemandAll { get; set; }
}
