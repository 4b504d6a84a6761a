using System.Runtime.CompilerServices;
using MemScript.Engine.Accounting;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;
using MemScript.Engine.Translation;
using MemScript.Language;
using MemScript.Language.Syntax;

namespace MemScript.Engine;

// One access (SEMANTICS.md section 2) and the TLB fill of each mode (sections 3 to 6).
public sealed partial class Machine
{
    private const int MaxRetries = 16;

    /// <summary>One guest memory access at a guest-virtual address.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Access(ulong gva, AccessKind kind, bool kernel = false)
    {
        if (!CountHit(gva, _currentTag, Required(kind, kernel))) AccessSlow(gva, kind, kernel);
    }

    /// <summary>
    /// Counts an access and, when the TLB holds its page with the <paramref name="required"/> permissions,
    /// the hit; false leaves the rest of the access to <see cref="AccessSlow"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool CountHit(ulong gva, int tag, TlbPerms required)
    {
        var counters = Counters;
        if (counters.Accesses >= _accessLimit) throw EngineException.AccessLimit(_accessLimit);
        counters.Accesses++;
        // A non-canonical address is a #GP before any TLB lookup (SEMANTICS.md section 2, step 2); the
        // TLB keys only the address bits a canonical address uses, so its alias must not reach them.
        var shift = _canonicalShift;
        if ((ulong)((long)(gva << shift) >> shift) != gva) return false;
        if (!_tlb.Lookup(gva, tag, out var perms) || (perms & required) != required) return false;
        counters.TlbHits++;
        return true;
    }

    /// <summary>The TLB permissions an access needs: write or execute by its kind, user unless it is a kernel access.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TlbPerms Required(AccessKind kind, bool kernel) =>
        (kind == AccessKind.Write ? TlbPerms.Write : 0) | (kind == AccessKind.Exec ? TlbPerms.Exec : 0) | (kernel ? 0 : TlbPerms.User);

    /// <summary>The address of the run's first access (the default address reports explain).</summary>
    public ulong? FirstAccess { get; private set; }

    /// <summary>
    /// The rest of an access the TLB did not hit. <paramref name="known"/> is the page's remembered walk
    /// when the caller found it already (see <see cref="Lookahead.Push"/>), in the memo generation still
    /// current; 0 makes the first attempt probe the memo itself.
    /// </summary>
    private void AccessSlow(ulong gva, AccessKind kind, bool kernel, ulong known = 0)
    {
        // The TLB starts empty, so the first access always comes through here.
        FirstAccess ??= gva;
        if (!IsCanonical(gva))
        {
            // Never cached, so the TLB lookup above missed; the #GP is not a TLB event.
            Counters.Segv++;
            if (Tracing) _trace!.Emit(new NonCanonicalEvent(Cycle, AccessNumber, new Gva(gva)));
            return;
        }
        RequireCurrent();
        _guestHalf.Known = false;
        for (var attempt = 0; ; attempt++)
        {
            Resume();
            if (attempt > 0)
            {
                if (attempt > MaxRetries) throw EngineException.Livelock(gva);
                // After an EPT violation on the final translation (the guest half is known) the TLB is
                // as the miss that began this access left it, or flushed by the exit: the lookup misses.
                if (!_guestHalf.Known && _tlb.Lookup(gva, _currentTag, out var perms) && Allows(perms, kind, kernel))
                {
                    Counters.TlbHits++;
                    return;
                }
            }
            Counters.TlbMisses++;
            // The retry after an EPT violation (the guest half is known) would find what the first
            // attempt found in the memo, nothing it may use: the violation only added EPT entries.
            // What the caller found stands for the first attempt's probe only: handling a fault can change the memo.
            if (_memo is not null && !_guestHalf.Known && ReplayWalk(gva, kind, kernel, attempt == 0 ? known : 0))
            {
                Resume();
                return;
            }
            var outcome = _mode switch
            {
                MmuMode.Native => FillNative(gva, kind, kernel),
                MmuMode.Software => FillSoftware(gva, kind, kernel),
                MmuMode.Shadow => FillShadow(gva, kind, kernel),
                _ => FillEpt(gva, kind, kernel),
            };
            if (outcome != FillOutcome.Retry)
            {
                Resume();
                return;
            }
        }
    }

