using MemScript.Engine.Accounting;
using MemScript.Engine.Guest;
using MemScript.Engine.Inspection;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;
using MemScript.Engine.Translation;

namespace MemScript.Engine.Modes;

/// <summary>
/// EPT (SEMANTICS.md section 4): the hardware walks the guest's tables and EPT in two dimensions, each
/// guest table's address translated through EPT before its entry is read, then the final address. A
/// missing EPT entry exits (EPT_VIOLATION) and KVM maps the page; the guest's own page faults, CR3
/// loads, INVLPG and page-table writes never exit.
/// </summary>
internal sealed class EptMode : TranslationMode
{
    private readonly EptTables _ept;
    // The EPT-dimension paging-structure caches, tagged by the EPTP: no guest event flushes them.
    private readonly PagingStructureCache? _eptPwc;

    public EptMode(Machine machine) : base(machine)
    {
        _ept = new EptTables(machine.Options.HostLevels, () => machine.Host.AllocateFrames(4096), machine.Fast.TablesChanged);
        machine.Counters.PagesEpt = 1;
        if (machine.Options.Pwc) _eptPwc = new PagingStructureCache(machine.Options.HostLevels, machine.Options.PwcEntries);
    }

    public override MmuMode Kind => MmuMode.Ept;

    /// <summary>The EPT tables (read by the acceleration layer's prefetcher).</summary>
    internal EptTables Tables => _ept;

    // ------------------------------------------------------------ the two-dimensional walk

    /// <summary>
    /// The guest half of the two-dimensional walk: before each guest entry is read, its table's
    /// guest-physical address goes through EPT. A dry walk (explain) uses the caches it is given and
    /// neither changes nor learns anything.
    /// </summary>
    private readonly struct TwoDimensionalPolicy(EptMode mode, PagingStructureCache? guestPwc, PagingStructureCache? eptPwc, int tag, int process, bool dry)
        : IWalkPolicy
    {
        public bool Reach(ulong table, int level, ref GuestWalk walk)
        {
            if (!mode.TranslateTable(table, ref walk.Refs, eptPwc, dry, walk.Recorder)) return false;
            walk.Refs++;
            return true;
        }

        public void Descend(ulong gva, int level, ulong next, ref GuestWalk walk)
        {
            guestPwc?.Fill(gva, tag, level, next);
            if (!dry && level == 3) mode.M.Fast.RememberUpperPath(gva, process, next, walk.Refs, walk.Perms);
        }
    }

    public override FillOutcome Fill(ulong gva, AccessKind kind, bool kernel)
    {
        var fast = M.Fast;
        // The retry after an EPT violation on the final translation reads what the first attempt read.
        if (fast.TakeRetry(out var half))
            return FinishWalk(gva, kind, kernel, half.Refs, half.Level, half.Perms, Pte.LeafAddress(half.Leaf, half.Level, gva), half.EptLeaf, half.EptLevel);
        var process = M.Kernel.Current!;
        var walk = HardwareWalkStart(process.Root, gva, M.Pwc, M.CurrentTag);
        if (fast.TryUpperPath(gva, process.Index, out var table, out var refs, out var perms))
            (walk.Table, walk.Level, walk.Refs, walk.Perms) = (table, 2, refs, perms);
        var policy = new TwoDimensionalPolicy(this, M.Pwc, _eptPwc, M.CurrentTag, process.Index, dry: false);
        GuestWalker.Walk(M.Kernel.Tables, gva, ref walk, ref policy);
        if (walk.End == WalkEnd.Blocked)
        {
            M.CountWalk(gva, kind, walk.Refs);
            // With EPT A/D flags the processor's accesses to guest paging structures are writes for EPT (13.3).
            return Violation(gva, walk.Table, M.Options.EptAd ? AccessKind.Write : AccessKind.Read, finalTranslation: false, 0);
        }
        if (walk.End == WalkEnd.NotPresent || !Machine.Allows(walk.Perms, kind, kernel))
        {
            M.CountWalk(gva, kind, walk.Refs);
            return M.Kernel.GuestFault(gva, kind, kernel, notPresent: walk.End == WalkEnd.NotPresent);
        }
        fast.RememberGuestHalf(walk.Refs, walk.Level, walk.Entry, walk.Perms);
        return FinishWalk(gva, kind, kernel, walk.Refs, walk.Level, walk.Perms, walk.LeafAddress(gva));
    }

