using System.Runtime.CompilerServices;
using MemScript.Engine.Acceleration;
using MemScript.Engine.Accounting;
using MemScript.Engine.Guest;
using MemScript.Engine.Memory;
using MemScript.Engine.Modes;
using MemScript.Engine.Tracing;
using MemScript.Engine.Translation;
using MemScript.Language.Checking;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MemScript.Engine;

/// <summary>Where a TLB fill ended.</summary>
internal enum FillOutcome { Filled, Retry, Dropped, Mmio }

/// <summary>
/// One simulated x86-64 machine under KVM in one MMU mode: the guest kernel and its page tables, host
/// memory, the TLB and paging-structure caches, the mode's own structures (EPT, shadow tables), and the
/// counters and cycles of everything they do (SEMANTICS.md). Its operations are the guest's: accesses,
/// CR3 loads, INVLPG and page-table edits.
/// </summary>
/// <remarks>
/// This class holds what every mode shares: the access (the TLB-hit path and the retry loop), the
/// accounting, the host's memory and the TLB fill. What a TLB miss does is the mode's
/// (<see cref="TranslationMode"/>, one class per mode in Modes/); the guest kernel's side is
/// <see cref="GuestKernel"/>. Structures that only make the simulation faster sit behind
/// <see cref="Accelerator"/>, which nothing here or in the modes looks inside.
/// </remarks>
public sealed partial class Machine
{
    /// <summary>Retries of one access beyond which the scenario is livelocked (SEMANTICS.md section 2, step 4).</summary>
    internal const int MaxRetries = 16;

    private readonly MachineOptions _options;
    // 64 less the virtual-address width: a canonical address survives a shift left and back unchanged.
    private readonly int _canonicalShift;
    private readonly ulong[] _prices;
    private readonly long _accessLimit;
    private readonly ITraceSink? _trace;
    private readonly ILogger _logger;

    // The exit being handled, or -1 while the guest runs: handler charges are attributed to it.
    private int _activeExit = -1;

    /// <summary>The guest's paging depth (4 or 5).</summary>
    internal readonly int Levels;
    internal readonly Memslots Slots;
    internal readonly HostMemory Host;
    internal readonly Tlb Tlb;
    /// <summary>The guest-dimension paging-structure caches (<c>pwc on</c>), or null.</summary>
    internal readonly PagingStructureCache? Pwc;
    internal readonly GuestKernel Kernel;
    internal readonly TranslationMode Translation;
    internal readonly Accelerator Fast;
    internal readonly DirtyLog Dirty;

    /// <summary>The TLB tag of the current process (its PCID with <c>pcid on</c>, else 0).</summary>
    internal int CurrentTag;

    /// <summary>A machine for a checked scenario's slots and <c>map</c> targets.</summary>
    public Machine(MachineOptions options, CheckedScript script, ITraceSink? trace = null, ILogger? logger = null)
        : this(options, script.Slots, script.MapTargets, trace, logger)
    {
    }

    /// <summary>A machine with these memslots; <paramref name="mapTargets"/> are the guest-physical ranges the guest kernel must not allocate.</summary>
    public Machine(MachineOptions options, IEnumerable<SlotInfo> slots, IEnumerable<(ulong Start, ulong End)> mapTargets,
        ITraceSink? trace = null, ILogger? logger = null)
    {
        _options = options;
        Levels = options.GuestLevels;
        _canonicalShift = 64 - VirtualBits;
        _prices = options.Costs.Prices();
        Counters.AccessPrice = _prices[(int)CostKind.Access];
        _accessLimit = options.MaxAccesses > 0 ? options.MaxAccesses : long.MaxValue;
        Slots = new Memslots(slots);
        Host = new HostMemory(Slots.All.Select(s => (s.Hva, s.Size, s.Backing)));
        Tlb = new Tlb(options.TlbEntries, options.TlbWays, options.Tlb1GEntries, options.Tlb1GWays);
        if (options.Pwc) Pwc = new PagingStructureCache(Levels, options.PwcEntries);
        _trace = trace;
        _logger = logger ?? NullLogger.Instance;
        Fast = Accelerator.For(this, options);
        Dirty = new DirtyLog(DirtyLog.MethodFor(options.Mode, options.DirtyTrack, options.EptAd), Slots.All.Any(s => s.DirtyLog));
        Kernel = new GuestKernel(this, new FrameAllocator(Slots.All, mapTargets));
        Translation = ModeRegistry.Create(options.Mode, this);
        // Preallocated slots (13.5): their host pages exist from VM creation, after the EPT root, in the
        // order the slots are written; natively there is no host to allocate them in.
        if (Translation.HasVmm)
        {
            foreach (var slot in slots.Where(s => s.Prealloc)) Host.Preallocate(slot.Hva, slot.Size, slot.Backing);
            Counters.PagesHost += Host.PreallocatedPages;
        }
    }

