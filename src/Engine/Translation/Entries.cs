namespace MemScript.Engine.Translation;

/// <summary>
/// The 512 entries of an EPT or shadow table, held inside the object that owns them: following a
/// reference to a table lands on its entries, without an array object (and its header) in between.
/// </summary>
[System.Runtime.CompilerServices.InlineArray(512)]
internal struct TableEntries
{
    private ulong _first;
}

/// <summary>
/// A place for a 512-entry array read through <see cref="Pte.At"/> (a guest table, a chunk of host-page
/// records), kept in arrays of such places: a reference into an array of arrays makes the runtime
/// check the element type on every use (arrays are covariant), a reference into an array of structs does not.
/// </summary>
internal struct TableSlot
{
    public ulong[]? Entries;
}

/// <summary>x86-64 paging-structure entry bits (Intel SDM vol. 3A, 4.5), used by guest and shadow tables.</summary>
public static class Pte
{
    public const ulong Present = 1UL << 0;
    public const ulong Writable = 1UL << 1;
    public const ulong User = 1UL << 2;
    public const ulong PageSize = 1UL << 7;
    public const ulong ExecuteDisable = 1UL << 63;

    /// <summary>Bits 51:12, the physical address of the next table or the page.</summary>
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000;

    /// <summary>A reserved bit (51) KVM sets in shadow entries for MMIO, so the access faults with PFERR_RSVD.</summary>
    public const ulong MmioMarker = 1UL << 51;

    /// <summary>Upper-level entries are created permissive, as Linux does: the leaf carries the permissions.</summary>
    public const ulong Table = Present | Writable | User;

    public static int Index(ulong address, int level) => (int)((address >> (12 + 9 * (level - 1))) & 511);

    /// <summary>
    /// Entry <paramref name="index"/> (from <see cref="Index"/>, so below 512) of a 512-entry table, read
    /// without touching the array's header: a bounds check reads the length there, and the JIT's own
    /// null check loads from it, each a second cache miss whenever the table is cold and one that a
    /// prefetch of the entry does not cover. Comparing the reference with null first lets the JIT
    /// leave its load out.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static ref ulong At(ulong[] table, int index)
    {
        if (table is null) throw new ArgumentNullException(nameof(table));
        System.Diagnostics.Debug.Assert(table.Length == 512 && (uint)index < 512);
        return ref System.Runtime.CompilerServices.Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(table), index);
    }

    /// <summary>Bytes mapped by one entry of a level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB, ...).</summary>
    public static ulong Coverage(int level) => 1UL << (12 + 9 * (level - 1));

    /// <summary>The address a leaf maps <paramref name="va"/> to: the page's base plus the offset within a page of that level.</summary>
    public static ulong LeafAddress(ulong entry, int level, ulong va)
    {
        var coverage = Coverage(level);
        return (entry & AddressMask & ~(coverage - 1)) + (va & (coverage - 1));
    }

    public static bool IsLeaf(ulong entry, int level) => level == 1 || (entry & PageSize) != 0;

    public static string Flags(ulong entry)
    {
        var parts = new List<string>();
        if ((entry & Present) != 0) parts.Add("P");
        if ((entry & Writable) != 0) parts.Add("RW");
        if ((entry & User) != 0) parts.Add("US");
        if ((entry & PageSize) != 0) parts.Add("PS");
        if ((entry & ExecuteDisable) != 0) parts.Add("XD");
        return parts.Count == 0 ? "-" : string.Join(" ", parts);
    }
}

/// <summary>The permissions of a translation path: each entry can only take rights away (SDM 4.6).</summary>
public struct PathPermissions
{
    public bool Writable, User, Executable;

    public static PathPermissions All => new() { Writable = true, User = true, Executable = true };

    public void Apply(ulong entry)
    {
        Writable &= (entry & Pte.Writable) != 0;
        User &= (entry & Pte.User) != 0;
        Executable &= (entry & Pte.ExecuteDisable) == 0;
    }
}

/// <summary>EPT entry bits (Intel SDM vol. 3C, 29.3.2).</summary>
public static class EptEntry
{
    public const ulong Read = 1UL << 0;
    public const ulong Write = 1UL << 1;
    public const ulong Execute = 1UL << 2;
    public const ulong Rwx = Read | Write | Execute;

    /// <summary>Memory type write-back (6) in bits 5:3 of a leaf.</summary>
    public const ulong WriteBack = 6UL << 3;

    public const ulong PageSize = 1UL << 7;
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000;

    /// <summary>Write and execute without read: a misconfiguration, which KVM uses for MMIO entries (EPT_MISCONFIG).</summary>
    public const ulong MmioValue = Write | Execute;

    public static bool IsMisconfigured(ulong entry) => (entry & Rwx) is Write or (Write | Execute);

    /// <summary>
    /// The host-physical address a leaf maps <paramref name="gpa"/> to. The address field is where a
    /// paging-structure entry has it (bits 51:12), so this is <see cref="Pte.LeafAddress"/>.
    /// </summary>
    public static ulong LeafAddress(ulong entry, int level, ulong gpa) => Pte.LeafAddress(entry, level, gpa);

    public static string Flags(ulong entry)
    {
        if ((entry & Rwx) == 0) return "not present";
        var parts = new List<string>();
        if ((entry & Read) != 0) parts.Add("R");
        if ((entry & Write) != 0) parts.Add("W");
        if ((entry & Execute) != 0) parts.Add("X");
        if (IsMisconfigured(entry)) parts.Add("misconfigured (MMIO)");
        else if ((entry & PageSize) != 0 || (entry & (7UL << 3)) != 0) parts.Add("MT=" + ((entry >> 3) & 7));
        if ((entry & PageSize) != 0) parts.Add("PS");
        return string.Join(" ", parts);
    }
}
