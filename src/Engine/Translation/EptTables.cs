namespace MemScript.Engine.Translation;

/// <summary>How a walk of one address through EPT ended.</summary>
public enum EptResult { Mapped, NotPresent, Misconfig }

/// <summary>
/// The EPT paging structures: 512-entry tables in host frames, walked by hardware from the root (EPTP).
/// Entries use the real EPT bits; MMIO entries are the misconfigured write+execute pattern KVM uses.
/// </summary>
public sealed class EptTables
{
    private readonly Memory.HostFrameTables _tables = new();
    private readonly int _levels;
    private readonly Func<ulong> _allocateFrame;

    public EptTables(int levels, Func<ulong> allocateFrame)
    {
        _levels = levels;
        _allocateFrame = allocateFrame;
        Root = NewTable();
    }

    public ulong Root { get; }
    public int Levels => _levels;
    public int TableCount => _tables.Count;

    private ulong NewTable()
    {
        var hpa = _allocateFrame();
        _tables.Add(hpa, new ulong[512]);
        return hpa;
    }

    /// <summary>
    /// Walks <paramref name="gpa"/> from <paramref name="startTable"/> at <paramref name="startLevel"/>, adding one
    /// reference per entry read up to the one that ended the walk.
    /// </summary>
    public EptResult Walk(ulong gpa, ulong startTable, int startLevel, ref int refs, out ulong hpa, out int leafLevel, out ulong leafEntry,
        PagingStructureCache? pwc)
    {
        var table = startTable;
        for (var level = startLevel; ; level--)
        {
            refs++;
            var entry = _tables[table][Pte.Index(gpa, level)];
            if ((entry & EptEntry.Rwx) == 0)
            {
                hpa = 0; leafLevel = level; leafEntry = entry;
                return EptResult.NotPresent;
            }
            if (EptEntry.IsMisconfigured(entry))
            {
                hpa = 0; leafLevel = level; leafEntry = entry;
                return EptResult.Misconfig;
            }
            if (level == 1 || (entry & EptEntry.PageSize) != 0)
            {
                var coverage = Pte.Coverage(level);
                hpa = (entry & EptEntry.AddressMask & ~(coverage - 1)) + (gpa & (coverage - 1));
                leafLevel = level;
                leafEntry = entry;
                return EptResult.Mapped;
            }
            table = entry & EptEntry.AddressMask;
            pwc?.Fill(gpa, 0, level, table);
        }
    }

    /// <summary>Installs a leaf for <paramref name="gpa"/> at <paramref name="leafLevel"/>; returns the tables it had to create.</summary>
    public int Install(ulong gpa, int leafLevel, ulong leafEntry)
    {
        var created = 0;
        var table = Root;
        for (var level = _levels; level > leafLevel; level--)
        {
            var entries = _tables[table];
            var index = Pte.Index(gpa, level);
            if ((entries[index] & EptEntry.Rwx) == 0)
            {
                var child = NewTable();
                created++;
                entries[index] = child | EptEntry.Rwx;
            }
            table = entries[index] & EptEntry.AddressMask;
        }
        _tables[table][Pte.Index(gpa, leafLevel)] = leafEntry;
        return created;
    }

    /// <summary>The entries read to translate <paramref name="gpa"/>, for explain: (level, table, index, entry).</summary>
    public List<(int Level, ulong Table, int Index, ulong Entry)> Path(ulong gpa)
    {
        var path = new List<(int, ulong, int, ulong)>();
        var table = Root;
        for (var level = _levels; level >= 1; level--)
        {
            var index = Pte.Index(gpa, level);
            var entry = _tables[table][index];
            path.Add((level, table, index, entry));
            if ((entry & EptEntry.Rwx) == 0 || EptEntry.IsMisconfigured(entry) || level == 1 || (entry & EptEntry.PageSize) != 0) break;
            table = entry & EptEntry.AddressMask;
        }
        return path;
    }
}