    public MmuMode Mode => _options.Mode;
    public Counters Counters { get; } = new();
    public MachineOptions Options => _options;

    /// <summary>The process whose CR3 is loaded, or null before the first <c>run</c> block.</summary>
    public GuestProcess? Current => Kernel.Current;

    /// <summary>The shadow-table limit in force (shadow mode), for invariant checks.</summary>
    public int? ShadowPageLimit => Translation.ShadowPageLimit;

    /// <summary>The address of the run's first access (the default address reports explain).</summary>
    public ulong? FirstAccess { get; private set; }

    /// <summary>KVM's default shadow-table limit: 2% of the writable guest frames (KVM_PERMILLE_MMU_PAGES), at least 64.</summary>
    public static int ShadowLimit(MachineOptions options, IEnumerable<SlotInfo> slots)
    {
        if (options.Costs.ShadowPages is { } n) return (int)Math.Min(n, int.MaxValue);
        var frames = slots.Where(s => !s.Readonly).Aggregate(0UL, (sum, s) => sum + s.Size / 4096);
        return (int)Math.Max(64, Math.Min(frames * 20 / 1000, int.MaxValue));
    }

    // ------------------------------------------------------------ set-up (not counted)

    /// <summary>
    /// Creates a process before the clock starts: its root table, then the tables its <c>map</c> lines
    /// need, in the order written. Processes are set up in file order; then <see cref="StartClock"/>.
    /// </summary>
    public void SetUp(ProcessInfo info) => Kernel.SetUp(info);

    /// <summary>Set-up is not counted: only the page-table pages it created remain in the counters.</summary>
    public void StartClock()
    {
        Array.Clear(Counters.CyclesByKind);
        Counters.Cycles = 0;
        _logger.LogDebug("machine ready: mode {Mode}, {Slots} slots, {Processes} processes, {Tables} guest tables",
            Mode, Slots.All.Count, Kernel.ProcessCount, Kernel.Tables.Count);
    }

    /// <summary>
    /// A hash of every guest page-table frame and its 512 entries, in guest-physical order: what the
    /// guest sees of its own tables, which must not depend on the MMU mode.
    /// </summary>
    public ulong GuestPageTableFingerprint() => Kernel.Fingerprint();

    // ------------------------------------------------------------ accounting

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Charge(CostKind kind, ulong count = 1)
    {
        var price = _prices[(int)kind];
        var cycles = price * count;
        // Cycles are exact: a charge that would wrap the 64-bit counter is an error, never a wrap.
        if ((count > 1 && Math.BigMul(price, count, out _) != 0) || Counters.Cycles + cycles < cycles) throw EngineException.CounterOverflow("cycle");
        Counters.Cycles += cycles;
        Counters.CyclesByKind[(int)kind] += cycles;
        if (_activeExit >= 0) Counters.CyclesByExit[_activeExit] += cycles;
    }

    /// <summary>The guest runs again: later charges belong to no exit.</summary>
    internal void Resume() => _activeExit = -1;

    internal ulong Cycle => Counters.TotalCycles;
    internal long AccessNumber => Counters.Accesses;
    internal bool Tracing => _trace is not null;

    /// <summary>Records a trace event (callers test <see cref="Tracing"/> first, so that no event is built for nothing).</summary>
    internal void Emit(TraceEvent traceEvent) => _trace!.Emit(traceEvent);

