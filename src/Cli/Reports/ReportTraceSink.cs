using System.Collections.Immutable;
using MemScript.Engine;
using MemScript.Engine.Interpreter;
using MemScript.Engine.Tracing;

namespace MemScript.Cli.Reports;

/// <summary>
/// What the HTML report takes from a run's trace as it happens, keeping no event beyond the few it
/// draws: the timeline (events counted into a bounded number of buckets of accesses) and the first
/// walks of one address (each explained from the machine at the moment of its TLB miss, until one fills
/// the TLB). A run of a billion accesses gives a page of the same size as one of ten.
/// </summary>
public sealed class ReportTraceSink(Machine machine, ulong? address) : ITraceSink
{
    /// <summary>Buckets of the timeline at most: enough for a smooth line, few enough for a small page.</summary>
    public const int MaxBuckets = 256;

    /// <summary>Walks of the address drawn at most (an MMIO page, for one, never fills the TLB).</summary>
    public const int MaxWalks = 24;

    /// <summary>Events kept after one walk at most (a demand fault under shadow paging makes about ten).</summary>
    private const int MaxEventsPerWalk = 24;

    private readonly TimelineCounter _timeline = new(MaxBuckets);
    private readonly ImmutableArray<WalkRecord>.Builder _walks = ImmutableArray.CreateBuilder<WalkRecord>();
    private readonly bool _defaulted = address is null;
    private ulong? _address = address;
    private string? _process;
    private OpenWalk? _open;
    private bool _done;
    private string? _note;

    /// <summary>A walk whose events are still coming.</summary>
    private sealed class OpenWalk(TlbMissEvent miss, Engine.Inspection.TranslationPath path)
    {
        public readonly TlbMissEvent Miss = miss;
        public readonly Engine.Inspection.TranslationPath Path = path;
        public readonly List<TraceEvent> Events = [];
    }

    public void Emit(TraceEvent traceEvent)
    {
        _timeline.Count(traceEvent);
        if (_done) return;
        if (_open is { } open)
        {
            if (Follows(open, traceEvent))
            {
                if (open.Events.Count < MaxEventsPerWalk) open.Events.Add(traceEvent);
                return;
            }
            Close();
            if (_done) return;
        }
        switch (traceEvent)
        {
            case NonCanonicalEvent n when _address is null || n.Address.Value == _address:
                _address = n.Address.Value;
                _process = machine.Current?.Name;
                _note = "the address is not canonical: the access faults (#GP) before any walk, and the guest kills the process";
                _done = true;
                break;
            // The same address in another process is another page: only the first process's misses are followed.
            case TlbMissEvent m when (_address is null || (m.Address.Value >> 12) == (_address.Value >> 12)) && (_process is null || _process == machine.Current!.Name):
                _address ??= m.Address.Value;
                _process ??= machine.Current!.Name;
                // Explained now, before KVM or the guest handle what the walk met: the tables as the walk saw them.
                _open = new OpenWalk(m, machine.Explain(machine.Current!.Name, m.Address.Value));
                break;
        }
    }

    /// <summary>
    /// Whether an event belongs to the open walk: what the walk raised (its first event after the miss:
    /// an exit, a guest fault, MMIO) and what handling it caused, until the access retries (another miss),
    /// ends (another access) or the timeline does something else. A walk whose first event is none of
    /// those filled the TLB.
    /// </summary>
    private static bool Follows(OpenWalk open, TraceEvent e)
    {
        if (e.Access != open.Miss.Access) return false;
        if (open.Events.Count == 0)
            return e is EptViolationExit or EptMisconfigExit or PageFaultExit or PmlFullExit or MmuTrapExit or GuestFaultEvent or MmioEvent;
        return e is ExitEvent or GuestFaultEvent or HostFaultEvent or EptMapEvent or ShadowMapEvent or ShadowPrefetchEvent or ShadowUnsyncEvent
            or ShadowZapEvent or ShadowSyncEvent or EmulatedWriteEvent or MmioEvent;
    }

    /// <summary>Whether a walk's events show it ended without filling the TLB (MMU_TRAP alone is the software MMU's normal path).</summary>
    private static bool Unfilled(IEnumerable<TraceEvent> events) =>
        events.Any(e => e is EptViolationExit or EptMisconfigExit or PageFaultExit or PmlFullExit or GuestFaultEvent or MmioEvent);