    private void CountWalk(ulong gva, AccessKind kind, int refs)
    {
        Counters.WalkRefs += refs;
        Charge(CostKind.WalkRef, (ulong)refs);
        if (Tracing) _trace!.Emit(new TlbMissEvent(Cycle, AccessNumber, new Gva(gva), kind, refs));
    }

    private FillOutcome Mmio(ulong gva, ulong gpa, AccessKind kind)
    {
        Counters.Mmio++;
        if (_mode != MmuMode.Native) Charge(CostKind.MmioExit);
        if (Tracing) _trace!.Emit(new MmioEvent(Cycle, AccessNumber, new Gva(gva), new Gpa(gpa), kind));
        return FillOutcome.Mmio;
    }

    private void FillTlb(ulong gva, PageSize size, PageSize guestPage, bool writable, bool user, bool executable, ulong frame) =>
        _tlb.Fill(gva, _currentTag, (int)size, ToTlbPerms(writable, user, executable), frame, (int)guestPage);

    /// <summary>
    /// Ends a walk that reached a leaf the access may use: counts it, fills the TLB and remembers the
    /// outcome. <paramref name="finalWritable"/> and <paramref name="finalExecutable"/> are what the stage
    /// after the guest's (EPT, or the memslot natively) allows.
    /// </summary>
    private FillOutcome CompleteWalk(ulong gva, AccessKind kind, int refs, PageSize size, PageSize guestPage, PathPermissions perms,
        bool finalWritable, bool finalExecutable, ulong frame)
    {
        CountWalk(gva, kind, refs);
        var tlbPerms = ToTlbPerms(perms.Writable && finalWritable, perms.User, perms.Executable && finalExecutable);
        _tlb.Fill(gva, _currentTag, (int)size, tlbPerms, frame, (int)guestPage);
        if (_memo is not null && frame <= WalkOutcome.MaxFrame << 12 && WalkMemo.Covers(_current!.Index))
            _memo.Add(gva, _current.Index, WalkOutcome.Pack(frame, refs, (int)size, (int)guestPage, tlbPerms));
        return FillOutcome.Filled;
    }

    /// <summary>
    /// Replays a remembered walk of the page when there is one and it lets the access through; false
    /// sends the access down the full walk, which also handles every fault. A nonzero
    /// <paramref name="known"/> is that walk, found by the caller.
    /// </summary>
    private bool ReplayWalk(ulong gva, AccessKind kind, bool kernel, ulong known)
    {
        var found = known != 0 ? known : _memo!.Find(gva, _current!.Index);
        if (found == 0) return false;
        var walk = new WalkOutcome(found);
        if (!Allows(walk.Perms, kind, kernel)) return false;
        CountWalk(gva, kind, walk.Refs);
        _tlb.Fill(gva, _currentTag, walk.SizeCode, walk.Perms, walk.Frame, walk.GuestSizeCode);
        return true;
    }

    /// <summary>The result of a guest walk done in software by KVM or the software MMU.</summary>
    private struct GuestWalk
    {
        public bool Present;
        public ulong Gpa;
        public int LeafLevel;
        public bool Writable, User, Executable;
    }

    /// <summary>
    /// Walks the guest table in software: every table read is a hypervisor reference plus a slot lookup,
    /// and faults in its host page. Stops at the first non-present entry.
    /// </summary>
    private GuestWalk SoftwareWalk(ulong gva, Span<ulong> tables)
    {
        var walk = new GuestWalk();
        var perms = PathPermissions.All;
        var table = _current!.Root;
        for (var level = _levels; ; level--)
        {
            tables[level] = table;
            Charge(CostKind.SlotLookup);
            TouchHost(FindSlot(table)!, table);
            Counters.HvRefs++;
            Charge(CostKind.HvRef);
            var entry = ReadGuestEntry(table, Pte.Index(gva, level));
            if ((entry & Pte.Present) == 0) return walk;
            perms.Apply(entry);
            if (Pte.IsLeaf(entry, level))
            {
                walk.Present = true;
                walk.LeafLevel = level;
                walk.Gpa = Pte.LeafAddress(entry, level, gva);
                (walk.Writable, walk.User, walk.Executable) = (perms.Writable, perms.User, perms.Executable);
                return walk;
            }
            table = entry & Pte.AddressMask;
        }
    }

