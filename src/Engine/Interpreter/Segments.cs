using System.Collections.Immutable;
using MemScript.Engine.Accounting;

namespace MemScript.Engine.Interpreter;

/// <summary>
/// One segment of a run (LANGUAGE.md v2, "Segments"): from the start, or a mark, to the next mark or the
/// end. <see cref="Name"/> is the mark that opens it (<c>start</c> for the first); <see cref="Counters"/>
/// is what happened in it.
/// </summary>
public sealed record Segment(int Index, string Name, CounterSet Counters)
{
    /// <summary>Cycles per access; null for a segment with no access.</summary>
    public double? CyclesPerAccess => Counters.Accesses == 0 ? null : (double)Counters.Cycles / Counters.Accesses;

    /// <summary>TLB misses per TLB lookup (hits and misses, retries included); null without lookups.</summary>
    public double? TlbMissRate => Counters.TlbHits + Counters.TlbMisses == 0 ? null : (double)Counters.TlbMisses / (Counters.TlbHits + Counters.TlbMisses);

    /// <summary>VM exits per 1,000 accesses; null for a segment with no access.</summary>
    public double? ExitsPerThousand => Counters.Accesses == 0 ? null : Counters.Exits * 1000.0 / Counters.Accesses;

    /// <summary>Bandwidth at 8 bytes per access in MB/s (10^6 bytes) at <paramref name="clockHz"/>; null when no cycle passed.</summary>
    public double? Bandwidth(ulong clockHz) => Counters.Cycles == 0 || Counters.Accesses == 0 ? null : Counters.Accesses * 8.0 / ((double)Counters.Cycles / clockHz) / 1e6;

    /// <summary>This segment's cycles against the same segment of a native run; null when that one has none.</summary>
    public double? SlowdownAgainst(Segment native) => native.Counters.Cycles == 0 ? null : (double)Counters.Cycles / native.Counters.Cycles;
}

/// <summary>The segments of runs: k marks make k + 1 segments, empty ones included.</summary>
public static class Segments
{
    public const string FirstName = "start";

    public static ImmutableArray<Segment> Of(RunResult run)
    {
        var segments = ImmutableArray.CreateBuilder<Segment>(run.Marks.Length + 1);
        var (name, before) = (FirstName, CounterSet.Zero);
        foreach (var mark in run.Marks)
        {
            segments.Add(new Segment(segments.Count, name, mark.Counters.Subtract(before)));
            (name, before) = (mark.Label, mark.Counters);
        }
        segments.Add(new Segment(segments.Count, name, run.Counters.Subtract(before)));
        return segments.MoveToImmutable();
    }

    /// <summary>The figures every report gives a segment, by name, in order: what the study tables and charts can plot.</summary>
    public static readonly ImmutableArray<string> Figures = ["cycles/access", "tlb miss rate", "exits/1000", "slowdown", "bandwidth MB/s"];

    /// <summary>A figure of a segment (null when it has no value: no accesses, or no native run to compare with).</summary>
    public static double? Figure(string figure, Segment segment, ulong clockHz, Segment? native) => figure switch
    {
        "cycles/access" => segment.CyclesPerAccess,
        "tlb miss rate" => segment.TlbMissRate,
        "exits/1000" => segment.ExitsPerThousand,
        "slowdown" => native is null ? null : segment.SlowdownAgainst(native),
        "bandwidth MB/s" => segment.Bandwidth(clockHz),
        _ => throw new ArgumentException($"unknown figure '{figure}'", nameof(figure)),
    };
}
