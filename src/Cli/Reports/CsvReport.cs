using System.Globalization;
using System.Text;
using MemScript.Engine.Interpreter;
using MemScript.Language.Diagnostics;

namespace MemScript.Cli.Reports;

/// <summary>
/// <c>--format csv</c>: one row per counter, a column per mode, for spreadsheets. A run that failed adds
/// rows in the same columns: one per failed expectation and one for run-time errors, each cell the
/// diagnostic line of that mode (<c>file:line:col: error MSxxxx: message</c>) or empty where it held.
/// </summary>
public static class CsvReport
{
    public static string Render(ReportContext context)
    {
        var sb = new StringBuilder();
        sb.Append("counter");
        foreach (var run in context.Runs) sb.Append(',').Append(Vocabulary.ModeName(run.Mode));
        sb.Append('\n');
        var names = context.Runs.SelectMany(r => r.Counters.Named().Select(n => n.Name)).Distinct().ToList();
        foreach (var name in names)
        {
            sb.Append(name);
            foreach (var run in context.Runs) sb.Append(',').Append(run.Counters.Get(name).ToString(CultureInfo.InvariantCulture));
            sb.Append('\n');
        }

        // Each segment's accesses, cycles and derived figures: "segment INDEX NAME: WHAT" rows, three decimals.
        var segments = context.Runs.Select(r => Segments.Of(r)).ToList();
        var native = context.Runs.ToList().FindIndex(r => r.Mode == MmuMode.Native);
        var longest = segments.Count == 0 ? [] : segments.MaxBy(x => x.Length);
        for (var i = 0; i < longest.Length; i++)
        {
            var label = $"segment {i} {DiagnosticFormatter.Escape(longest[i].Name)}: ";
            Row(sb, label + "accesses", segments.Select(x => i < x.Length ? x[i].Counters.Accesses.ToString(CultureInfo.InvariantCulture) : ""));
            Row(sb, label + "cycles", segments.Select(x => i < x.Length ? x[i].Counters.Cycles.ToString(CultureInfo.InvariantCulture) : ""));
            foreach (var figure in Segments.Figures)
            {
                if (figure == "slowdown" && native < 0) continue;
                Row(sb, label + figure, segments.Select((x, m) => i >= x.Length ? ""
                    : Three(Segments.Figure(figure, x[i], context.Runs[m].Options.ClockHz, native >= 0 && i < segments[native].Length ? segments[native][i] : null))));
            }
        }

        // One row per expectation that failed in some mode, in source order; then one for run-time errors.
        var failedSpans = context.Runs.SelectMany(r => r.Expects.Where(e => !e.Passed).Select(e => e.Span)).Distinct().OrderBy(s => s.Start).ToList();
        foreach (var span in failedSpans)
        {
            sb.Append("failed expect");
            foreach (var run in context.Runs)
            {
                var failed = ReportContext.Problems(run).FirstOrDefault(d => d.Code == "MS0701" && d.Span == span);
                sb.Append(',').Append(failed is null ? "" : Field(DiagnosticFormatter.Headline(context.Source, failed)));
            }
            sb.Append('\n');
        }
        if (context.Runs.Any(r => r.Error is not null))
        {
            sb.Append("error");
            foreach (var run in context.Runs) sb.Append(',').Append(run.Error is { } e ? Field(DiagnosticFormatter.Headline(context.Source, e)) : "");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static void Row(StringBuilder sb, string label, IEnumerable<string> cells)
    {
        sb.Append(Field(label));
        foreach (var cell in cells) sb.Append(',').Append(cell);
        sb.Append('\n');
    }

    /// <summary>A figure with three decimals; empty where it has no value.</summary>
    public static string Three(double? value) => value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "";

    /// <summary>A field quoted as RFC 4180 asks when it holds a comma, a quote or a line break.</summary>
    private static string Field(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
