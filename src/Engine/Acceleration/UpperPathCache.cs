using System.Runtime.CompilerServices;
using MemScript.Engine.Translation;

namespace MemScript.Engine.Acceleration;

/// <summary>
/// The upper part of guest walks, by process and 1 GiB region: the level-2 table a walk reaches, the
/// references it made to get there (table translations included) and the permissions of the entries
/// it read. A walk that starts from here reads exactly what it skips would have read: only paths through
/// present table entries are kept, and the language never rewrites one (unmap and protect rewrite
/// leaves; a mapping over a table is an error). Should that change, every change to a present guest
/// entry already starts a new <see cref="WalkMemo.Generation"/>, and an entry of an older generation
/// never matches. It only saves the simulator work, as the walk memo does (EPT mode, memo on).
/// </summary>
internal sealed class UpperPathCache
{
    private const int Bits = 8;

    private struct Entry
    {
        public ulong Key, Generation, Table;
        public int Refs;
        public PathPermissions Perms;
    }

    private readonly Entry[] _entries = new Entry[1 << Bits];

    // Regions of 57-bit addresses need 27 bits; process numbers WalkMemo.Covers fit in 19.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Key(ulong gva, int process) => ((gva & ((1UL << 57) - 1)) >> 30 << 20) | (uint)(process + 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref Entry Place(ulong key) => ref _entries[(int)((key * 0x9E3779B97F4A7C15UL) >> (64 - Bits))];

    /// <summary>The remembered path to the level-2 table of <paramref name="gva"/>'s region, if it is of this generation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(ulong gva, int process, ulong generation, out ulong table, out int refs, out PathPermissions perms)
    {
        var key = Key(gva, process);
        ref var entry = ref Place(key);
        if (WalkMemo.Covers(process) && entry.Key == key && entry.Generation == generation)
        {
            (table, refs, perms) = (entry.Table, entry.Refs, entry.Perms);
            return true;
        }
        (table, refs, perms) = (0, 0, default);
        return false;
    }

    /// <summary>Remembers the path a walk took to the level-2 table of <paramref name="gva"/>'s region.</summary>
    public void Set(ulong gva, int process, ulong generation, ulong table, int refs, PathPermissions perms)
    {
        // The key has room for the processes the walk memo covers; others are not remembered.
        if (!WalkMemo.Covers(process)) return;
        var key = Key(gva, process);
        Place(key) = new Entry { Key = key, Generation = generation, Table = table, Refs = refs, Perms = perms };
    }
}
