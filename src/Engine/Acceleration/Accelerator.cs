using System.Runtime.CompilerServices;
using MemScript.Engine.Translation;

namespace MemScript.Engine.Acceleration;

/// <summary>
/// The acceleration layer: everything that only makes the simulation faster and never changes what it
/// counts. The machine and the modes reach it only through these hooks, and never look inside; with
/// <see cref="MachineOptions.Accelerate"/> off every hook does nothing (recalls find nothing, windows
/// are not opened), and a property test requires byte-identical reports and traces either way.
/// </summary>
/// <remarks>
/// What it keeps:
/// <list type="bullet">
/// <item>the walk memo: completed walks by process and page, replayed from one cache line (not with
/// paging-structure caches, whose contents decide how many references a walk makes; not in software
/// mode, which makes no hardware walk);</item>
/// <item>in ept: the guest's upper walk by 1 GiB region, the EPT walks of guest page-table pages, the
/// EPT last-level table of each 2 MiB region, and the walk retried after an EPT violation on the final
/// translation, counted from what the first attempt read and the EPT leaf just installed;</item>
/// <item>a lookahead window through which the random generator prefetches what its walks will read.</item>
/// </list>
/// Every remembered walk was made of present entries. Anything that changes or clears a present guest
/// or shadow entry calls <see cref="TablesChanged"/> (EPT never changes a present entry), which starts a
/// new generation: nothing remembered from an older one is used again.
/// </remarks>
internal sealed class Accelerator
{
    private readonly Machine _machine;
    private readonly WalkMemo? _memo;
    private readonly UpperPathCache? _upperPaths;
    private readonly TableTranslations? _tableTranslations;
    private readonly EptLastLevels? _lastLevels;
    private RetryState _retry;

    private Accelerator(Machine machine, bool enabled, MachineOptions options)
    {
        _machine = machine;
        Enabled = enabled;
        if (!enabled || options.Pwc) return;
        if (options.Mode != MmuMode.Software) _memo = new WalkMemo();
        if (options.Mode == MmuMode.Ept)
        {
            _upperPaths = new UpperPathCache();
            _tableTranslations = new TableTranslations();
            _lastLevels = new EptLastLevels();
        }
    }

    public static Accelerator For(Machine machine, MachineOptions options) => new(machine, options.Accelerate, options);

    /// <summary>Whether acceleration is on at all (loops may then skip work whose outcome they know).</summary>
    public bool Enabled { get; }

    internal Machine Machine => _machine;
    internal WalkMemo? Memo => _memo;

    // ------------------------------------------------------------ the walk memo

    /// <summary>
    /// A remembered walk of the page of <paramref name="gva"/>: <paramref name="known"/> when the caller's
    /// window found it (in a generation still current), else the memo's. None while a retry is pending.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Recall(ulong gva, int process, ulong known, out RememberedWalk walk)
    {
        var memo = _memo;
        walk = default;
        if (memo is null || _retry.Known || !WalkMemo.Covers(process)) return false;
        var found = known != 0 ? known : memo.Find(gva, process);
        if (found == 0) return false;
        walk = new RememberedWalk(found);
        return true;
    }

    /// <summary>A hardware walk completed with these results (what the TLB was filled with).</summary>
    public void Remember(ulong gva, int process, ulong frame, int refs, int sizeCode, int guestSizeCode, TlbPerms perms)
    {
        if (_memo is not null && frame <= RememberedWalk.MaxFrame << 12 && WalkMemo.Covers(process))
            _memo.Add(gva, process, RememberedWalk.Pack(frame, refs, sizeCode, guestSizeCode, perms));
    }

    /// <summary>The one call that says the page tables changed: a present guest or shadow entry was cleared or replaced.</summary>
    public void TablesChanged() => _memo?.Invalidate();

    // ------------------------------------------------------------ the retry after an EPT violation

    /// <summary>
    /// The guest half of a walk that ended in an EPT violation on its final translation, kept for the
    /// retried walk of the same access: the violation only adds EPT entries for that page, which the
    /// guest half never reads, so the retry reads exactly the same guest entries and table translations,
    /// then reaches the EPT leaf just installed from the root (no paging-structure caches here).
    /// </summary>
    internal struct RetryState
    {
        public bool Known;
        public int Refs, Level;
        public ulong Leaf;
        public PathPermissions Perms;
        public ulong EptLeaf;
        public int EptLevel;
    }

    /// <summary>A new access begins: no retry is pending.</summary>
    public void BeginAccess() => _retry.Known = false;