    /// <summary>Where a hardware walk of a guest-linear table starts: the root, or the deepest table the paging-structure caches hold.</summary>
    private (ulong Table, int Level) WalkStart(ulong root, ulong gva)
    {
        if (_pwc is not null && _pwc.Lookup(gva, _currentTag, out var cached) is var hit and > 0) return (cached, hit - 1);
        return (root, _levels);
    }

    // ------------------------------------------------------------ native (section 3)

    private FillOutcome FillNative(ulong gva, AccessKind kind, bool kernel)
    {
        var refs = 0;
        var (table, level) = WalkStart(_current!.Root, gva);
        var perms = PathPermissions.All;
        for (; ; level--)
        {
            refs++;
            var entry = ReadGuestEntry(table, Pte.Index(gva, level));
            if ((entry & Pte.Present) == 0)
            {
                CountWalk(gva, kind, refs);
                return GuestFault(gva, kind, kernel, notPresent: true);
            }
            perms.Apply(entry);
            if (Pte.IsLeaf(entry, level))
            {
                var gpa = Pte.LeafAddress(entry, level, gva);
                var slot = FindSlot(gpa);
                if (slot is not null && Allows(perms.Writable, perms.User, perms.Executable, kind, kernel) && !(slot.Readonly && kind == AccessKind.Write))
                    return CompleteWalk(gva, kind, refs, SizeOfLevel(level), SizeOfLevel(level), perms, !slot.Readonly, true, gpa & ~(Pte.Coverage(level) - 1));
                CountWalk(gva, kind, refs);
                if (!Allows(perms.Writable, perms.User, perms.Executable, kind, kernel)) return GuestFault(gva, kind, kernel, notPresent: false);
                return Mmio(gva, gpa, kind);
            }
            table = entry & Pte.AddressMask;
            _pwc?.Fill(gva, _currentTag, level, table);
        }
    }

    // ------------------------------------------------------------ software (section 6)

    private FillOutcome FillSoftware(ulong gva, AccessKind kind, bool kernel)
    {
        if (Tracing) _trace!.Emit(new TlbMissEvent(Cycle, AccessNumber, new Gva(gva), kind, 0));
        Exit(ExitReason.MmuTrap, Tracing ? new MmuTrapExit(Cycle, AccessNumber, new Gva(gva), kind) : null);
        Span<ulong> tables = stackalloc ulong[6];
        var walk = SoftwareWalk(gva, tables);
        if (!walk.Present) return GuestFault(gva, kind, kernel, notPresent: true);
        if (!Allows(walk.Writable, walk.User, walk.Executable, kind, kernel)) return GuestFault(gva, kind, kernel, notPresent: false);
        Charge(CostKind.SlotLookup);
        var slot = FindSlot(walk.Gpa);
        if (slot is null || (slot.Readonly && kind == AccessKind.Write)) return Mmio(gva, walk.Gpa, kind);
        var hpa = TouchHost(slot, walk.Gpa);
        var size = Min(SizeOfLevel(walk.LeafLevel), HostMapSize(slot, walk.Gpa));
        FillTlb(gva, size, SizeOfLevel(walk.LeafLevel), walk.Writable && !slot.Readonly, walk.User, walk.Executable, hpa & ~(size.Bytes() - 1));
        return FillOutcome.Filled;
    }

    // ------------------------------------------------------------ ept (section 4)

    /// <summary>
    /// The guest half of a walk that ended in an EPT violation on its final translation, kept for the
    /// retried walk of the same access: the violation only adds EPT entries for that page, which the
    /// guest half never reads, so the retry reads exactly the same guest entries and table
    /// translations. Only with the walk memo on (and so without paging-structure caches).
    /// </summary>
    private struct GuestHalf
    {
        public bool Known;
        public int Refs, Level;
        public ulong Leaf;
        public PathPermissions Perms;
        // The EPT leaf the violation installed (EptViolation records it), and its level: what the
        // retried walk reaches from the EPT root (no paging-structure caches with the memo on).
        public ulong EptLeaf;
        public int EptLevel;
    }

    private GuestHalf _guestHalf;

