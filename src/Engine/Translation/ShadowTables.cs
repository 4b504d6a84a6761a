namespace MemScript.Engine.Translation;

/// <summary>
/// Identifies a shadow table as KVM's role and gfn do: the guest table it shadows and its level, or, for a
/// "direct" table that splits a guest huge page, the guest-physical base it maps and the permissions.
/// </summary>
public readonly record struct ShadowKey(ulong Gpa, int Level, bool Direct, int Access);

/// <summary>One shadow table: 512 entries in a host frame, mirroring a guest table (or splitting a huge page).</summary>
public sealed class ShadowPage(ShadowKey key, ulong hpa, ulong gvaBase, int tag)
{
    public ShadowKey Key { get; } = key;
    public ulong Hpa { get; } = hpa;

    /// <summary>The guest-virtual address its entry 0 maps, for flushing what a cleared entry covered.</summary>
    public ulong GvaBase { get; } = gvaBase;

    /// <summary>The TLB tag of the process it was built for.</summary>
    public int Tag { get; } = tag;

    internal TableEntries Entries;

    /// <summary>For a direct table, the level of the guest huge page it splits (its TLB entries are pieces of it).</summary>
    public int GuestPageLevel { get; init; }

    /// <summary>The entries that point to this table, cleared when it is zapped.</summary>
    public List<(ShadowPage Parent, int Index)> Parents { get; } = new();

    // The child table each entry last led to (above the last level), so that a walk follows a reference
    // instead of looking the child up by address; see ShadowTables.Child.
    internal ShadowPage?[]? Children { get; } = key.Level > 1 ? new ShadowPage?[512] : null;

    /// <summary>Whether KVM has zapped it (a process's remembered root must then be looked up again).</summary>
    public bool Removed { get; internal set; }

    /// <summary>Whether KVM let it go unsync (a leaf table whose guest page it no longer write-protects, 13.2).</summary>
    public bool Unsync { get; internal set; }

    /// <summary>Emulated guest writes to its page since the last shadow fault through it (write flooding, 13.2).</summary>
    internal int Flood;

    /// <summary>
    /// The guest entry each shadow entry was built from (kept for leaf tables that shadow a guest table,
    /// when unsync or the dirty log needs it): a sync compares it with the guest entry now.
    /// </summary>
    internal ulong[]? Built;

    internal LinkedListNode<ShadowPage>? Node { get; set; }
}

/// <summary>
/// The shadow page tables of KVM's shadow MMU: tables by key and by host address, in creation order for
/// zapping, and the count of shadow tables per guest page (a guest page with one is write-protected).
/// </summary>
public sealed class ShadowTables
{
    private readonly Dictionary<ShadowKey, ShadowPage> _byKey = new();
    private readonly Dictionary<ulong, ShadowPage> _byHpa = new();
    // The tables that shadow each guest page (not the direct ones): the page is write-protected while one of them is in sync.
    private readonly Dictionary<ulong, List<ShadowPage>> _byGuestPage = new();
    private readonly bool _keepBuilt;
    private readonly LinkedList<ShadowPage> _order = new();
    private readonly Action _presentEntryChanged;

    /// <param name="limit">The most shadow tables KVM keeps (section 5).</param>
    /// <param name="presentEntryChanged">Called whenever a present entry is cleared or replaced, or a table removed: what a walk read may have changed.</param>
    /// <param name="keepBuilt">Keep the guest entries leaf tables were built from (<see cref="ShadowPage.Built"/>).</param>
    public ShadowTables(int limit, Action presentEntryChanged, bool keepBuilt = false)
    {
        Limit = limit;
        _presentEntryChanged = presentEntryChanged;
        _keepBuilt = keepBuilt;
    }

    public int Limit { get; }
    public int Count => _byKey.Count;

    public ShadowPage? Find(ShadowKey key) => _byKey.GetValueOrDefault(key);

    public ShadowPage ByHpa(ulong hpa) => _byHpa[hpa];

    /// <summary>The table that <paramref name="entry"/>, a table pointer at <paramref name="index"/> of <paramref name="page"/>, points to.</summary>
    /// <remarks>
    /// Remembered per entry and checked against the entry's address on every use, so that nothing else
    /// has to keep it up to date: host frames are never reused, and zapping a table clears every entry
    /// pointing to it, so a remembered child with the entry's address is the table it names.
    /// </remarks>
    public ShadowPage Child(ShadowPage page, int index, ulong entry)
    {
        var hpa = entry & Pte.AddressMask;
        var children = page.Children!;
        if (children[index] is { } known && known.Hpa == hpa) return known;
        return children[index] = _byHpa[hpa];
    }

