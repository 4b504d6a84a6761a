using System.Reflection;
using System.Text;
using System.Text.Json;
using MemScript.Engine.Interpreter;
using MemScript.Language.Diagnostics;

namespace MemScript.Cli.Reports;

/// <summary>
/// The page's line charts: the data they draw (JSON in the page, from <see cref="ReportData"/>) and the
/// inlined scripts that draw them (the vendored uPlot and Assets/report.js), so that the page stays one
/// self-contained file. Bar charts and the walk drawings are SVG written by <see cref="HtmlReport"/>.
/// </summary>
public static class HtmlCharts
{
    /// <summary>Colours of the events on the timeline: Paul Tol's "bright" scheme (colour-blind safe), with dashes as a second cue.</summary>
    private static readonly (string Color, int[] Dash)[] EventStyles =
    [
        ("#4477AA", []), ("#228833", [6, 3]), ("#CCBB44", [2, 3]), ("#EE6677", []), ("#AA3377", [6, 3]),
        ("#66CCEE", [2, 3]), ("#332288", [8, 3, 2, 3]), ("#BBBBBB", []), ("#000000", [1, 2]), ("#117733", [8, 4]),
    ];

    private static readonly string[] EventOrder =
        ["TLB misses", "guest page faults", "host page faults", .. Vocabulary.ExitReasons.Select(r => r.Name)];

    /// <summary>The colour and dash pattern of a timeline series, fixed by its name so that every page agrees.</summary>
    public static (string Color, int[] Dash) StyleOf(string series)
    {
        var i = Array.IndexOf(EventOrder, series);
        return EventStyles[(i < 0 ? EventOrder.Length : i) % EventStyles.Length];
    }

    /// <summary>The id of a mode's timeline chart.</summary>
    public static string TimelineId(MmuMode mode) => "timeline-" + Vocabulary.ModeName(mode);

    public const string SegmentChartId = "segment-chart";

    /// <summary>The JSON the chart script reads: every timeline, and cycles per access by segment when there is more than one.</summary>
    public static string Data(ReportData data)
    {
        var timelines = data.Modes.Select(m => new
        {
            id = TimelineId(m.Mode),
            mode = Vocabulary.ModeName(m.Mode),
            width = m.Timeline.BucketWidth,
            buckets = m.Timeline.Buckets,
            series = m.Timeline.Series.Select(s => new { name = s.Name, color = StyleOf(s.Name).Color, dash = StyleOf(s.Name).Dash, counts = s.Counts }),
            marks = m.Timeline.Marks.Select(k => new { label = DiagnosticFormatter.Escape(k.Label), access = k.Access }),
        });
        object? segments = null;
        var perRun = data.Runs.Select(r => Segments.Of(r)).ToList();
        var longest = perRun.MaxBy(s => s.Length);
        if (longest.Length > 1)
        {
            var shown = ReportDataText.Shown(longest.Length).ToList();
            segments = new
            {
                id = SegmentChartId,
                labels = shown.Select(i => $"{i} {DiagnosticFormatter.Escape(longest[i].Name)}"),
                series = data.Runs.Select((r, k) => new
                {
                    name = Vocabulary.ModeName(r.Mode),
                    color = HtmlReport.ModeColor(r.Mode),
                    dash = HtmlReport.ModeDash(r.Mode),
                    values = shown.Select(i => i < perRun[k].Length ? perRun[k][i].CyclesPerAccess : null),
                }),
            };
        }
        // The default encoder escapes <, > and & as \u003C..., so no text can close the script element.
        return JsonSerializer.Serialize(new { timelines, segments });
    }

    /// <summary>The scripts at the end of the page: uPlot with its licence, the data, and the chart script.</summary>
    public static void Scripts(StringBuilder sb, ReportData data)
    {
        UPlot(sb);
        sb.Append("<script type=\"application/json\" id=\"report-data\">").Append(Data(data)).Append("</script>\n");
        sb.Append("<script>\n").Append(Asset("report.js")).Append("</script>\n");
    }

    /// <summary>The vendored uPlot with its licence, as a script element: the report's and the study's pages draw with it.</summary>
    public static void UPlot(StringBuilder sb)
    {
        sb.Append("<script>\n/*! uPlot 1.6.32, inlined from the npm package 'uplot'.\n").Append(Asset("LICENSE").Replace("*/", "* /", StringComparison.Ordinal)).Append("*/\n");
        sb.Append(Asset("uPlot.iife.min.js")).Append("\n</script>\n");
    }

    /// <summary>uPlot's style sheet, for the page's style element.</summary>
    public static string Css => Asset("uPlot.min.css");

    private static string Asset(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("MemScript.Cli.Reports.Assets." + name)
                           ?? throw new InvalidOperationException($"the report asset {name} is not embedded in the command");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
    }
}
