using System.Collections.Immutable;
using MemScript.Engine.Accounting;
using MemScript.Engine.Tracing;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Engine.Interpreter;

/// <summary>The counters at a <c>mark</c>, with where it stands.</summary>
public sealed record MarkRecord(string Label, CounterSet Counters, TextSpan Span);

/// <summary>One evaluated <c>expect</c>.</summary>
public sealed record ExpectRecord(string Counter, CompareOp Op, ulong Expected, long Actual, bool Passed, TextSpan Span, string? Since = null);

/// <summary>Everything one run of a scenario in one mode produced.</summary>
public sealed record RunResult(
    MmuMode Mode,
    MachineOptions Options,
    CounterSet Counters,
    ImmutableArray<MarkRecord> Marks,
    ImmutableArray<ExpectRecord> Expects,
    Diagnostic? Error,
    bool Interrupted,
    IReadOnlyList<TraceEvent> Trace,
    long TraceDropped)
{
    public bool ExpectsPassed => Expects.All(e => e.Passed);
    public bool Success => Error is null && !Interrupted && ExpectsPassed;
}

/// <summary>How to run: the mode, tracing, limits, cancellation and progress.</summary>
public sealed record RunOptions
{
    public MmuMode? Mode { get; init; }
    public bool Trace { get; init; }
    /// <summary>Trace events kept in memory; later ones are counted as dropped (a run of billions of accesses must not keep them all).</summary>
    public int TraceLimit { get; init; } = DefaultTraceLimit;

    public const int DefaultTraceLimit = 5_000_000;

    /// <summary>Marks and expectation results a run may record: each mark keeps a copy of every counter.</summary>
    public const int MarkLimit = 10_000, ExpectLimit = 100_000;

    /// <summary>Loop iterations without an access that a run with an access limit may make (at least this many, and at least the limit).</summary>
    public const long IdleIterationFloor = 1 << 24;
    public long MaxAccesses { get; init; }

    /// <summary>Caps on page-table pages and host pages (null: the engine's defaults).</summary>
    public long? MaxTablePages { get; init; }
    public long? MaxHostPages { get; init; }

    /// <summary>The engine's acceleration layer (the default); off only to check that the results are the same.</summary>
    public bool Accelerate { get; init; } = true;
    public string BaseDirectory { get; init; } = ".";
    public CancellationToken Cancel { get; init; }

    /// <summary>Called now and then with the number of accesses done (from the running thread).</summary>
    public Action<long>? Progress { get; init; }

    /// <summary>
    /// Where the trace goes instead of a kept list (<see cref="Trace"/> and <see cref="TraceLimit"/> are then
    /// not used and the result's trace is empty): made once the machine exists, so that it may read the
    /// machine (explain an address) as events arrive. The HTML report aggregates a run of any length this way.
    /// </summary>
    public Func<Machine, ITraceSink>? TraceSink { get; init; }
}