    /// <summary>A VM exit and the VM entry after its handler; without VPID the entry flushes the TLB.</summary>
    internal void Exit(ExitReason reason, ExitEvent? traceEvent)
    {
        Counters.Exits++;
        Counters.ExitsByReason[(int)reason]++;
        _activeExit = (int)reason;
        Charge(CostKind.VmExit);
        if (traceEvent is not null) _trace!.Emit(traceEvent);
        // KVM drains the page-modification log at every exit, whatever its reason (vmx_flush_pml_buffer).
        Dirty.PmlEntries = 0;
        if (!_options.Vpid)
        {
            // The flush belongs to the next VM entry; no handler work reads the TLB, so doing it now is the same.
            Tlb.FlushAll();
            Pwc?.FlushAll();
        }
    }

    internal int TagOf(GuestProcess p) => _options.Pcid ? p.Index + 1 : 0;

    /// <summary>Counts one more page-table page (guest, EPT or shadow) against the limit.</summary>
    internal void CountTablePage()
    {
        if (Counters.PagesGuestPt + Counters.PagesEpt + Counters.PagesShadow >= _options.MaxTablePages)
            throw EngineException.PageLimit("page-table pages", _options.MaxTablePages);
    }

    // ------------------------------------------------------------ slots and host memory

    /// <summary>The slot holding a guest-physical address, or null for MMIO.</summary>
    public SlotInfo? FindSlot(ulong gpa) => Slots.Find(gpa);

    /// <inheritdoc cref="Memslots.HostMapSize"/>
    public static PageSize HostMapSize(SlotInfo slot, ulong gpa) => Memslots.HostMapSize(slot, gpa);

    /// <summary>The host-physical address behind a guest-physical one, faulting the host page in when new.</summary>
    internal ulong TouchHost(SlotInfo slot, ulong gpa)
    {
        var hva = Memslots.HvaOf(slot, gpa);
        if (!Host.TryGet(hva, slot.Backing, out var page))
        {
            if (Host.PageCount >= _options.MaxHostPages) throw EngineException.PageLimit("host pages", _options.MaxHostPages);
            page = Host.FaultIn(hva, slot.Backing);
            Counters.HostFaults++;
            Counters.PagesHost++;
            Charge(CostKind.HostFault);
            Charge(CostKind.ZeroPageHost, slot.Backing.Bytes() / 4096);
            if (Tracing)
                Emit(new HostFaultEvent(Cycle, AccessNumber, new Gpa(gpa & ~(slot.Backing.Bytes() - 1)),
                    new Hva(hva & ~(slot.Backing.Bytes() - 1)), new Hpa(page), slot.Backing));
        }
        return page + (hva & (slot.Backing.Bytes() - 1));
    }

    // ------------------------------------------------------------ one access (SEMANTICS.md section 2)

    /// <summary>One guest memory access at a guest-virtual address.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Access(ulong gva, AccessKind kind, bool kernel = false)
    {
        if (!CountHit(gva, CurrentTag, Required(kind, kernel))) AccessSlow(gva, kind, kernel);
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
        if (!Tlb.Hits(gva, tag, required)) return false;
        counters.TlbHits++;
        return true;
    }

    /// <summary>
    /// The TLB permissions an access needs: write or execute by its kind, user unless it is a kernel
    /// access; a write also needs its page logged already (<see cref="TlbPerms.Logged"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TlbPerms Required(AccessKind kind, bool kernel) =>
        (kind == AccessKind.Write ? TlbPerms.Write | TlbPerms.Logged : 0) | (kind == AccessKind.Exec ? TlbPerms.Exec : 0) | (kernel ? 0 : TlbPerms.User);