    /// <summary>
    /// The final translation of a two-dimensional walk, after its guest half. A nonzero
    /// <paramref name="knownLeaf"/> is the EPT leaf at <paramref name="knownLevel"/> that the walk is
    /// known to reach from the root (the one just installed for this address): one reference per level.
    /// </summary>
    private FillOutcome FinishWalk(ulong gva, AccessKind kind, bool kernel, int refs, int level, PathPermissions perms, ulong gpa,
        ulong knownLeaf = 0, int knownLevel = 0)
    {
        EptResult final;
        EptTables.EptLeaf ept;
        if (knownLeaf != 0)
        {
            refs += _ept.Levels - knownLevel + 1;
            final = EptResult.Mapped;
            ept = new EptTables.EptLeaf { Level = knownLevel, Entry = knownLeaf, Hpa = EptEntry.LeafAddress(knownLeaf, knownLevel, gpa) };
        }
        else
        {
            final = Translate(gpa, ref refs, _eptPwc, dry: false, null, out ept);
        }
        var eptWritable = (ept.Entry & EptEntry.Write) != 0;
        var eptExecutable = (ept.Entry & EptEntry.Execute) != 0;
        if (final != EptResult.Mapped || (kind == AccessKind.Write && !eptWritable) || (kind == AccessKind.Exec && !eptExecutable))
        {
            M.CountWalk(gva, kind, refs);
            if (final == EptResult.NotPresent)
            {
                var outcome = Violation(gva, gpa, kind, finalTranslation: true, 0);
                M.Fast.RetryFollows(outcome == FillOutcome.Retry);
                return outcome;
            }
            if (final == EptResult.Misconfig)
            {
                M.Exit(ExitReason.EptMisconfig, M.Tracing ? new EptMisconfigExit(M.Cycle, M.AccessNumber, new Gpa(gpa)) : null);
                return M.Mmio(gva, gpa, kind);
            }
            return Violation(gva, gpa, kind, finalTranslation: true, ept.Entry & EptEntry.Rwx);
        }
        M.Fast.RetryFollows(false);
        if (M.Dirty.Active && M.Dirty.Method == DirtyTrack.Pml && M.FindSlot(gpa) is { DirtyLog: true } slot && M.Dirty.IsClean(slot, gpa))
        {
            // A TLB entry filled while its page is clean does not permit writes; a write adds the page to
            // the page-modification log, or finds it full and exits first (PML_FULL), then restarts.
            if (kind != AccessKind.Write)
            {
                eptWritable = false;
            }
            else if (M.Dirty.PmlEntries == DirtyLog.PmlCapacity)
            {
                M.CountWalk(gva, kind, refs);
                M.Exit(ExitReason.PmlFull, M.Tracing ? new PmlFullExit(M.Cycle, M.AccessNumber, new Gpa(gpa & ~0xfffUL)) : null);
                return FillOutcome.Retry;
            }
            else
            {
                M.Dirty.PmlEntries++;
                M.LogWrite(gpa);
            }
        }
        var size = PagingLevels.Min(PagingLevels.SizeOf(level), PagingLevels.SizeOf(ept.Level));
        return M.CompleteWalk(gva, kind, refs, size, PagingLevels.SizeOf(level), perms, eptWritable, eptExecutable, gpa);
    }

    /// <summary>
    /// The EPT walk of a guest page-table page: true when it is mapped, with its references added. A page
    /// that translated once translates the same way for the rest of the run (EPT only gains entries), so
    /// the acceleration layer may hand back its references.
    /// </summary>
    private bool TranslateTable(ulong gpa, ref int refs, PagingStructureCache? pwc, bool dry, WalkRecorder? recorder)
    {
        if (!dry && M.Fast.TryTableTranslation(gpa, out var known))
        {
            refs += known;
            return true;
        }
        var before = refs;
        if (Translate(gpa, ref refs, pwc, dry, recorder, out _) != EptResult.Mapped) return false;
        if (!dry) M.Fast.RememberTableTranslation(gpa, refs - before);
        return true;
    }

