using System.Globalization;
using System.Text;

namespace MemScript.Cli.Reports;

/// <summary><c>--format csv</c>: one row per counter, a column per mode, for spreadsheets.</summary>
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
            foreach (var run in context.Runs)
            {
                var value = run.Counters.Named().FirstOrDefault(n => n.Name == name).Value;
                sb.Append(',').Append(value.ToString(CultureInfo.InvariantCulture));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
