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
    internal static Table Child(Table table, int index) =>
        table.Children![index] ?? throw new InvalidOperationException("an EPT entry points to no table");

    /// <summary>An entry of a table, read without loading the table's header (see <see cref="Child"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ref ulong EntryOf(Table table, int index)
    {
        if (table is null) throw new ArgumentNullException(nameof(table));
        return ref table.Entries[index];
    }

    private readonly Table _root;
    private readonly int _levels;
    private readonly Func<ulong> _allocateFrame;
    private readonly Action _presentEntryChanged;

    /// <param name="levels">The EPT depth (4 or 5).</param>
    /// <param name="allocateFrame">Hands out the host frame of each new table.</param>
    /// <param name="presentEntryChanged">Called whenever a present entry's permissions change (the dirty log's W): what a walk read may have changed.</param>
    public EptTables(int levels, Func<ulong> allocateFrame, Action presentEntryChanged)
    {
        _levels = levels;
        _allocateFrame = allocateFrame;
        _presentEntryChanged = presentEntryChanged;
        _root = NewTable(levels);
    }

    public ulong Root => _root.Hpa;
    public int Levels => _levels;

    /// <summary>The root table (EPTP).</summary>
    internal Table RootTable => _root;

    /// <summary>The table at a host-physical address (where a paging-structure cache hit starts a walk).</summary>
    internal Table TableAt(ulong hpa) => hpa == _root.Hpa ? _root : _byHpa[hpa];

    private Table NewTable(int level)
    {
        var table = new Table(_allocateFrame(), level);
        _byHpa.Add(table.Hpa, table);
        return table;
    }

    /// <summary>Where a walk through EPT ended.</summary>
    internal struct EptLeaf
    {
        /// <summary>The host-physical address (when mapped).</summary>
        public ulong Hpa;
        /// <summary>The level of the entry that ended the walk, and that entry.</summary>
        public int Level;
        public ulong Entry;
        /// <summary>The last-level table the walk reached, if it went that far.</summary>
        public Table? LastLevel;
    }

    /// <summary>
    /// Walks <paramref name="gpa"/> from <paramref name="start"/> at <paramref name="startLevel"/>, adding one
    /// reference per entry read up to the one that ended the walk; present non-leaf entries go into
    /// <paramref name="pwc"/>, and <paramref name="recorder"/> (explain) records every entry read.
    /// </summary>
    internal EptResult Walk(ulong gpa, Table start, int startLevel, ref int refs, PagingStructureCache? pwc, Inspection.WalkRecorder? recorder, out EptLeaf leaf)
    {
        var table = start;
        for (var level = startLevel; ; level--)
        {
            refs++;
            var index = Pte.Index(gpa, level);
            var entry = EntryOf(table, index);
            recorder?.EptEntry(level, table.Hpa, index, entry);
            var present = (entry & EptEntry.Rwx) != 0;
            if (present && !EptEntry.IsMisconfigured(entry) && level > 1 && (entry & EptEntry.PageSize) == 0)
            {
                table = Child(table, index);
                pwc?.Fill(gpa, 0, level, table.Hpa);
                continue;
            }
            var result = !present ? EptResult.NotPresent : EptEntry.IsMisconfigured(entry) ? EptResult.Misconfig : EptResult.Mapped;
            leaf = new EptLeaf
            {
                Hpa = result == EptResult.Mapped ? EptEntry.LeafAddress(entry, level, gpa) : 0,
                Level = level,
                Entry = entry,
                LastLevel = level == 1 ? table : null,
            };
            return result;
        }
    }

    /// <summary>The present leaf that maps <paramref name="gpa"/>, or a null reference.</summary>
    private ref ulong LeafOf(ulong gpa)
    {
        var table = _root;
        for (var level = _levels; ; level--)
        {
            var index = Pte.Index(gpa, level);
            ref var entry = ref EntryOf(table, index);
            if ((entry & EptEntry.Rwx) == 0 || EptEntry.IsMisconfigured(entry)) return ref Unsafe.NullRef<ulong>();
            if (level == 1 || (entry & EptEntry.PageSize) != 0) return ref entry;
            table = Child(table, index);
        }
    }

    /// <summary>Gives the leaf of <paramref name="gpa"/> write permission (KVM after logging the page under wp).</summary>
    internal void GrantWrite(ulong gpa)
    {
        ref var leaf = ref LeafOf(gpa);
        if (Unsafe.IsNullRef(ref leaf) || (leaf & EptEntry.Write) != 0) return;
        leaf |= EptEntry.Write;
        _presentEntryChanged();
    }

    /// <summary>Takes write permission from the leaf of <paramref name="gpa"/>, where there is one (the wp dirty log's collection).</summary>
    internal void RevokeWrite(ulong gpa)
    {
        ref var leaf = ref LeafOf(gpa);
        if (Unsafe.IsNullRef(ref leaf) || (leaf & EptEntry.Write) == 0) return;
        leaf &= ~EptEntry.Write;
        _presentEntryChanged();
    }

    /// <summary>
    /// Installs a leaf for <paramref name="gpa"/> at <paramref name="leafLevel"/>; returns the tables it had
    /// to create. A 4 KiB leaf goes into <paramref name="lastLevel"/> when the caller knows that table
    /// (tables are never removed, so the last-level table of a region stays the same); otherwise the
    /// walk from the root gives it back in <paramref name="reached"/>.
    /// </summary>
    internal int Install(ulong gpa, int leafLevel, ulong leafEntry, Table? lastLevel, out Table? reached)
    {
        var created = 0;
        reached = null;
        var table = leafLevel == 1 ? lastLevel : null;
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
            }
            if (leafLevel == 1) reached = table;
        }
        ref var leaf = ref EntryOf(table, Pte.Index(gpa, leafLevel));
        // KVM only installs after a violation on a missing entry. Were a present entry replaced, walks
        // remembered by the acceleration layer would go stale: that must never happen silently.
        if ((leaf & EptEntry.Rwx) != 0) throw new InvalidOperationException($"EPT entry for {gpa:x} replaced while present");
        leaf = leafEntry;
        return created;
    }
}