    /// <summary>One translation of a guest-physical address through EPT, from the deepest table the caches (or the acceleration layer) know.</summary>
    private EptResult Translate(ulong gpa, ref int refs, PagingStructureCache? pwc, bool dry, WalkRecorder? recorder, out EptTables.EptLeaf leaf)
    {
        var table = _ept.RootTable;
        var level = _ept.Levels;
        if (!dry && M.Fast.EptLastLevel(gpa) is { } last)
        {
            // The entries above it were read as present, non-leaf: one reference each.
            refs += level - 1;
            (table, level) = (last, 1);
        }
        else if (pwc is not null && pwc.Lookup(gpa, 0, out var cached) is var hit and > 0)
        {
            (table, level) = (_ept.TableAt(cached), hit - 1);
        }
        recorder?.BeginEpt(gpa);
        var fromRoot = level == _ept.Levels;
        var result = _ept.Walk(gpa, table, level, ref refs, pwc, recorder, out leaf);
        recorder?.EndEpt(result, leaf.Hpa);
        if (!dry && fromRoot && leaf.LastLevel is { } reached) M.Fast.RememberEptLastLevel(gpa, reached);
        return result;
    }

    /// <summary>
    /// EPT_VIOLATION: KVM looks up the slot; in a slot it faults the host page in and maps it at the
    /// largest allowed size, then the access is retried. Outside every slot it installs a 4 KiB MMIO
    /// entry; a write to a readonly slot is emulated as MMIO without a mapping (KVM's RET_PF_EMULATE).
    /// </summary>
    private FillOutcome Violation(ulong gva, ulong gpa, AccessKind kind, bool finalTranslation, ulong allowed)
    {
        if (M.Tracing)
        {
            var qualification = (kind == AccessKind.Read ? 1UL : 0) | (kind == AccessKind.Write ? 2UL : 0) | (kind == AccessKind.Exec ? 4UL : 0)
                                | (allowed << 3) | (1UL << 7) | (finalTranslation ? 1UL << 8 : 0);
            M.Exit(ExitReason.EptViolation, new EptViolationExit(M.Cycle, M.AccessNumber, new Gpa(gpa), qualification, new Gva(gva)));
        }
        else
        {
            M.Exit(ExitReason.EptViolation, null);
        }
        M.Charge(CostKind.SlotLookup);
        var slot = M.FindSlot(gpa);
        if (slot is null)
        {
            var page = gpa & ~0xfffUL;
            Install(page, 1, EptEntry.MmioValue);
            if (M.Tracing) M.Emit(new EptMapEvent(M.Cycle, M.AccessNumber, new Gpa(page), new Hpa(0), PageSize.Size4K, false, true));
            return M.Mmio(gva, gpa, kind);
        }
        if (slot.Readonly && kind == AccessKind.Write && finalTranslation) return M.Mmio(gva, gpa, kind);
        if ((allowed & EptEntry.Rwx) != 0)
        {
            // A present leaf forbade a write: under the wp dirty log, the first write to a clean page.
            // KVM logs the page and gives the leaf W (fast_page_fault): no new mapping, no ept-fill.
            M.LogWrite(gpa);
            _ept.GrantWrite(gpa);
            return FillOutcome.Retry;
        }
        // Guest page tables (a violation before the final translation) are never logged (13.3, 13.4).
        var writable = !slot.Readonly && (!finalTranslation || WritableUnderWp(slot, gpa, kind));
        if (finalTranslation && kind == AccessKind.Write && M.Dirty.Method == DirtyTrack.Pml && M.Dirty.IsClean(slot, gpa))
            M.LogWrite(gpa); // the write's own violation maps the page: KVM logs it in its handler, no PML entry
        var hpa = M.TouchHost(slot, gpa);
        var size = Machine.HostMapSize(slot, gpa);
        var bytes = size.Bytes();
        var leafLevel = PagingLevels.Of(size);
        var entry = (hpa & ~(bytes - 1)) | EptEntry.Read | EptEntry.Execute | (writable ? EptEntry.Write : 0)
                    | EptEntry.WriteBack | (leafLevel > 1 ? EptEntry.PageSize : 0);
        Install(gpa & ~(bytes - 1), leafLevel, entry);
        M.Fast.RememberRetryLeaf(entry, leafLevel);
        M.Charge(CostKind.EptFill);
        if (M.Tracing) M.Emit(new EptMapEvent(M.Cycle, M.AccessNumber, new Gpa(gpa & ~(bytes - 1)), new Hpa(hpa & ~(bytes - 1)), size, writable, false));
        return FillOutcome.Retry;
    }

