using MemScript.Language.Checking;

namespace MemScript.Engine.Memory;

/// <summary>
/// The dirty log of the <c>dirty-log</c> slots (SEMANTICS.md 13.4): which 4 KiB pages were written since
/// the VMM last collected it, how writes are logged, and the 512-entry page-modification log of PML.
/// Pages start clean. Kept in chunks of 4,096 pages, so a large slot costs memory only where it is written.
/// </summary>
internal sealed class DirtyLog
{
    /// <summary>Entries of the page-modification log (Intel SDM 29.3.6: 512 of 8 bytes, one 4 KiB page).</summary>
    public const int PmlCapacity = 512;

    private const int ChunkShift = 12 + 12; // 4,096 pages of 4 KiB
    private readonly Dictionary<ulong, ulong[]> _chunks = new();
    private long _dirty;

    public DirtyLog(DirtyTrack method, bool anySlot)
    {
        Method = method;
        Active = anySlot;
    }

    /// <summary>How writes are logged in this machine (free natively, or as SEMANTICS.md 13.4 chooses per mode).</summary>
    public DirtyTrack Method { get; }

    /// <summary>Whether any slot is a dirty-log slot (otherwise nothing here is ever consulted).</summary>
    public bool Active { get; }

    /// <summary>PML entries written since the last VM exit (KVM drains the log at every exit).</summary>
    public int PmlEntries { get; set; }

    /// <summary>How the machine logs writes: free in native or with <c>dirty-track free</c>; else wp, except in ept with pml and EPT A/D flags.</summary>
    public static DirtyTrack MethodFor(MmuMode mode, DirtyTrack declared, bool eptAd) => (mode, declared) switch
    {
        (MmuMode.Native, _) or (_, DirtyTrack.Free) => DirtyTrack.Free,
        (MmuMode.Ept, DirtyTrack.Pml) when eptAd => DirtyTrack.Pml,
        _ => DirtyTrack.Wp,
    };

    /// <summary>Whether a write to <paramref name="gpa"/> of <paramref name="slot"/> is a first write to a clean page that must be logged.</summary>
    public bool IsClean(SlotInfo slot, ulong gpa) => slot.DirtyLog && !IsDirty(gpa);

    public bool IsDirty(ulong gpa) =>
        _chunks.TryGetValue(gpa >> ChunkShift, out var bits) && (bits[(gpa >> 18) & 63] & (1UL << (int)((gpa >> 12) & 63))) != 0;

    /// <summary>Marks the page of <paramref name="gpa"/> dirty; true when it was clean.</summary>
    public bool MarkDirty(ulong gpa)
    {
        if (!_chunks.TryGetValue(gpa >> ChunkShift, out var bits)) _chunks.Add(gpa >> ChunkShift, bits = new ulong[64]);
        ref var word = ref bits[(gpa >> 18) & 63];
        var bit = 1UL << (int)((gpa >> 12) & 63);
        if ((word & bit) != 0) return false;
        word |= bit;
        _dirty++;
        return true;
    }

    /// <summary>Reads and clears the log: every dirty page, in guest-physical order; each is clean again.</summary>
    public List<ulong> Collect()
    {
        var pages = new List<ulong>((int)Math.Min(_dirty, 1 << 20));
        foreach (var (chunk, bits) in _chunks.OrderBy(c => c.Key))
            for (var w = 0; w < bits.Length; w++)
                for (var word = bits[w]; word != 0; word &= word - 1)
                    pages.Add((chunk << ChunkShift) | ((ulong)w << 18) | ((ulong)System.Numerics.BitOperations.TrailingZeroCount(word) << 12));
        _chunks.Clear();
        _dirty = 0;
        PmlEntries = 0;
        return pages;
    }
}