    /// <summary>
    /// The rest of an access the TLB did not hit: the retry loop shared by every mode. A nonzero
    /// <paramref name="known"/> is a remembered walk of the page the caller's window already found (see
    /// <see cref="Accelerator"/>); it stands for the first attempt only, as handling a fault can change it.
    /// </summary>
    private void AccessSlow(ulong gva, AccessKind kind, bool kernel, ulong known = 0)
    {
        // The TLB starts empty, so the first access always comes through here.
        FirstAccess ??= gva;
        if (!IsCanonical(gva))
        {
            // Never cached, so the TLB lookup above missed; the #GP is not a TLB event.
            Counters.Segv++;
            if (Tracing) Emit(new NonCanonicalEvent(Cycle, AccessNumber, new Gva(gva)));
            return;
        }
        var process = Kernel.RequireCurrent();
        if (kind == AccessKind.Write && Dirty.Active && Dirty.Method == DirtyTrack.Free && WriteHitsUnlogged(gva, kernel)) return;
        var fast = Fast;
        fast.BeginAccess();
        for (var attempt = 0; ; attempt++)
        {
            Resume();
            if (attempt > 0)
            {
                if (attempt > MaxRetries) throw EngineException.Livelock(gva, MaxRetries);
                // A retry the mode knows misses (the lookup would find what the miss that began this
                // access found, or a TLB the exit flushed) is not probed.
                if (!fast.RetryKnownToMiss && Tlb.Hits(gva, CurrentTag, Required(kind, kernel)))
                {
                    Counters.TlbHits++;
                    return;
                }
            }
            Counters.TlbMisses++;
            if (fast.Recall(gva, process.Index, attempt == 0 ? known : 0, out var remembered) && Allows(remembered.Perms, kind, kernel))
            {
                CountWalk(gva, kind, remembered.Refs);
                Tlb.Fill(gva, CurrentTag, remembered.SizeCode, remembered.Perms, remembered.Frame, remembered.GuestSizeCode);
                Resume();
                return;
            }
            if (Translation.Fill(gva, kind, kernel) != FillOutcome.Retry)
            {
                Resume();
                return;
            }
        }
    }

    /// <summary>
    /// A write that hits a TLB entry whose writes are not logged yet (the free dirty log): a hit, and the
    /// first write to a clean page is logged as it is made. A 4 KiB entry is then marked logged; a larger
    /// one (natively, a huge page over a dirty-log slot) stays unmarked, as each of its 4 KiB pages is
    /// logged on its own.
    /// </summary>
    private bool WriteHitsUnlogged(ulong gva, bool kernel)
    {
        var entry = Tlb.EntryAllowing(gva, CurrentTag, Required(AccessKind.Write, kernel) & ~TlbPerms.Logged);
        if (entry < 0) return false;
        var page = Tlb.GuestPageOf(entry, gva);
        if (FindSlot(page) is { DirtyLog: true }) LogWrite(page);
        if (Tlb.Is4K(entry)) Tlb.Grant(entry, TlbPerms.Logged);
        Counters.TlbHits++;
        return true;
    }

    /// <summary>Logs the first write to the clean page of <paramref name="gpa"/> (callers know it is in a dirty-log slot).</summary>
    internal void LogWrite(ulong gpa)
    {
        if (!Dirty.MarkDirty(gpa)) return;
        Counters.DirtyLogged++;
        // Under pml and wp the TLB entries a walk fills depend on the page being clean: what was remembered no longer holds.
        if (Dirty.Method != DirtyTrack.Free) Fast.TablesChanged();
    }

    /// <summary>
    /// Whether writes through a TLB entry for the page of <paramref name="gpa"/> of <paramref name="size"/>
    /// need no logging: no 4 KiB page of it is a clean page of a dirty-log slot.
    /// </summary>
    private TlbPerms LoggedFor(ulong gpa, PageSize size)
    {
        if (!Dirty.Active) return TlbPerms.Logged;
        if (size == PageSize.Size4K)
            return FindSlot(gpa) is { DirtyLog: true } && !Dirty.IsDirty(gpa) ? 0 : TlbPerms.Logged;
        var start = gpa & ~(size.Bytes() - 1);
        var last = start + (size.Bytes() - 1);
        return Slots.All.Any(s => s.DirtyLog && s.Gpa <= last && start < s.End) ? 0 : TlbPerms.Logged;
    }

    /// <summary>Under the free dirty log a write is logged when its fill completes (the page's first write).</summary>
    private void LogFreeWrite(AccessKind kind, ulong gpa)
    {
        if (kind == AccessKind.Write && Dirty.Active && Dirty.Method == DirtyTrack.Free && FindSlot(gpa) is { DirtyLog: true }) LogWrite(gpa);
    }

    /// <summary>Counts a hardware walk's references (and its trace line).</summary>
    internal void CountWalk(ulong gva, AccessKind kind, int refs)
    {
        Counters.WalkRefs += refs;
        Charge(CostKind.WalkRef, (ulong)refs);
        if (Tracing) Emit(new TlbMissEvent(Cycle, AccessNumber, new Gva(gva), kind, refs));
    }

