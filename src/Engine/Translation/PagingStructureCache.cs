namespace MemScript.Engine.Translation;

/// <summary>
/// Paging-structure caches (Intel SDM 4.10.3): for each upper level, a small fully associative LRU cache
/// from the address bits that select the entries down to that level to the next table's address. A hit
/// lets a walk skip the references of the levels it covers.
/// </summary>
public sealed class PagingStructureCache
{
    private readonly int _levels;
    private readonly int _entries;
    private readonly ulong[][] _keys;
    private readonly int[][] _tags;
    private readonly ulong[][] _tables;
    private readonly long[][] _stamps;
    private long _clock;

    /// <param name="levels">The paging depth (4 or 5); levels 2..depth have caches.</param>
    public PagingStructureCache(int levels, int entries)
    {
        _levels = levels;
        _entries = entries;
        _keys = new ulong[levels + 1][];
        _tags = new int[levels + 1][];
        _tables = new ulong[levels + 1][];
        _stamps = new long[levels + 1][];
        for (var l = 2; l <= levels; l++)
        {
            _keys[l] = new ulong[entries];
            _tags[l] = new int[entries];
            _tables[l] = new ulong[entries];
            _stamps[l] = new long[entries];
        }
    }

    private static ulong Prefix(ulong address, int level) => (address & ((1UL << 57) - 1)) >> (12 + 9 * (level - 1));

    /// <summary>
    /// Finds the deepest cached entry for an address: returns the level whose entry was cached (the walk
    /// continues at level - 1 with <paramref name="table"/>) or 0 when nothing is cached.
    /// </summary>
    public int Lookup(ulong address, int tag, out ulong table)
    {
        for (var level = 2; level <= _levels; level++)
        {
            var key = Prefix(address, level);
            var stamps = _stamps[level];
            for (var i = 0; i < _entries; i++)
            {
                if (stamps[i] != 0 && _keys[level][i] == key && _tags[level][i] == tag)
                {
                    stamps[i] = ++_clock;
                    table = _tables[level][i];
                    return level;
                }
            }
        }
        table = 0;
        return 0;
    }

    /// <summary>Caches the present non-leaf entry of <paramref name="level"/> that points to <paramref name="table"/>.</summary>
    public void Fill(ulong address, int tag, int level, ulong table)
    {
        if (level < 2 || level > _levels) return;
        var key = Prefix(address, level);
        var stamps = _stamps[level];
        var victim = 0;
        for (var i = 0; i < _entries; i++)
        {
            if (stamps[i] != 0 && _keys[level][i] == key && _tags[level][i] == tag) { victim = i; break; }
            if (stamps[i] < stamps[victim]) victim = i;
        }
        _keys[level][victim] = key;
        _tags[level][victim] = tag;
        _tables[level][victim] = table;
        stamps[victim] = ++_clock;
    }

    /// <summary>An independent copy with the same entries and recency (explain walks it without changing this one).</summary>
    public PagingStructureCache Clone()
    {
        var copy = new PagingStructureCache(_levels, _entries) { _clock = _clock };
        for (var l = 2; l <= _levels; l++)
        {
            Array.Copy(_keys[l], copy._keys[l], _entries);
            Array.Copy(_tags[l], copy._tags[l], _entries);
            Array.Copy(_tables[l], copy._tables[l], _entries);
            Array.Copy(_stamps[l], copy._stamps[l], _entries);
        }
        return copy;
    }

    /// <summary>This cache after <see cref="FlushAll"/>.</summary>
    public PagingStructureCache Flushed()
    {
        FlushAll();
        return this;
    }

    public void FlushAll()
    {
        for (var l = 2; l <= _levels; l++) Array.Clear(_stamps[l]);
    }

    public void FlushTag(int tag)
    {
        for (var l = 2; l <= _levels; l++)
            for (var i = 0; i < _entries; i++)
                if (_tags[l][i] == tag) _stamps[l][i] = 0;
    }
}