    /// <summary>Whether the next attempt is a retry the mode will count from what it remembers (its TLB lookup is known to miss).</summary>
    public bool RetryKnownToMiss => _retry.Known;

    public void RememberGuestHalf(int refs, int level, ulong leaf, PathPermissions perms)
    {
        if (_memo is not null) _retry = new RetryState { Refs = refs, Level = level, Leaf = leaf, Perms = perms };
    }

    public void RememberRetryLeaf(ulong eptLeaf, int eptLevel) => (_retry.EptLeaf, _retry.EptLevel) = (eptLeaf, eptLevel);

    /// <summary>The walk just counted ended in a violation that is retried (true), or completed (false).</summary>
    public void RetryFollows(bool retried) => _retry.Known = _memo is not null && retried;

    public bool TakeRetry(out RetryState state)
    {
        state = _retry;
        if (!_retry.Known) return false;
        _retry.Known = false;
        return true;
    }

    // ------------------------------------------------------------ remembered paths (ept)

    public bool TryUpperPath(ulong gva, int process, out ulong table, out int refs, out PathPermissions perms)
    {
        if (_upperPaths is not null) return _upperPaths.TryGet(gva, process, _memo!.Generation, out table, out refs, out perms);
        (table, refs, perms) = (0, 0, default);
        return false;
    }

    public void RememberUpperPath(ulong gva, int process, ulong table, int refs, PathPermissions perms) =>
        _upperPaths?.Set(gva, process, _memo!.Generation, table, refs, perms);

    public bool TryTableTranslation(ulong gpa, out int refs)
    {
        if (_tableTranslations is not null) return _tableTranslations.TryGet(gpa, out refs);
        refs = 0;
        return false;
    }

    public void RememberTableTranslation(ulong gpa, int refs) => _tableTranslations?.Set(gpa, refs);

    /// <summary>The last-level EPT table of the 2 MiB region of <paramref name="gpa"/>, when remembered.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public EptTables.Table? EptLastLevel(ulong gpa) => _lastLevels?.Get(gpa);

    public void RememberEptLastLevel(ulong gpa, EptTables.Table table) => _lastLevels?.Set(gpa, table);

    // ------------------------------------------------------------ the lookahead window

    /// <summary>A window for a generator that knows its addresses ahead; null without acceleration.</summary>
    public Lookahead? OpenWindow() => Enabled ? new Lookahead(this) : null;
}

/// <summary>
/// The EPT walks of guest page-table pages that succeeded, by page: EPT only gains entries (KVM never
/// changes a present one in this model, and EptTables.Install enforces it), so a table page that
/// translated once translates the same way, with the same references, for the rest of the run.
/// </summary>
internal sealed class TableTranslations
{
    // Direct-mapped by page: the guest kernel takes its table frames from the bottom of its memory, so
    // 16 Ki slots hold the first 64 MiB of them without a collision. A slot is (page + 1) << 8 | refs.
    private readonly ulong[] _slots = new ulong[1 << 14];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(ulong gpa, out int refs)
    {
        var key = (gpa >> 12) + 1;
        var slot = _slots[(int)(key & (ulong)(_slots.Length - 1))];
        refs = (int)(slot & 0xff);
        return slot >> 8 == key;
    }

    public void Set(ulong gpa, int refs)
    {
        var key = (gpa >> 12) + 1;
        _slots[(int)(key & (ulong)(_slots.Length - 1))] = key << 8 | (uint)refs;
    }
}

/// <summary>
/// The last-level EPT table of each 2 MiB of guest-physical memory that has one, direct-mapped by
/// gpa / 2 MiB. Tables are never removed and a present entry never replaced, so a walk from the root
/// that reaches a last-level table always reaches the same one through the same present entries: a
/// walk can start there with their references counted, and an install can write a 4 KiB leaf there
/// without following the upper tables (for random first touches those are a cache miss each).
/// </summary>
internal sealed class EptLastLevels
{
    private readonly ulong[] _keys = new ulong[1 << 14];
    private readonly EptTables.Table?[] _tables = new EptTables.Table?[1 << 14];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public EptTables.Table? Get(ulong gpa)
    {
        var key = (gpa >> 21) + 1;
        var slot = (int)(key & (ulong)(_keys.Length - 1));
        return _keys[slot] == key ? _tables[slot] : null;
    }

    public void Set(ulong gpa, EptTables.Table table)
    {
        var key = (gpa >> 21) + 1;
        var slot = (int)(key & (ulong)(_keys.Length - 1));
        _keys[slot] = key;
        _tables[slot] = table;
    }
}
