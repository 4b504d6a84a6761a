using System.Collections.Immutable;
using MemScript.Engine.Interpreter;
using MemScript.Language.Syntax;

namespace MemScript.Cli.Study;

/// <summary>One mode's run of one combination: its segments (LANGUAGE.md v2) and its problems, each a diagnostic's headline.</summary>
public sealed record ModeRun(MmuMode Mode, ImmutableArray<Segment> Segments, ulong ClockHz, ImmutableArray<string> Problems);

/// <summary>
/// One combination of a study: the values it gave the parameters (as written, and as numbers where they
/// could be evaluated), and its runs in mode order; when the file did not check with these values,
/// <see cref="CheckProblems"/> says why and there are no runs.
/// </summary>
public sealed record CombinationResult(int Index, ImmutableArray<string> Values, ImmutableArray<ulong?> Numbers, ImmutableArray<string> CheckProblems, ImmutableArray<ModeRun> Runs)
{
    public bool Failed => !CheckProblems.IsEmpty || Runs.Any(r => !r.Problems.IsEmpty);

    /// <summary>This combination's native run, which every mode's slowdown is measured against; null when native did not run.</summary>
    public ModeRun? Native => Runs.FirstOrDefault(r => r.Mode == MmuMode.Native);
}

/// <summary>What a study ran: the file, the plan, the modes, the shard, and each combination of the shard in index order.</summary>
public sealed record StudyResult(
    string DisplayPath,
    SourceText Source,
    StudyPlan Plan,
    ImmutableArray<MmuMode> Modes,
    Shard Shard,
    ImmutableArray<CombinationResult> Combinations,
    ImmutableArray<string> Warnings)
{
    public bool Failed => Combinations.Any(c => c.Failed);
}

/// <summary>
/// One row of a study: a combination, a mode and a segment, with the counters and figures of that
/// segment. A combination that did not check has one row per mode with no segment; a row's
/// <see cref="Error"/> is every problem of its run (or of its check), empty when there was none.
/// </summary>
public sealed record StudyRow(CombinationResult Combination, MmuMode Mode, Segment? Segment, Segment? NativeSegment, ulong ClockHz, string Error)
{
    /// <summary>A counter of the segment by its <c>expect</c> name; null for a row without a segment.</summary>
    public long? Counter(string name) => Segment?.Counters.Get(name);

    /// <summary>A figure of the segment (one of <see cref="Segments.Figures"/>) or a counter by name; null where it has no value.</summary>
    public double? Value(string name) => Segment is not { } segment ? null
        : Segments.Figures.Contains(name) ? Segments.Figure(name, segment, ClockHz, NativeSegment)
        : segment.Counters.Get(name);
}

/// <summary>The rows and columns every format of a study shares (LANGUAGE.md v2, "Parameters and studies").</summary>
public static class StudyTable
{
    public const string CombinationColumn = "combination";
    public const string ModeColumn = "mode";
    public const string SegmentColumn = "segment";
    public const string SegmentNameColumn = "segment name";
    public const string ErrorColumn = "error";

    /// <summary>Every counter, every exit reason included (0 when none), in report order.</summary>
    public static readonly ImmutableArray<string> Counters = [.. Vocabulary.CounterNames()];

    /// <summary>
    /// The columns: the combination's index (first, so that shards merge by a numeric sort of one
    /// field), the parameters, the mode, the segment's index and name, every counter, the figures, and
    /// the error.
    /// </summary>
    public static ImmutableArray<string> Columns(StudyPlan plan) =>
        [CombinationColumn, .. plan.Parameters.Select(p => p.Name), ModeColumn, SegmentColumn, SegmentNameColumn, .. Counters, .. Segments.Figures, ErrorColumn];

    /// <summary>The rows in the study's order: combination index, then mode order, then segment index.</summary>
    public static IEnumerable<StudyRow> Rows(StudyResult study)
    {
        foreach (var combination in study.Combinations)
        {
            if (!combination.CheckProblems.IsEmpty)
            {
                var error = string.Join("; ", combination.CheckProblems);
                foreach (var mode in study.Modes) yield return new StudyRow(combination, mode, null, null, 0, error);
                continue;
            }
            var native = combination.Native;
            foreach (var run in combination.Runs)
            {
                var error = string.Join("; ", run.Problems);
                foreach (var segment in run.Segments)
                {
                    var nativeSegment = native is not null && segment.Index < native.Segments.Length ? native.Segments[segment.Index] : null;
                    yield return new StudyRow(combination, run.Mode, segment, nativeSegment, run.ClockHz, error);
                }
            }
        }
    }
}