    /// <summary>Under the wp dirty log the pages made clean lose W in EPT (where they have a leaf).</summary>
    public override void OnDirtyCollected(IReadOnlyList<ulong> pages)
    {
        if (M.Dirty.Method != DirtyTrack.Wp) return;
        foreach (var page in pages) _ept.RevokeWrite(page);
    }

    private void Install(ulong gpa, int leafLevel, ulong entry)
    {
        var created = _ept.Install(gpa, leafLevel, entry, leafLevel == 1 ? M.Fast.EptLastLevel(gpa) : null, out var reached);
        if (reached is not null) M.Fast.RememberEptLastLevel(gpa, reached);
        for (var i = 0; i < created; i++)
        {
            M.CountTablePage();
            M.Counters.PagesEpt++;
        }
    }

    // ------------------------------------------------------------ explain

    protected override void ExplainGuestWalk(ulong gva, ref GuestWalk walk)
    {
        var policy = new TwoDimensionalPolicy(this, null, null, 0, 0, dry: true);
        GuestWalker.Walk(M.Kernel.Tables, gva, ref walk, ref policy);
        if (walk.End == WalkEnd.Blocked) walk.Recorder!.Unreachable(walk.Level, walk.Table, Pte.Index(gva, walk.Level));
    }

    protected override string BlockedOutcome(GuestWalk walk) =>
        $"the walk stops translating the guest's level-{walk.Level} table at gpa {Hex.Format(walk.Table)}: its EPT entry is not present, "
        + "so the hardware exits with EPT_VIOLATION (48); KVM faults in the host page, maps it and the walk restarts";

    protected override void ExplainLeaf(ulong gva, GuestWalk walk, WalkRecorder recorder, Explanation e)
    {
        var gpa = e.Gpa!.Value;
        var refs = 0;
        var result = Translate(gpa, ref refs, null, dry: true, recorder, out var leaf);
        e.Final = recorder.TakeEptPath();
        e.Outcome = result switch
        {
            EptResult.NotPresent when e.Slot is null => $"gpa {Hex.Format(gpa)} is in no memslot and has no EPT entry yet: EPT_VIOLATION (48), then KVM installs an MMIO entry and the access goes to the VMM (KVM_EXIT_MMIO)",
            EptResult.NotPresent => $"the final EPT entry for gpa {Hex.Format(gpa)} is not present: EPT_VIOLATION (48); KVM faults in the host page and maps it ({Machine.HostMapSize(e.Slot!, gpa).Text()}), then the walk restarts",
            EptResult.Misconfig => $"gpa {Hex.Format(gpa)} reaches KVM's MMIO entry: EPT_MISCONFIG (49), and the access goes to the VMM (KVM_EXIT_MMIO)",
            _ => $"translated: a {PagingLevels.Min(walk.LeafSize, PagingLevels.SizeOf(leaf.Level)).Text()} TLB entry ({Rights(walk.Perms)}{(e.Slot?.Readonly == true ? ", writes go to the VMM: readonly slot" : "")})",
        };
    }

    protected override void ExplainMissCost(GuestProcess process, ulong gva, Explanation e)
    {
        var guestPwc = CachesForNextMiss(process, M.Pwc);
        var eptPwc = _eptPwc?.Clone();
        var walk = HardwareWalkStart(process.Root, gva, guestPwc, M.TagOf(process));
        var policy = new TwoDimensionalPolicy(this, guestPwc, eptPwc, M.TagOf(process), process.Index, dry: true);
        GuestWalker.Walk(M.Kernel.Tables, gva, ref walk, ref policy);
        var refs = walk.Refs;
        if (walk.End == WalkEnd.Leaf) Translate(walk.LeafAddress(gva), ref refs, eptPwc, dry: true, null, out _);
        e.MissReferences = refs;
        e.MissCycles = (ulong)refs * M.Options.Costs.WalkRef;
    }
}