    /// <summary>An access handed to the VMM in user space (natively: to the device, with no charge).</summary>
    internal FillOutcome Mmio(ulong gva, ulong gpa, AccessKind kind)
    {
        Counters.Mmio++;
        if (Translation.HasVmm) Charge(CostKind.MmioExit);
        if (Tracing) Emit(new MmioEvent(Cycle, AccessNumber, new Gva(gva), new Gpa(gpa), kind));
        return FillOutcome.Mmio;
    }

    /// <summary>
    /// Fills the TLB with the effective page of a translation (SEMANTICS.md section 2, step 5) of
    /// <paramref name="gpa"/>, the guest-physical address the access reaches (0 when the mode cannot
    /// know it and no slot is a dirty-log slot).
    /// </summary>
    internal void FillTlb(ulong gva, AccessKind kind, PageSize size, PageSize guestPage, TlbPerms perms, ulong gpa)
    {
        LogFreeWrite(kind, gpa);
        Tlb.Fill(gva, CurrentTag, (int)size, perms | LoggedFor(gpa, size), gpa & ~(size.Bytes() - 1), (int)guestPage);
    }

    /// <summary>
    /// Ends a hardware walk that reached a leaf the access may use: counts it, fills the TLB and lets the
    /// accelerator remember the outcome. <paramref name="finalWritable"/> and <paramref name="finalExecutable"/>
    /// are what the stage after the guest's (EPT, or the memslot natively) allows; <paramref name="gpa"/>
    /// is as for <see cref="FillTlb"/>.
    /// </summary>
    internal FillOutcome CompleteWalk(ulong gva, AccessKind kind, int refs, PageSize size, PageSize guestPage, PathPermissions perms,
        bool finalWritable, bool finalExecutable, ulong gpa)
    {
        CountWalk(gva, kind, refs);
        LogFreeWrite(kind, gpa);
        var tlbPerms = ToTlbPerms(perms.Writable && finalWritable, perms.User, perms.Executable && finalExecutable) | LoggedFor(gpa, size);
        var frame = gpa & ~(size.Bytes() - 1);
        Tlb.Fill(gva, CurrentTag, (int)size, tlbPerms, frame, (int)guestPage);
        Fast.Remember(gva, Kernel.Current!.Index, frame, refs, (int)size, (int)guestPage, tlbPerms);
        return FillOutcome.Filled;
    }

    // ------------------------------------------------------------ the dirty log (SEMANTICS.md 13.4, 13.6)

    /// <summary>
    /// <c>collect dirty</c>: the VMM reads and clears the dirty log (KVM_GET_DIRTY_LOG with manual
    /// protect, then KVM_CLEAR_DIRTY_LOG). No exit. Every dirty page becomes clean (the mode takes W off
    /// its leaves under wp), then the TLB and the paging-structure caches are flushed for every tag.
    /// </summary>
    public void CollectDirty()
    {
        var pages = Dirty.Collect();
        Counters.DirtyCollected += pages.Count;
        if (Dirty.Method != DirtyTrack.Free && Mode is MmuMode.Ept or MmuMode.Shadow) Charge(CostKind.PteWrite, (ulong)pages.Count);
        Translation.OnDirtyCollected(pages);
        Tlb.FlushAll();
        Pwc?.FlushAll();
        Fast.TablesChanged();
        if (Tracing) Emit(new DirtyCollectEvent(Cycle, AccessNumber, pages.Count));
    }

    internal static bool Allows(PathPermissions perms, AccessKind kind, bool kernel) =>
        (kind != AccessKind.Write || perms.Writable) && (kind != AccessKind.Exec || perms.Executable) && (kernel || perms.User);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Allows(TlbPerms perms, AccessKind kind, bool kernel) =>
        (perms & Required(kind, kernel)) == Required(kind, kernel);

    internal static TlbPerms ToTlbPerms(bool writable, bool user, bool executable) =>
        (writable ? TlbPerms.Write : 0) | (user ? TlbPerms.User : 0) | (executable ? TlbPerms.Exec : 0);

    internal int VirtualBits => Levels == 5 ? 57 : 48;

    internal bool IsCanonical(ulong gva) => (ulong)((long)(gva << _canonicalShift) >> _canonicalShift) == gva;

    // ------------------------------------------------------------ CR3, INVLPG

