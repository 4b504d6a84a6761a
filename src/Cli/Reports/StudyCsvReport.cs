using System.Globalization;
using System.Text;
using MemScript.Cli.Study;
using MemScript.Engine.Interpreter;
using MemScript.Language.Diagnostics;

namespace MemScript.Cli.Reports;

/// <summary>
/// <c>memscript grid --format csv</c>: a header, then one line per combination, mode and segment, in
/// that order (RFC 4180; counters as integers, figures with three decimals, empty where a figure has no
/// value or a combination did not run). No field holds a line break, and the first is the
/// combination's index, so shards merge with a stable numeric sort on the first field (docs/studies.md).
/// </summary>
public static class StudyCsvReport
{
    public static string Render(StudyResult study)
    {
        var sb = new StringBuilder(Header(study.Plan)).Append('\n');
        foreach (var row in StudyTable.Rows(study))
        {
            var combination = row.Combination;
            sb.Append(combination.Index.ToString(CultureInfo.InvariantCulture));
            foreach (var value in combination.Values) sb.Append(',').Append(Field(StudyParameter.Display(value)));
            sb.Append(',').Append(Vocabulary.ModeName(row.Mode));
            sb.Append(',').Append(row.Segment?.Index.ToString(CultureInfo.InvariantCulture) ?? "");
            sb.Append(',').Append(row.Segment is { } s ? Field(DiagnosticFormatter.Escape(s.Name)) : "");
            foreach (var counter in StudyTable.Counters) sb.Append(',').Append(row.Counter(counter)?.ToString(CultureInfo.InvariantCulture) ?? "");
            foreach (var figure in Segments.Figures) sb.Append(',').Append(CsvReport.Three(row.Value(figure)));
            sb.Append(',').Append(Field(row.Error));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The header line (without its line break) of a study with these parameters.</summary>
    public static string Header(StudyPlan plan) => string.Join(',', StudyTable.Columns(plan).Select(Field));

    /// <summary>A field quoted as RFC 4180 asks when it holds a comma or a quote (line breaks never reach here: user text is escaped).</summary>
    public static string Field(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