    private void Close()
    {
        var open = _open!;
        _open = null;
        var filled = !Unfilled(open.Events);
        var hardware = ReportWalks.Hardware(open.Path);
        if (!filled) hardware = ReportWalks.EndedHere(hardware);
        // KVM walks the guest table after a shadow #PF, except for an MMIO entry the guest's bits allow,
        // which goes to the VMM at once; the software MMU walks it after every MMU_TRAP.
        var softwareWalked = open.Path.Mode == MmuMode.Software
                             || (open.Events.FirstOrDefault() is PageFaultExit pf && !((pf.ErrorCode & 8) != 0 && open.Events.ElementAtOrDefault(1) is MmioEvent));
        var software = softwareWalked ? ReportWalks.Software(open.Path) : [];
        _walks.Add(new WalkRecord(_walks.Count + 1, open.Miss.Access, open.Miss.Address.Value, open.Miss.Kind, open.Miss.WalkRefs, hardware, software,
            [.. open.Events], filled));
        if (filled || _walks.Count >= MaxWalks) _done = true;
    }

    /// <summary>The first walks of the address (the run's first access's when none was given).</summary>
    public FirstWalks FirstWalks()
    {
        if (_open is not null) Close();
        var filled = _walks.Count > 0 && _walks[^1].Filled;
        var note = _note ?? (_address is null ? "the run made no access"
            : _walks.Count == 0 ? "no TLB miss at this 4 KiB page in the whole run: it was never accessed, or every access hit a TLB entry filled for a larger page"
            : null);
        return new FirstWalks(_address ?? 0, _process, _defaulted, _walks.ToImmutable(), filled, !filled && _walks.Count >= MaxWalks, note);
    }

    public Timeline Timeline(RunResult run) => _timeline.Finish(run.Counters.Accesses, run.Marks);
}

/// <summary>
/// Counts TLB misses, guest and host page faults and exits by reason per bucket of accesses. When an
/// event falls past the last bucket, neighbouring buckets merge and the width doubles, so the count of
/// buckets stays bounded whatever the length of the run, and the result depends only on the events.
/// </summary>
public sealed class TimelineCounter(int capacity)
{
    private const int TlbMisses = 0, GuestFaults = 1, HostFaults = 2, FirstExit = 3;

    private readonly long[][] _counts = [.. Enumerable.Range(0, FirstExit + Vocabulary.ExitReasons.Length).Select(_ => new long[capacity])];
    private long _width = 1;

    /// <summary>The most marks drawn on a timeline; a run with more draws every k-th.</summary>
    public const int MaxMarks = 64;

    public void Count(TraceEvent e)
    {
        var series = e switch
        {
            TlbMissEvent => TlbMisses,
            GuestFaultEvent => GuestFaults,
            HostFaultEvent => HostFaults,
            ExitEvent x => FirstExit + (int)x.Reason,
            _ => -1,
        };
        if (series < 0) return;
        _counts[series][Bucket(e.Access)]++;
    }

    private long Bucket(long access)
    {
        var first = Math.Max(access - 1, 0);
        while (first / _width >= capacity) Merge();
        return first / _width;
    }

    private void Merge()
    {
        foreach (var counts in _counts)
        {
            for (var i = 0; i < capacity / 2; i++) counts[i] = counts[2 * i] + counts[2 * i + 1];
            Array.Clear(counts, capacity / 2, capacity - capacity / 2);
        }
        _width *= 2;
    }

    /// <summary>The buckets of a run of <paramref name="accesses"/> accesses, with its marks (every k-th past <see cref="MaxMarks"/>).</summary>
    public Timeline Finish(long accesses, ImmutableArray<MarkRecord> marks)
    {
        if (accesses > 0) Bucket(accesses);
        var buckets = (int)Math.Max(1, (accesses + _width - 1) / _width);
        var series = ImmutableArray.CreateBuilder<TimelineSeries>();
        for (var s = 0; s < _counts.Length; s++)
        {
            if (_counts[s].All(c => c == 0)) continue;
            var name = s switch
            {
                TlbMisses => "TLB misses",
                GuestFaults => "guest page faults",
                HostFaults => "host page faults",
                _ => ((ExitReason)(s - FirstExit)).Name(),
            };
            series.Add(new TimelineSeries(name, [.. _counts[s].Take(buckets)]));
        }
        var step = (marks.Length + MaxMarks - 1) / MaxMarks;
        var drawn = marks.Length <= MaxMarks ? marks : [.. marks.Where((_, i) => i % step == 0)];
        return new Timeline(accesses, _width, buckets, series.ToImmutable(), [.. drawn.Select(m => new TimelineMark(m.Label, m.Counters.Accesses))],
            marks.Length - drawn.Length);
    }
}
