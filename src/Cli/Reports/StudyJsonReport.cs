using System.Text.Json;
using MemScript.Cli.Study;
using MemScript.Engine.Interpreter;

namespace MemScript.Cli.Reports;

/// <summary>
/// <c>memscript grid --format json</c>: the study as one document. Each combination carries its index,
/// its values as written and as numbers, and its runs in mode order, each with its segments in the
/// shape of <c>run --format json</c> (every counter and every exit reason, 0 when none, and the
/// figures rounded to three decimals) and its problems; a combination that did not check carries its
/// problems instead of runs.
/// </summary>
public static class StudyJsonReport
{
    public static string Render(StudyResult study) => JsonReport.Document(w =>
    {
        w.WriteStartObject();
        w.WriteString("file", study.DisplayPath);
        w.WriteStartArray("parameters");
        foreach (var p in study.Plan.Parameters)
        {
            w.WriteStartObject();
            w.WriteString("name", p.Name);
            w.WriteStartArray("values");
            foreach (var v in p.Values) w.WriteStringValue(StudyParameter.Display(v));
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("modes");
        foreach (var m in study.Modes) w.WriteStringValue(Vocabulary.ModeName(m));
        w.WriteEndArray();
        w.WriteNumber("combinations", study.Plan.Count);
        if (!study.Shard.IsWhole)
        {
            w.WriteStartObject("shard");
            w.WriteNumber("index", study.Shard.Index);
            w.WriteNumber("count", study.Shard.Count);
            w.WriteEndObject();
        }
        w.WriteStartArray("results");
        foreach (var c in study.Combinations) WriteCombination(w, study, c);
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static void WriteCombination(Utf8JsonWriter w, StudyResult study, CombinationResult c)
    {
        w.WriteStartObject();
        w.WriteNumber("combination", c.Index);
        w.WriteStartObject("set");
        for (var i = 0; i < study.Plan.Parameters.Length; i++) w.WriteString(study.Plan.Parameters[i].Name, StudyParameter.Display(c.Values[i]));
        w.WriteEndObject();
        w.WriteStartObject("values");
        for (var i = 0; i < study.Plan.Parameters.Length; i++)
        {
            if (c.Numbers[i] is { } n) w.WriteNumber(study.Plan.Parameters[i].Name, n);
            else w.WriteNull(study.Plan.Parameters[i].Name);
        }
        w.WriteEndObject();
        if (!c.CheckProblems.IsEmpty) WriteProblems(w, c.CheckProblems);
        w.WriteStartArray("runs");
        var native = c.Native;
        foreach (var run in c.Runs)
        {
            w.WriteStartObject();
            w.WriteString("mode", Vocabulary.ModeName(run.Mode));
            w.WriteStartArray("segments");
            foreach (var segment in run.Segments)
            {
                var nativeSegment = native is not null && segment.Index < native.Segments.Length ? native.Segments[segment.Index] : null;
                w.WriteStartObject();
                w.WriteNumber("index", segment.Index);
                w.WriteString("name", segment.Name);
                w.WriteStartObject("counters");
                foreach (var counter in StudyTable.Counters) w.WriteNumber(counter, segment.Counters.Get(counter));
                w.WriteEndObject();
                JsonReport.WriteFigures(w, segment, nativeSegment, withSlowdown: true, run.ClockHz);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (!run.Problems.IsEmpty) WriteProblems(w, run.Problems);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteProblems(Utf8JsonWriter w, IEnumerable<string> problems)
    {
        w.WriteStartArray("problems");
        foreach (var p in problems) w.WriteStringValue(p);
        w.WriteEndArray();
    }
}
