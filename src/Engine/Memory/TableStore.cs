namespace MemScript.Engine.Memory;

/// <summary>
/// Page-table pages by the address of their frame: a dictionary for the sparse guest-physical space,
/// with a direct-mapped cache in front so a walk's repeated lookups of the same tables stay cheap.
/// </summary>
public sealed class TableStore
{
    private const int CacheSize = 4096;
    private readonly Dictionary<ulong, ulong[]> _tables = new();
    private readonly ulong[] _cacheKeys = new ulong[CacheSize];
    private readonly ulong[]?[] _cacheTables = new ulong[CacheSize][];

    public int Count => _tables.Count;

    public IEnumerable<KeyValuePair<ulong, ulong[]>> All => _tables;

    public void Add(ulong frame, ulong[] table) => _tables.Add(frame, table);

    public bool Contains(ulong frame) => _tables.ContainsKey(frame);

    public ulong[] this[ulong frame]
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get
        {
            var slot = (int)((frame >> 12) & (CacheSize - 1));
            var cached = _cacheTables[slot];
            if (cached is not null && _cacheKeys[slot] == frame) return cached;
            var table = _tables[frame];
            _cacheKeys[slot] = frame;
            _cacheTables[slot] = table;
            return table;
        }
    }
}

/// <summary>
/// Tables that live in host frames handed out in order by <see cref="HostMemory"/>: indexed directly by
/// host frame number, so a hardware walk of EPT or shadow tables costs an array read per level.
/// </summary>
public sealed class HostFrameTables
{
    private ulong[]?[] _byFrame = new ulong[1024][];

    public int Count { get; private set; }

    private static long Index(ulong hpa) => (long)((hpa - HostMemory.FirstFrame) >> 12);

    public void Add(ulong hpa, ulong[] table)
    {
        var index = Index(hpa);
        if (index >= _byFrame.Length) Array.Resize(ref _byFrame, (int)Math.Max(index + 1, _byFrame.Length * 2L));
        _byFrame[index] = table;
        Count++;
    }

    public ulong[] this[ulong hpa]
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get => _byFrame[Index(hpa)]!;
    }
}
