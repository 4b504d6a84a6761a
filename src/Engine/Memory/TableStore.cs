namespace MemScript.Engine.Memory;

/// <summary>
/// Guest page-table pages by the address of their frame. The guest kernel takes the lowest free frames
/// for its tables, so they are indexed directly by frame number in a growing array; a table at a very
/// high guest-physical address falls back to a dictionary.
/// </summary>
public sealed class TableStore
{
    private const long DirectLimit = 1L << 26; // frames below 256 GiB
    private ulong[]?[] _direct = new ulong[1024][];
    private readonly Dictionary<ulong, ulong[]> _sparse = new();
    private readonly List<ulong> _frames = new();

    public int Count => _frames.Count;

    public IEnumerable<KeyValuePair<ulong, ulong[]>> All => _frames.Select(f => new KeyValuePair<ulong, ulong[]>(f, this[f]));

    public void Add(ulong frame, ulong[] table)
    {
        var index = (long)(frame >> 12);
        if (index < DirectLimit)
        {
            if (index >= _direct.Length) Array.Resize(ref _direct, (int)Math.Min(DirectLimit, Math.Max(index + 1, _direct.Length * 2L)));
            if (_direct[index] is not null) throw new InvalidOperationException($"table {frame:x} added twice");
            _direct[index] = table;
        }
        else
        {
            _sparse.Add(frame, table);
        }
        _frames.Add(frame);
    }

    /// <summary>One entry of the table at <paramref name="frame"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public ref ulong Entry(ulong frame, int index) => ref Translation.Pte.At(this[frame], index);

    public ulong[] this[ulong frame]
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get
        {
            var index = frame >> 12;
            return index < (ulong)_direct.Length && _direct[index] is { } table ? table : _sparse[frame];
        }
    }
}
