using System.Runtime.CompilerServices;
using MemScript.Engine.Accounting;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;
using MemScript.Engine.Translation;
using MemScript.Language;
using MemScript.Language.Checking;
using MemScript.Language.Syntax;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MemScript.Engine;

/// <summary>Where a TLB fill ended.</summary>
internal enum FillOutcome { Filled, Retry, Dropped, Mmio }

/// <summary>
/// One simulated x86-64 machine under KVM in one MMU mode: guest memory and page tables, host memory,
/// EPT or shadow tables, the TLB, and the counters and cycles of everything they do (SEMANTICS.md).
/// Its operations are the guest's: accesses, CR3 loads, INVLPG and page-table edits.
/// </summary>
public sealed partial class Machine
{
    private readonly MachineOptions _options;
    private readonly MmuMode _mode;
    private readonly int _levels;
    // 64 less the virtual-address width: a canonical address survives a shift left and back unchanged.
    private readonly int _canonicalShift;
    private readonly ulong[] _prices;
    private readonly SlotInfo[] _slots;
    private readonly TableStore _guestTables = new();
    private readonly FrameAllocator _frames;
    private readonly HostMemory _host;
    private readonly Tlb _tlb;
    private readonly PagingStructureCache? _pwc;
    private readonly PagingStructureCache? _eptPwc;
    private readonly EptTables? _ept;
    private readonly ShadowTables? _shadow;
    private readonly WalkMemo? _memo;
    private readonly UpperPathCache? _upperPaths;
    // EPT walks of guest page-table pages that succeeded, by page (see TranslateTable); none with
    // paging-structure caches, whose contents decide how many references a walk makes.
    private readonly ulong[]? _tableTranslations;
    private readonly Dictionary<string, GuestProcess> _processes = new(StringComparer.Ordinal);
    private readonly ITraceSink? _trace;
    private readonly ILogger _logger;
    private GuestProcess? _current;
    private int _currentTag;

    private readonly long _accessLimit;

    // The exit being handled, or -1 while the guest runs: handler charges are attributed to it.
    private int _activeExit = -1;

    public Machine(MachineOptions options, CheckedScript script, ITraceSink? trace = null, ILogger? logger = null)
    {
        _options = options;
        _mode = options.Mode;
        _levels = options.GuestLevels;
        _canonicalShift = 64 - (_levels == 5 ? 57 : 48);
        _prices = [.. options.Costs.Prices()];
        Counters.AccessPrice = _prices[(int)CostKind.Access];
        _accessLimit = options.MaxAccesses > 0 ? options.MaxAccesses : long.MaxValue;
        _slots = script.Slots.OrderBy(s => s.Gpa).ToArray();
        _host = new HostMemory(_slots.Select(s => (s.Hva, s.Size, s.Backing)));
        _frames = new FrameAllocator(_slots, script.MapTargets);
        _tlb = new Tlb(options.TlbEntries, options.TlbWays);
        _trace = trace;
        _logger = logger ?? NullLogger.Instance;
        if (options.Pwc)
        {
            _pwc = new PagingStructureCache(_levels, options.PwcEntries);
            if (_mode == MmuMode.Ept) _eptPwc = new PagingStructureCache(options.HostLevels, options.PwcEntries);
        }
        if (_mode == MmuMode.Ept)
        {
            _ept = new EptTables(options.HostLevels, () => _host.AllocateFrames(4096), rememberLastLevel: !options.Pwc && options.WalkMemo);
            Counters.PagesEpt = 1;
            // Direct-mapped by page: the guest kernel takes its table frames from the bottom of its
            // memory, so 16 Ki slots hold the first 64 MiB of them without a collision.
            if (!options.Pwc && options.WalkMemo) _tableTranslations = new ulong[1 << 14];
        }
        if (_mode == MmuMode.Shadow) _shadow = new ShadowTables(ShadowLimit(options, _slots));
        // With paging-structure caches a walk's references depend on their contents, which the memo does not keep.
        if (options.WalkMemo && !options.Pwc && _mode != MmuMode.Software) _memo = new WalkMemo();
        if (_memo is not null && _mode == MmuMode.Ept) _upperPaths = new UpperPathCache();
    }

    public MmuMode Mode => _mode;
    public Counters Counters { get; } = new();
    public MachineOptions Options => _options;
    public GuestProcess? Current => _current;

    /// <summary>KVM's default: 2% of the writable guest frames (KVM_PERMILLE_MMU_PAGES), at least 64.</summary>
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
    public void SetUp(ProcessInfo info)
    {
        var root = AllocateTable(info.Name, 0);
        var process = new GuestProcess(info.Name, _processes.Count, root);
        _processes.Add(info.Name, process);
        foreach (var m in info.Mappings)
        {
            switch (m.Kind)
            {
                case MappingKind.Map:
                    MapRange(process, m.Gva, m.Size, m.Page, m.Gpa, m.Perms);
                    break;
                case MappingKind.Demand:
                    process.Vmas.Add(Vma.Of(m.Gva, m.Size, m.Page, m.Perms, VmaKind.Demand));
                    break;
                case MappingKind.DemandAll:
                    process.DemandAll = m.Perms;
                    break;
            }
        }
    }

    /// <summary>Set-up is not counted: only the page-table pages it created remain in the counters.</summary>
    public void StartClock()
    {
        Array.Clear(Counters.CyclesByKind);
        Counters.Cycles = 0;
        _logger.LogDebug("machine ready: mode {Mode}, {Slots} slots, {Processes} processes, {Tables} guest tables",
            _mode, _slots.Length, _processes.Count, _guestTables.Count);
    }

