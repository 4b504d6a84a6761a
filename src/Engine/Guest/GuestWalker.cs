using System.Runtime.CompilerServices;
using MemScript.Engine.Inspection;
using MemScript.Engine.Memory;
using MemScript.Engine.Translation;

namespace MemScript.Engine.Guest;

/// <summary>How a walk of the guest's tables ended.</summary>
internal enum WalkEnd
{
    /// <summary>At a present leaf: <see cref="GuestWalk.Entry"/> maps the address.</summary>
    Leaf,
    /// <summary>At a non-present entry: a guest page fault.</summary>
    NotPresent,
    /// <summary>Before reading a table the walker could not reach (its EPT translation is missing).</summary>
    Blocked,
}

/// <summary>
/// One walk of the guest's tables: where it starts (the caller sets <see cref="Table"/>, <see cref="Level"/>
/// and, when it starts below the root, the <see cref="Refs"/> and <see cref="Perms"/> of the levels it
/// skips), and where and how it ended.
/// </summary>
internal struct GuestWalk
{
    /// <summary>The table being read; at the end, the table of the entry that ended the walk, or the one it could not reach.</summary>
    public ulong Table;
    public int Level;
    /// <summary>The entry that ended the walk: the leaf, or the non-present entry.</summary>
    public ulong Entry;
    /// <summary>The references the walk's policy counted (hardware references, or entries a software walker read).</summary>
    public int Refs;
    public PathPermissions Perms;
    public WalkEnd End;
    /// <summary>Records every entry read, for explain; null in a run.</summary>
    public WalkRecorder? Recorder;

    public static GuestWalk From(ulong table, int level, WalkRecorder? recorder = null) =>
        new() { Table = table, Level = level, Perms = PathPermissions.All, Recorder = recorder };

    /// <summary>The guest-physical address a leaf maps <paramref name="gva"/> to.</summary>
    public readonly ulong LeafAddress(ulong gva) => Pte.LeafAddress(Entry, Level, gva);

    public readonly PageSize LeafSize => PagingLevels.SizeOf(Level);
}

/// <summary>
/// What one kind of walker does beside reading entries: what reaching a table costs (a hardware
/// reference, an EPT translation first, or a software read with its slot lookup and host page), and
/// what it keeps of the entries it passes (paging-structure caches). A struct, so that the walker is
/// compiled once per policy with the policy's code inlined.
/// </summary>
internal interface IWalkPolicy
{
    /// <summary>Before an entry of <paramref name="table"/> at <paramref name="level"/> is read; false stops the walk there (<see cref="WalkEnd.Blocked"/>).</summary>
    bool Reach(ulong table, int level, ref GuestWalk walk);

    /// <summary>A present non-leaf entry of <paramref name="level"/> led to <paramref name="next"/>.</summary>
    void Descend(ulong gva, int level, ulong next, ref GuestWalk walk);
}

/// <summary>
/// The one walker of guest page tables: the native fill, the software MMU, KVM's software walk under
/// shadow paging, the guest half of the two-dimensional walk, explain and the report all walk through
/// here, each with its policy, so that what explain says a walk reads is what the run reads.
/// </summary>
internal static class GuestWalker
{
    /// <summary>Walks from where <paramref name="walk"/> starts down to a leaf, a non-present entry, or a table the policy cannot reach.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Walk<TPolicy>(TableStore tables, ulong gva, ref GuestWalk walk, ref TPolicy policy) where TPolicy : struct, IWalkPolicy
    {
        var table = walk.Table;
        for (var level = walk.Level; ; level--)
        {
            if (!policy.Reach(table, level, ref walk))
            {
                (walk.Table, walk.Level, walk.End) = (table, level, WalkEnd.Blocked);
                return;
            }
            var index = Pte.Index(gva, level);
            var entry = tables.Entry(table, index);
            walk.Recorder?.GuestEntry(level, table, index, entry);
            if ((entry & Pte.Present) == 0)
            {
                (walk.Table, walk.Level, walk.Entry, walk.End) = (table, level, entry, WalkEnd.NotPresent);
                return;
            }
            walk.Perms.Apply(entry);
            if (Pte.IsLeaf(entry, level))
            {
                (walk.Table, walk.Level, walk.Entry, walk.End) = (table, level, entry, WalkEnd.Leaf);
                return;
            }
            table = entry & Pte.AddressMask;
            policy.Descend(gva, level, table, ref walk);
        }
    }
}

/// <summary>Page sizes by paging level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) and back.</summary>
internal static class PagingLevels
{
    public static PageSize SizeOf(int level) => level switch { 1 => PageSize.Size4K, 2 => PageSize.Size2M, _ => PageSize.Size1G };

    public static int Of(PageSize size) => size switch { PageSize.Size4K => 1, PageSize.Size2M => 2, _ => 3 };

    public static PageSize Min(PageSize a, PageSize b) => a < b ? a : b;
}
