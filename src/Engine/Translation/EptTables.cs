using System.Runtime.CompilerServices;

namespace MemScript.Engine.Translation;

/// <summary>How a walk of one address through EPT ended.</summary>
public enum EptResult { Mapped, NotPresent, Misconfig }

/// <summary>
/// The EPT paging structures: 512-entry tables in host frames, walked by hardware from the root (EPTP).
/// Entries use the real EPT bits; MMIO entries are the misconfigured write+execute pattern KVM uses.
/// </summary>
/// <remarks>
/// Each table above the last level keeps its children beside its entries, so a walk follows references
/// instead of looking each table up by host-physical address: a full two-dimensional walk makes up to 24
/// of these steps. The lookup by address is kept for walks that start at a table the paging-structure
/// caches gave, and for explain.
/// </remarks>
public sealed class EptTables
{
    /// <summary>One EPT table (opaque outside: the lookahead window keeps one between its stages).</summary>
    internal sealed class Table(ulong hpa, int level)
    {
        public readonly ulong Hpa = hpa;
        public readonly Table?[]? Children = level > 1 ? new Table?[512] : null;
        public TableEntries Entries;
    }

    private readonly Dictionary<ulong, Table> _byHpa = new();

    /// <summary>
    /// The child table behind a present non-leaf entry. The explicit null test lets the JIT drop its
    /// own null check, which would load the child's header: a cache miss of its own for a cold table.
    /// </summary>
    private static Table Child(Table table, int index) =>
        table.Children![index] ?? throw new InvalidOperationException("an EPT entry points to no table");

    /// <summary>An entry of a table, read without loading the table's header (see <see cref="Child"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref ulong EntryOf(Table table, int index)
    {
        if (table is null) throw new ArgumentNullException(nameof(table));
        return ref table.Entries[index];
    }

    private readonly Table _root;
    private readonly int _levels;
    private readonly Func<ulong> _allocateFrame;

    // The last-level table of each 2 MiB of guest-physical memory that has one, direct-mapped by
    // gpa / 2 MiB (key + 1; 0 is empty). Tables are never removed and a present entry never replaced
    // (Install enforces it), so a walk from the root that reaches a last-level table always reaches
    // the same one through the same present entries: it can start there with their references counted,
    // and Install can write a 4 KiB leaf there without following the upper tables' children (for
    // random first touches those are a cache miss each).
    private readonly ulong[]? _lastLevelKeys;
    private readonly Table?[]? _lastLevelTables;

    /// <param name="rememberLastLevel">Remember each 2 MiB region's last-level table (off with paging-structure caches).</param>
    public EptTables(int levels, Func<ulong> allocateFrame, bool rememberLastLevel = false)
    {
        _levels = levels;
        _allocateFrame = allocateFrame;
        _root = NewTable(levels);
        if (rememberLastLevel)
        {
            _lastLevelKeys = new ulong[1 << 14];
            _lastLevelTables = new Table?[1 << 14];
        }
    }

    /// <summary>The remembered last-level table of the 2 MiB region of <paramref name="gpa"/>, or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Table? LastLevel(ulong gpa)
    {
        if (_lastLevelKeys is not { } keys) return null;
        var key = (gpa >> 21) + 1;
        var slot = (int)(key & (ulong)(keys.Length - 1));
        return keys[slot] == key ? _lastLevelTables![slot] : null;
    }

    private void RememberLastLevel(ulong gpa, Table table)
    {
        var key = (gpa >> 21) + 1;
        var slot = (int)(key & (ulong)(_lastLevelKeys!.Length - 1));
        _lastLevelKeys[slot] = key;
        _lastLevelTables![slot] = table;
    }

    public ulong Root => _root.Hpa;
    public int Levels => _levels;
    public int TableCount => _byHpa.Count;

    private Table NewTable(int level)
    {
        var table = new Table(_allocateFrame(), level);
        _byHpa.Add(table.Hpa, table);
        return table;
    }