    /// <summary>Whether writes to the guest page trap: it has a shadow table that is in sync.</summary>
    public bool IsWriteProtected(ulong guestTableGpa)
    {
        if (!_byGuestPage.TryGetValue(guestTableGpa, out var tables)) return false;
        foreach (var t in tables)
            if (!t.Unsync) return true;
        return false;
    }

    /// <summary>The shadow tables of a guest page (not the direct ones), oldest first.</summary>
    public IReadOnlyList<ShadowPage> TablesOf(ulong guestPage) => _byGuestPage.TryGetValue(guestPage, out var tables) ? tables : [];

    public ShadowPage Add(ShadowKey key, ulong hpa, ulong gvaBase, int tag, int guestPageLevel = 0)
    {
        var page = new ShadowPage(key, hpa, gvaBase, tag) { GuestPageLevel = guestPageLevel };
        _byKey.Add(key, page);
        _byHpa.Add(hpa, page);
        page.Node = _order.AddLast(page);
        if (!key.Direct)
        {
            if (!_byGuestPage.TryGetValue(key.Gpa, out var tables)) _byGuestPage.Add(key.Gpa, tables = new List<ShadowPage>(1));
            tables.Add(page);
            if (_keepBuilt && key.Level == 1) page.Built = new ulong[512];
        }
        return page;
    }

    /// <summary>The oldest shadow table not in <paramref name="pinned"/>, or null.</summary>
    public ShadowPage? Oldest(IReadOnlyCollection<ShadowPage> pinned)
    {
        for (var node = _order.First; node is not null; node = node.Next)
            if (!pinned.Contains(node.Value)) return node.Value;
        return null;
    }

    /// <summary>Removes a table, clearing the entries that point to it and unlinking it from its children.</summary>
    public void Remove(ShadowPage page)
    {
        _presentEntryChanged();
        _byKey.Remove(page.Key);
        _byHpa.Remove(page.Hpa);
        page.Removed = true;
        _order.Remove(page.Node!);
        if (!page.Key.Direct)
        {
            var tables = _byGuestPage[page.Key.Gpa];
            tables.Remove(page);
            if (tables.Count == 0) _byGuestPage.Remove(page.Key.Gpa);
        }
        foreach (var (parent, index) in page.Parents)
            if ((parent.Entries[index] & Pte.AddressMask) == page.Hpa && (parent.Entries[index] & Pte.PageSize) == 0)
                parent.Entries[index] = 0;
        page.Parents.Clear();
        if (page.Key.Level > 1)
        {
            for (var i = 0; i < 512; i++)
                if (IsTablePointer(page.Entries[i], page.Key.Level) && _byHpa.TryGetValue(page.Entries[i] & Pte.AddressMask, out var child))
                    child.Parents.RemoveAll(p => p.Parent == page);
        }
    }

    /// <summary>Clears one entry; when it pointed to a child table, unlinks the child. Returns the old entry.</summary>
    public ulong ClearEntry(ShadowPage page, int index)
    {
        var old = page.Entries[index];
        if (IsTablePointer(old, page.Key.Level) && _byHpa.TryGetValue(old & Pte.AddressMask, out var child))
            child.Parents.RemoveAll(p => p.Parent == page && p.Index == index);
        page.Entries[index] = 0;
        if ((old & Pte.Present) != 0) _presentEntryChanged();
        return old;
    }

    /// <summary>Writes a leaf (or MMIO) entry; a table pointer it replaces is unlinked first.</summary>
    public void SetLeaf(ShadowPage page, int index, ulong entry)
    {
        if (IsTablePointer(page.Entries[index], page.Key.Level)) ClearEntry(page, index);
        else if ((page.Entries[index] & Pte.Present) != 0) _presentEntryChanged();
        page.Entries[index] = entry;
    }

    /// <summary>Points a non-present entry of <paramref name="page"/> at <paramref name="child"/>.</summary>
    public static void Link(ShadowPage page, int index, ShadowPage child)
    {
        page.Entries[index] = child.Hpa | Pte.Table;
        child.Parents.Add((page, index));
    }

    /// <summary>An entry of a table, read without loading the table's header (see EptTables.EntryOf).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static ref ulong EntryOf(ShadowPage page, int index)
    {
        if (page is null) throw new ArgumentNullException(nameof(page));
        return ref page.Entries[index];
    }

    public static bool IsTablePointer(ulong entry, int level) =>
        level > 1 && (entry & Pte.Present) != 0 && (entry & Pte.PageSize) == 0 && (entry & Pte.MmioMarker) == 0;
}