    private FillOutcome FillEpt(ulong gva, AccessKind kind, bool kernel)
    {
        var refs = 0;
        int level;
        var perms = PathPermissions.All;
        ulong gpa;
        if (_guestHalf.Known)
        {
            // The retry of this access after its EPT violation (see GuestHalf).
            _guestHalf.Known = false;
            (refs, level, perms) = (_guestHalf.Refs, _guestHalf.Level, _guestHalf.Perms);
            gpa = Pte.LeafAddress(_guestHalf.Leaf, level, gva);
            return FinishEpt(gva, kind, kernel, refs, level, perms, gpa, _guestHalf.EptLeaf, _guestHalf.EptLevel);
        }
        var process = _current!;
        (var table, level) = WalkStart(process.Root, gva);
        var upper = _upperPaths;
        if (upper is not null && upper.TryGet(gva, process.Index, _memo!.Generation, out var known, out var knownRefs, out var knownPerms))
            (table, level, refs, perms) = (known, 2, knownRefs, knownPerms);
        for (; ; level--)
        {
            // The table's guest-physical address goes through EPT before the entry can be read.
            if (!TranslateTable(table, ref refs))
            {
                CountWalk(gva, kind, refs);
                return EptViolation(gva, table, AccessKind.Read, finalTranslation: false, 0);
            }
            refs++;
            var entry = ReadGuestEntry(table, Pte.Index(gva, level));
            if ((entry & Pte.Present) == 0)
            {
                CountWalk(gva, kind, refs);
                return GuestFault(gva, kind, kernel, notPresent: true);
            }
            perms.Apply(entry);
            if (Pte.IsLeaf(entry, level)) break;
            table = entry & Pte.AddressMask;
            _pwc?.Fill(gva, _currentTag, level, table);
            if (level == 3) upper?.Set(gva, process.Index, _memo!.Generation, table, refs, perms);
        }
        if (!Allows(perms.Writable, perms.User, perms.Executable, kind, kernel))
        {
            CountWalk(gva, kind, refs);
            return GuestFault(gva, kind, kernel, notPresent: false);
        }
        var leaf = ReadGuestEntry(table, Pte.Index(gva, level));
        gpa = Pte.LeafAddress(leaf, level, gva);
        if (_memo is not null) _guestHalf = new GuestHalf { Refs = refs, Level = level, Leaf = leaf, Perms = perms };
        return FinishEpt(gva, kind, kernel, refs, level, perms, gpa);
    }

    /// <summary>
    /// The final translation of a two-dimensional walk, after its guest half. A nonzero
    /// <paramref name="knownLeaf"/> is the EPT leaf at <paramref name="knownLevel"/> that the walk is
    /// known to reach from the root (the one just installed for this address), read once per level.
    /// </summary>
    private FillOutcome FinishEpt(ulong gva, AccessKind kind, bool kernel, int refs, int level, PathPermissions perms, ulong gpa,
        ulong knownLeaf = 0, int knownLevel = 0)
    {
        EptResult final;
        ulong hpa, eptEntry;
        int eptLevel;
        if (knownLeaf != 0)
        {
            refs += _ept!.Levels - knownLevel + 1;
            (final, eptLevel, eptEntry, hpa) = (EptResult.Mapped, knownLevel, knownLeaf, EptEntry.LeafAddress(knownLeaf, knownLevel, gpa));
        }
        else
        {
            final = EptTranslate(gpa, ref refs, out hpa, out eptLevel, out eptEntry);
        }
        var eptWritable = (eptEntry & EptEntry.Write) != 0;
        var eptExecutable = (eptEntry & EptEntry.Execute) != 0;
        if (final != EptResult.Mapped || (kind == AccessKind.Write && !eptWritable) || (kind == AccessKind.Exec && !eptExecutable))
        {
            CountWalk(gva, kind, refs);
            if (final == EptResult.NotPresent)
            {
                var outcome = EptViolation(gva, gpa, kind, finalTranslation: true, 0);
                _guestHalf.Known = _memo is not null && outcome == FillOutcome.Retry;
                return outcome;
            }
            if (final == EptResult.Misconfig)
            {
                Exit(ExitReason.EptMisconfig, Tracing ? new EptMisconfigExit(Cycle, AccessNumber, new Gpa(gpa)) : null);
                return Mmio(gva, gpa, kind);
            }
            return EptViolation(gva, gpa, kind, finalTranslation: true, eptEntry & EptEntry.Rwx);
        }
        _guestHalf.Known = false;
        var size = Min(SizeOfLevel(level), SizeOfLevel(eptLevel));
        return CompleteWalk(gva, kind, refs, size, SizeOfLevel(level), perms, eptWritable, eptExecutable, hpa & ~(size.Bytes() - 1));
    }