    /// <summary>Switches to a process (the first run block, or <c>switch</c>); the current process loads nothing.</summary>
    public void SwitchTo(string name)
    {
        var process = Kernel.Process(name);
        if (process == Kernel.Current) return;
        LoadCr3(process, reload: false);
    }

    /// <summary><c>flush tlb</c>: reload the same CR3, flushing the current process's entries.</summary>
    public void FlushTlb() => LoadCr3(Kernel.RequireCurrent(), reload: true);

    private void LoadCr3(GuestProcess process, bool reload)
    {
        Charge(CostKind.Cr3Switch);
        if (Tracing) Emit(new Cr3Event(Cycle, AccessNumber, process.Name, new Gpa(process.Root), reload));
        var tag = TagOf(process);
        if (reload)
        {
            Tlb.FlushTag(tag);
            Pwc?.FlushTag(tag);
        }
        else if (!_options.Pcid)
        {
            Tlb.FlushAll();
            Pwc?.FlushAll();
        }
        Kernel.Current = process;
        CurrentTag = tag;
        Translation.OnCr3Load(process);
    }

    /// <summary>INVLPG: drops the current process's entries for the page holding the address (all of a huge page).</summary>
    public void Invlpg(ulong gva)
    {
        Kernel.RequireCurrent();
        if (Tracing) Emit(new InvlpgEvent(Cycle, AccessNumber, new Gva(gva)));
        if (IsCanonical(gva))
        {
            Tlb.InvalidatePage(gva, CurrentTag);
            // INVLPG also invalidates the paging-structure caches of the current PCID (SDM 4.10.4.1).
            Pwc?.FlushTag(CurrentTag);
        }
        // INVLPG of a non-canonical address is a NOP (SDM vol. 2A, INVLPG); the mode still sees it (an exit under shadow paging).
        Translation.OnInvlpg(gva, IsCanonical(gva));
    }

    // ------------------------------------------------------------ run-time page-table edits (the guest kernel's)

    /// <summary>Run-time <c>map</c>: writes present entries at once (mmap with MAP_POPULATE).</summary>
    public void Map(ulong gva, ulong size, PageSize page, ulong gpa, Perms perms) => Kernel.Map(gva, size, page, gpa, perms);

    /// <summary>Run-time <c>demand</c>: only records the region.</summary>
    public void Demand(ulong gva, ulong size, PageSize page, Perms perms) => Kernel.Demand(gva, size, page, perms);

    public void DemandAll(Perms perms) => Kernel.DemandAll(perms);

    /// <summary>Run-time <c>unmap</c> (munmap): clears the present leaves, forgets the range, then flushes.</summary>
    public void Unmap(ulong gva, ulong size) => Kernel.Unmap(gva, size);

    /// <summary>Run-time <c>protect</c> (mprotect): rewrites the present leaves' permissions, then flushes.</summary>
    public void Protect(ulong gva, ulong size, Perms perms) => Kernel.Protect(gva, size, perms);

    // ------------------------------------------------------------ inspection

    /// <summary>Explains the translation of <paramref name="gva"/> in <paramref name="processName"/> as the tables stand now (changes nothing).</summary>
    public Inspection.TranslationPath Explain(string processName, ulong gva) => Translation.Explain(Kernel.Process(processName), gva);

    /// <summary>
    /// The guest page tables of <paramref name="processName"/> as they stand (changes nothing), for the
    /// report's memslot map: each table's guest-physical address, level and entries, from the root down,
    /// depth first in entry order. The entries are the live table's: read them before the run goes on.
    /// </summary>
    public IEnumerable<(ulong Table, int Level, ReadOnlyMemory<ulong> Entries)> GuestTables(string processName)
    {
        var pending = new Stack<(ulong Table, int Level)>();
        pending.Push((Kernel.Process(processName).Root, Levels));
        while (pending.Count > 0)
        {
            var (table, level) = pending.Pop();
            var entries = Kernel.Tables[table];
            yield return (table, level, entries);
            if (level == 1) continue;
            // Pushed in reverse so that they come out in entry order.
            for (var i = entries.Length - 1; i >= 0; i--)
                if ((entries[i] & Pte.Present) != 0 && !Pte.IsLeaf(entries[i], level)) pending.Push((entries[i] & Pte.AddressMask, level - 1));
        }
    }
}