    /// <summary>
    /// Walks <paramref name="gpa"/> from <paramref name="startTable"/> at <paramref name="startLevel"/>, adding one
    /// reference per entry read up to the one that ended the walk.
    /// </summary>
    public EptResult Walk(ulong gpa, ulong startTable, int startLevel, ref int refs, out ulong hpa, out int leafLevel, out ulong leafEntry,
        PagingStructureCache? pwc)
    {
        Table table;
        var start = startLevel;
        if (startLevel == _levels && startTable == _root.Hpa && LastLevel(gpa) is { } last)
        {
            // The entries above it were read as present, non-leaf: one reference each.
            refs += _levels - 1;
            (table, start) = (last, 1);
        }
        else
        {
            table = startTable == _root.Hpa ? _root : _byHpa[startTable];
        }
        for (var level = start; ; level--)
        {
            refs++;
            var index = Pte.Index(gpa, level);
            var entry = EntryOf(table, index);
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
                hpa = EptEntry.LeafAddress(entry, level, gpa);
                leafLevel = level;
                leafEntry = entry;
                return EptResult.Mapped;
            }
            table = Child(table, index);
            pwc?.Fill(gpa, 0, level, table.Hpa);
            if (level == 2 && _lastLevelKeys is not null && startLevel == _levels && startTable == _root.Hpa) RememberLastLevel(gpa, table);
        }
    }

    /// <summary>
    /// Reads the walk of <paramref name="gpa"/> down to level 2 and prefetches that entry and the child
    /// reference beside it; returns the level-2 table for <see cref="PrefetchLeaf"/>, or null when the walk
    /// ends above or the last-level entry could be prefetched at once (a hint: changes nothing).
    /// </summary>
    internal Table? PrefetchUpper(ulong gpa)
    {
        if (LastLevel(gpa) is { } last)
        {
            // The last-level table is known: its entry can be prefetched now, and no later stage is needed.
            Memory.HostCache.Prefetch(ref EntryOf(last, Pte.Index(gpa, 1)));
            return null;
        }
        var table = _root;
        for (var level = _levels; level > 2; level--)
        {
            var index = Pte.Index(gpa, level);
            var entry = EntryOf(table, index);
            if ((entry & EptEntry.Rwx) == 0 || EptEntry.IsMisconfigured(entry) || (entry & EptEntry.PageSize) != 0) return null;
            table = Child(table, index);
        }
        var at = Pte.Index(gpa, 2);
        Memory.HostCache.Prefetch(ref EntryOf(table, at));
        Memory.HostCache.Prefetch(ref Unsafe.As<Table?, ulong>(ref table.Children![at]));
        return table;
    }

    /// <summary>Follows the level-2 entry <see cref="PrefetchUpper"/> prefetched and prefetches the last-level entry (a hint: changes nothing).</summary>
    internal void PrefetchLeaf(Table table, ulong gpa)
    {
        var at = Pte.Index(gpa, 2);
        var entry = EntryOf(table, at);
        if ((entry & EptEntry.Rwx) == 0 || EptEntry.IsMisconfigured(entry) || (entry & EptEntry.PageSize) != 0) return;
        if (table.Children![at] is not { } child) return;
        Memory.HostCache.Prefetch(ref child.Entries[Pte.Index(gpa, 1)]);
    }

    /// <summary>Installs a leaf for <paramref name="gpa"/> at <paramref name="leafLevel"/>; returns the tables it had to create.</summary>
    public int Install(ulong gpa, int leafLevel, ulong leafEntry)
    {
        var created = 0;
        var table = leafLevel == 1 ? LastLevel(gpa) : null;
        if (table is null)
        {
            table = _root;
            for (var level = _levels; level > leafLevel; level--)
            {
                var index = Pte.Index(gpa, level);
                if ((EntryOf(table, index) & EptEntry.Rwx) == 0)
                {
                    var child = NewTable(level - 1);
                    created++;
                    table.Entries[index] = child.Hpa | EptEntry.Rwx;
                    table.Children![index] = child;
                }
                table = Child(table, index);
                if (level == 2 && _lastLevelKeys is not null) RememberLastLevel(gpa, table);
            }
        }
        ref var leaf = ref EntryOf(table, Pte.Index(gpa, leafLevel));
        // KVM only installs after a violation on a missing entry. Were a present entry replaced, walks
        // remembered by the machine's walk memo would go stale: that must never happen silently.
        if ((leaf & EptEntry.Rwx) != 0) throw new InvalidOperationException($"EPT entry for {gpa:x} replaced while present");
        leaf = leafEntry;
        return created;
    }

    /// <summary>The entries read to translate <paramref name="gpa"/>, for explain: (level, table, index, entry).</summary>
    public List<(int Level, ulong Table, int Index, ulong Entry)> Path(ulong gpa)
    {
        var path = new List<(int, ulong, int, ulong)>();
        var table = _root;
        for (var level = _levels; level >= 1; level--)
        {
            var index = Pte.Index(gpa, level);
            var entry = EntryOf(table, index);
            path.Add((level, table.Hpa, index, entry));
            if ((entry & EptEntry.Rwx) == 0 || EptEntry.IsMisconfigured(entry) || level == 1 || (entry & EptEntry.PageSize) != 0) break;
            table = Child(table, index);
        }
        return path;
    }
}