    /// <summary>
    /// The EPT walk of a guest page-table page: true when it is mapped, with its references added.
    /// Walks that succeeded are remembered by page: EPT only gains entries here (KVM never changes a
    /// present one in this model, and <see cref="EptTables.Install"/> enforces it), so a table page that
    /// translated once translates the same way, with the same references, for the rest of the run.
    /// </summary>
    private bool TranslateTable(ulong gpa, ref int refs)
    {
        if (_tableTranslations is not { } known)
            return EptTranslate(gpa, ref refs, out _, out _, out _) == EptResult.Mapped;
        var key = (gpa >> 12) + 1;
        ref var slot = ref known[(int)(key & (ulong)(known.Length - 1))];
        if (slot >> 8 == key)
        {
            refs += (int)(slot & 0xff);
            return true;
        }
        var before = refs;
        if (EptTranslate(gpa, ref refs, out _, out _, out _) != EptResult.Mapped) return false;
        slot = key << 8 | (uint)(refs - before);
        return true;
    }

    private EptResult EptTranslate(ulong gpa, ref int refs, out ulong hpa, out int leafLevel, out ulong leafEntry)
    {
        var ept = _ept!;
        var table = ept.Root;
        var level = ept.Levels;
        if (_eptPwc is not null && _eptPwc.Lookup(gpa, 0, out var cached) is var hit and > 0)
        {
            table = cached;
            level = hit - 1;
        }
        return ept.Walk(gpa, table, level, ref refs, out hpa, out leafLevel, out leafEntry, _eptPwc);
    }

    /// <summary>
    /// EPT_VIOLATION: KVM looks up the slot; in a slot it faults the host page in and maps it at the
    /// largest allowed size, then the access is retried. Outside every slot it installs a 4 KiB MMIO
    /// entry; a write to a readonly slot is emulated as MMIO without a mapping (KVM's RET_PF_EMULATE).
    /// </summary>
    private FillOutcome EptViolation(ulong gva, ulong gpa, AccessKind kind, bool finalTranslation, ulong allowed)
    {
        if (Tracing)
        {
            var qualification = (kind == AccessKind.Read ? 1UL : 0) | (kind == AccessKind.Write ? 2UL : 0) | (kind == AccessKind.Exec ? 4UL : 0)
                                | (allowed << 3) | (1UL << 7) | (finalTranslation ? 1UL << 8 : 0);
            Exit(ExitReason.EptViolation, new EptViolationExit(Cycle, AccessNumber, new Gpa(gpa), qualification, new Gva(gva)));
        }
        else
        {
            Exit(ExitReason.EptViolation, null);
        }
        Charge(CostKind.SlotLookup);
        var ept = _ept!;
        var slot = FindSlot(gpa);
        if (slot is null)
        {
            var page = gpa & ~0xfffUL;
            AddEptTables(ept.Install(page, 1, EptEntry.MmioValue));
            if (Tracing) _trace!.Emit(new EptMapEvent(Cycle, AccessNumber, new Gpa(page), new Hpa(0), PageSize.Size4K, false, true));
            return Mmio(gva, gpa, kind);
        }
        if (slot.Readonly && kind == AccessKind.Write && finalTranslation) return Mmio(gva, gpa, kind);
        var hpa = TouchHost(slot, gpa);
        var size = HostMapSize(slot, gpa);
        var bytes = size.Bytes();
        var leafLevel = LevelOf(size);
        var entry = (hpa & ~(bytes - 1)) | EptEntry.Read | EptEntry.Execute | (slot.Readonly ? 0 : EptEntry.Write)
                    | EptEntry.WriteBack | (leafLevel > 1 ? EptEntry.PageSize : 0);
        AddEptTables(ept.Install(gpa & ~(bytes - 1), leafLevel, entry));
        (_guestHalf.EptLeaf, _guestHalf.EptLevel) = (entry, leafLevel);
        Charge(CostKind.EptFill);
        if (Tracing) _trace!.Emit(new EptMapEvent(Cycle, AccessNumber, new Gpa(gpa & ~(bytes - 1)), new Hpa(hpa & ~(bytes - 1)), size, !slot.Readonly, false));
        return FillOutcome.Retry;
    }

    private void AddEptTables(int created)
    {
        for (var i = 0; i < created; i++)
        {
            CountTablePage();
            Counters.PagesEpt++;
        }
    }
}