    /// <summary>
    /// A hash of every guest page-table frame and its 512 entries, in guest-physical order: what the
    /// guest sees of its own tables, which must not depend on the MMU mode.
    /// </summary>
    public ulong GuestPageTableFingerprint()
    {
        var hash = 14695981039346656037UL;
        foreach (var (frame, entries) in _guestTables.All.OrderBy(t => t.Key))
        {
            hash = (hash ^ frame) * 1099511628211UL;
            foreach (var e in entries) hash = (hash ^ e) * 1099511628211UL;
        }
        return hash;
    }

    /// <summary>The shadow-table limit in force (shadow mode), for invariant checks.</summary>
    public int? ShadowPageLimit => _shadow?.Limit;

    // ------------------------------------------------------------ accounting helpers

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Charge(CostKind kind, ulong count = 1)
    {
        var cycles = _prices[(int)kind] * count;
        Counters.Cycles += cycles;
        Counters.CyclesByKind[(int)kind] += cycles;
        if (_activeExit >= 0) Counters.CyclesByExit[_activeExit] += cycles;
    }

    /// <summary>The guest runs again: later charges belong to no exit.</summary>
    private void Resume() => _activeExit = -1;

    private ulong Cycle => Counters.TotalCycles;
    private long AccessNumber => Counters.Accesses;

    /// <summary>A VM exit and the VM entry after its handler; without VPID the entry flushes the TLB.</summary>
    private void Exit(ExitReason reason, ExitEvent? traceEvent)
    {
        Counters.Exits++;
        Counters.ExitsByReason[(int)reason]++;
        _activeExit = (int)reason;
        Charge(CostKind.VmExit);
        if (traceEvent is not null) _trace!.Emit(traceEvent);
        if (!_options.Vpid)
        {
            // The flush belongs to the next VM entry; no handler work reads the TLB, so doing it now is the same.
            _tlb.FlushAll();
            _pwc?.FlushAll();
        }
    }

    private bool Tracing => _trace is not null;

    private int TagOf(GuestProcess p) => _options.Pcid ? p.Index + 1 : 0;

    private void CountTablePage()
    {
        if (Counters.PagesGuestPt + Counters.PagesEpt + Counters.PagesShadow >= _options.MaxTablePages)
            throw EngineException.PageLimit("page-table pages", _options.MaxTablePages);
    }

    // ------------------------------------------------------------ slots and host memory

    /// <summary>The slot holding a guest-physical address, or null for MMIO.</summary>
    public SlotInfo? FindSlot(ulong gpa)
    {
        int lo = 0, hi = _slots.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            var s = _slots[mid];
            if (gpa < s.Gpa) hi = mid - 1;
            else if (gpa >= s.End) lo = mid + 1;
            else return s;
        }
        return null;
    }

    /// <summary>The host-physical address behind a guest-physical one, faulting the host page in when new.</summary>
    private ulong TouchHost(SlotInfo slot, ulong gpa)
    {
        var hva = slot.Hva + (gpa - slot.Gpa);
        if (!_host.TryGet(hva, slot.Backing, out var page))
        {
            if (_host.PageCount >= _options.MaxHostPages) throw EngineException.PageLimit("host pages", _options.MaxHostPages);
            page = _host.FaultIn(hva, slot.Backing);
            Counters.HostFaults++;
            Counters.PagesHost++;
            Charge(CostKind.HostFault);
            Charge(CostKind.ZeroPageHost, slot.Backing.Bytes() / 4096);
            if (Tracing)
                _trace!.Emit(new HostFaultEvent(Cycle, AccessNumber, new Gpa(gpa & ~(slot.Backing.Bytes() - 1)),
                    new Hva(hva & ~(slot.Backing.Bytes() - 1)), new Hpa(page), slot.Backing));
        }
        return page + (hva & (slot.Backing.Bytes() - 1));
    }

    /// <summary>
    /// KVM's mapping size for a guest-physical address: the largest of 1 GiB, 2 MiB, 4 KiB no larger than
    /// the backing, whose aligned range lies in the slot, with gpa - hva a multiple of it, and 4 KiB in a
    /// dirty-log slot.
    /// </summary>
    public static PageSize HostMapSize(SlotInfo slot, ulong gpa)
    {
        if (slot.DirtyLog) return PageSize.Size4K;
        foreach (var size in (ReadOnlySpan<PageSize>)[PageSize.Size1G, PageSize.Size2M])
        {
            var bytes = size.Bytes();
            if (bytes > slot.Backing.Bytes()) continue;
            var start = gpa & ~(bytes - 1);
            if (start < slot.Gpa || start + bytes > slot.End) continue;
            if (((slot.Gpa ^ slot.Hva) & (bytes - 1)) != 0) continue;
            return size;
        }
        return PageSize.Size4K;
    }

    private static PageSize Min(PageSize a, PageSize b) => a < b ? a : b;

    private static PageSize SizeOfLevel(int level) => level switch { 1 => PageSize.Size4K, 2 => PageSize.Size2M, _ => PageSize.Size1G };

    private static int LevelOf(PageSize size) => size switch { PageSize.Size4K => 1, PageSize.Size2M => 2, _ => 3 };

    private static bool Allows(bool writable, bool user, bool executable, AccessKind kind, bool kernel) =>
        (kind != AccessKind.Write || writable) && (kind != AccessKind.Exec || executable) && (kernel || user);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Allows(TlbPerms perms, AccessKind kind, bool kernel) =>
        (perms & Required(kind, kernel)) == Required(kind, kernel);

    private static TlbPerms ToTlbPerms(bool writable, bool user, bool executable) =>
        (writable ? TlbPerms.Write : 0) | (user ? TlbPerms.User : 0) | (executable ? TlbPerms.Exec : 0);

    private bool IsCanonical(ulong gva) => Canonical.IsCanonical(gva, _levels == 5 ? 57 : 48);
}
