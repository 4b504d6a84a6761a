using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using MemScript.Cli.Study;
using MemScript.Engine.Interpreter;
using MemScript.Language.Diagnostics;

namespace MemScript.Cli.Reports;

/// <summary>
/// <c>memscript grid --format html</c>: one self-contained page with a line chart per segment of a
/// figure (default: cycles per access) against the first parameter, one line per mode and combination
/// of the other parameters, drawn by the vendored uPlot (Reports/Assets/uPlot, shared with
/// <c>memscript report</c>) inlined into the page.
/// The page is drawn from the study's CSV (<see cref="StudySheet"/>), so a merge of shards draws the
/// same bytes as the whole study.
/// </summary>
public static class StudyHtmlReport
{
    /// <summary>The figure a chart draws when none is chosen.</summary>
    public const string DefaultFigure = "cycles/access";

    /// <summary>Line styles that tell apart the combinations of the other parameters of one mode (canvas dash patterns).</summary>
    private static readonly int[][] Dashes = [[], [10, 5], [3, 4], [14, 4, 3, 4], [6, 3, 1, 3, 1, 3], [1, 6]];

    /// <summary>
    /// Colours for the lines when a study runs one mode, so that they differ by colour rather than by
    /// dash: Paul Tol's "bright" scheme (colour-blind safe), as the report's timeline uses.
    /// </summary>
    private static readonly string[] Palette = ["#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB"];

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Every figure and counter a chart can draw: the columns of the study that hold numbers.</summary>
    public static ImmutableArray<string> Drawable => [.. Segments.Figures, .. StudyTable.Counters];

    /// <summary>
    /// A log scale when the values span more than two orders of magnitude (largest over smallest above
    /// 100): only when every value is above 0, as a log axis has no place for 0.
    /// </summary>
    public static bool LogScale(IEnumerable<double> values)
    {
        var (min, max, any) = (double.PositiveInfinity, 0.0, false);
        foreach (var v in values)
        {
            if (!(v > 0)) return false;
            (min, max, any) = (Math.Min(min, v), Math.Max(max, v), true);
        }
        return any && max / min > 100;
    }

    /// <summary>One line of a chart: its label, colour, dash, and its value at each point of the x axis (null where none).</summary>
    public sealed record Line(string Label, MmuMode Mode, string Color, int[] Dash, double?[] Values);

    /// <summary>One chart: a segment, its lines, and whether its y axis is logarithmic.</summary>
    public sealed record Chart(int Segment, string Name, ImmutableArray<Line> Lines, bool LogY);

    /// <summary>The x axis: the first parameter's values as written, and where each stands (its value, or its position when not every value is a number).</summary>
    public sealed record Axis(string Name, ImmutableArray<string> Labels, ImmutableArray<double> Positions, bool Numeric, bool Log);

    /// <summary>The x axis of a sheet: its first parameter's values in ascending order of their numbers.</summary>
    public static Axis XAxis(StudySheet sheet)
    {
        var labels = sheet.Rows.Select(r => r.Values[0]).Distinct(StringComparer.Ordinal).ToList();
        var numbers = labels.Select(l => ParameterValues.Standalone(l)).ToList();
        // The values are numbers when each reads on its own (64K, 2M * 3) and no two are equal; one that
        // needs the file (ws / 4 when ws is another let) leaves the axis as the values in their order.
        if (numbers.All(n => n is not null) && numbers.Distinct().Count() == numbers.Count)
        {
            var sorted = labels.Zip(numbers, (l, n) => (Label: l, Value: (double)n!.Value)).OrderBy(p => p.Value).ToList();
            var positions = sorted.Select(p => p.Value).ToImmutableArray();
            return new Axis(sheet.Parameters[0], [.. sorted.Select(p => p.Label)], positions, true, LogScale(positions));
        }
        return new Axis(sheet.Parameters[0], [.. labels], [.. labels.Select((_, i) => (double)i)], false, false);
    }

    /// <summary>The charts of a sheet for one figure: a chart per segment, the last segment (usually the measured part) first.</summary>
    public static ImmutableArray<Chart> Charts(StudySheet sheet, Axis axis, string figure)
    {
        var column = sheet.Column(figure);
        var modes = sheet.Rows.Select(r => r.Mode).Distinct().Order().ToList();
        // The other parameters' values of a row, as the line's label shows them: those that vary (one
        // value the whole study keeps, such as a --set reads=64K, tells no line from another).
        var varying = Enumerable.Range(1, sheet.Parameters.Length - 1)
            .Where(i => sheet.Rows.Select(r => r.Values[i]).Distinct(StringComparer.Ordinal).Skip(1).Any()).ToList();
        string Others(SheetRow r) => string.Join(' ', varying.Select(i => $"{sheet.Parameters[i]}={r.Values[i]}"));
        var others = sheet.Rows.Select(Others).Distinct(StringComparer.Ordinal).ToList();
        var byPoint = sheet.Rows.Where(r => r.Segment is not null)
            .GroupBy(r => (r.Segment!.Value, r.Mode, Others(r), r.Values[0]))
            .ToDictionary(g => g.Key, g => g.First());
        var charts = ImmutableArray.CreateBuilder<Chart>();
        foreach (var segment in sheet.Rows.Where(r => r.Segment is not null).Select(r => r.Segment!.Value).Distinct().OrderDescending())
        {
            var names = sheet.Rows.Where(r => r.Segment == segment).Select(r => r.SegmentName).Distinct(StringComparer.Ordinal).ToList();
            var lines = ImmutableArray.CreateBuilder<Line>();
            for (var o = 0; o < others.Count; o++)
            {
                foreach (var mode in modes)
                {
                    var values = axis.Labels.Select(x => byPoint.TryGetValue((segment, mode, others[o], x), out var row) ? Number(row.Fields[column]) : null).ToArray();
                    var label = Vocabulary.ModeName(mode) + (others[o].Length > 0 ? ", " + others[o] : "");
                    var (color, dash) = modes.Count > 1 ? (HtmlReport.ModeColor(mode), Dashes[o % Dashes.Length]) : (Palette[o % Palette.Length], Dashes[0]);
                    lines.Add(new Line(label, mode, color, dash, values));
                }
            }
            var drawn = lines.SelectMany(l => l.Values).OfType<double>();
            charts.Add(new Chart(segment, names.Count == 1 ? names[0] : "", lines.ToImmutable(), LogScale(drawn)));
        }
        return charts.ToImmutable();
    }

    public static string Render(string displayPath, StudySheet sheet, string figure = DefaultFigure)
    {
        var sb = new StringBuilder();
        var title = $"MemScript study: {displayPath}";
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append($"<title>{E(title)}</title>\n<style>\n{HtmlReport.Css}\n{HtmlCharts.Css}\n{Css}\n</style>\n</head>\n<body>\n<main>\n");
        sb.Append($"<h1>{E(title)}</h1>\n");
        sb.Append($"<p class=\"summary\">{E(Summary(sheet))}</p>\n");
        if (sheet.Parameters.IsEmpty || sheet.Rows.IsEmpty)
        {
            sb.Append("<p>Nothing to draw: a chart draws a figure against the first <code>--set</code> parameter, and this study has ");
            sb.Append(sheet.Parameters.IsEmpty ? "none" : "no rows").Append(".</p>\n");
            Failures(sb, sheet);
            sb.Append("</main>\n</body>\n</html>\n");
            return sb.ToString();
        }
        var axis = XAxis(sheet);
        var charts = Charts(sheet, axis, figure);
        for (var c = 0; c < charts.Length; c++) Section(sb, axis, charts[c], figure, c);
        Failures(sb, sheet);
        sb.Append("<script type=\"application/json\" id=\"study-data\">").Append(Data(axis, charts, figure)).Append("</script>\n");
        // uPlot's licence travels with it, as the MIT licence asks.
        HtmlCharts.UPlot(sb);
        sb.Append("<script>\n").Append(Script).Append("</script>\n");
        sb.Append("</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>What the study is: how many combinations of which parameters, the modes.</summary>
    private static string Summary(StudySheet sheet)
    {
        var combinations = sheet.Rows.Select(r => r.Combination).Distinct().Count();
        var parameters = sheet.Parameters.Select((p, i) =>
        {
            var n = sheet.Rows.Select(r => r.Values[i]).Distinct(StringComparer.Ordinal).Count();
            return $"{p} ({Count(n, "value")})";
        });
        var modes = sheet.Rows.Select(r => r.Mode).Distinct().Order().Select(Vocabulary.ModeName);
        var failed = sheet.Rows.Where(r => r.Error.Length > 0).Select(r => r.Combination).Distinct().Count();
        return $"{Count(combinations, "combination")}" + (sheet.Parameters.IsEmpty ? "" : $" of {string.Join(" x ", parameters)}") +
               $"; modes {string.Join(", ", modes)}" + (failed > 0 ? $"; {Count(failed, "combination")} failed (listed below)" : "") + ".";
    }

    private static void Section(StringBuilder sb, Axis axis, Chart chart, string figure, int index)
    {
        var segment = chart.Segment.ToString(Invariant) + (chart.Name.Length > 0 ? $" \"{chart.Name}\"" : "");
        sb.Append($"<section class=\"study-chart\" id=\"chart-{index.ToString(Invariant)}\">\n");
        sb.Append($"<h2>{E(figure)} against {E(axis.Name)}: segment {E(segment)}</h2>\n");
        var scales = new List<string>();
        if (axis.Log) scales.Add($"{axis.Name} on a log scale");
        if (chart.LogY) scales.Add($"{figure} on a log scale (the values span more than two orders of magnitude)");
        if (!axis.Numeric) scales.Add($"{axis.Name}'s values in the order given (not all of them read as numbers on their own)");
        if (scales.Count > 0) sb.Append($"<p class=\"scales\">{E(string.Join("; ", scales))}.</p>\n");
        sb.Append($"<div class=\"plot\" id=\"plot-{index.ToString(Invariant)}\" role=\"img\" aria-label=\"{E(figure)} against {E(axis.Name)}, segment {E(segment)}\"></div>\n");
        // The numbers behind the lines, for reading exact values and for a page without scripts.
        sb.Append("<details><summary>The values</summary>\n<table class=\"numbers\">\n<thead><tr>");
        sb.Append($"<th>{E(axis.Name)}</th>");
        foreach (var line in chart.Lines) sb.Append($"<th>{E(line.Label)}</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        for (var x = 0; x < axis.Labels.Length; x++)
        {
            sb.Append($"<tr><td>{E(axis.Labels[x])}</td>");
            foreach (var line in chart.Lines) sb.Append($"<td>{(line.Values[x] is { } v ? Format(v) : "-")}</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n</details>\n</section>\n");
    }

    private static void Failures(StringBuilder sb, StudySheet sheet)
    {
        var failures = sheet.Rows.Where(r => r.Error.Length > 0)
            .GroupBy(r => (r.Combination, r.Error))
            .Select(g => (g.First(), Modes: g.Select(r => r.Mode).Distinct().Select(Vocabulary.ModeName)))
            .ToList();
        if (failures.Count == 0) return;
        sb.Append("<section id=\"failures\">\n<h2>Failed combinations</h2>\n<ul>\n");
        foreach (var (row, modes) in failures)
        {
            var values = string.Join(' ', sheet.Parameters.Select((p, i) => $"{p}={row.Values[i]}"));
            sb.Append($"<li class=\"problem\">combination {row.Combination.ToString(Invariant)} {E(values)} ({string.Join(", ", modes)}): {E(row.Error)}</li>\n");
        }
        sb.Append("</ul>\n</section>\n");
    }

    /// <summary>What the script draws, as JSON (its text escaped so that it cannot close the script element).</summary>
    private static string Data(Axis axis, ImmutableArray<Chart> charts, string figure)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.Default }))
        {
            w.WriteStartObject();
            w.WriteString("figure", figure);
            w.WriteNumber("decimals", Segments.Figures.Contains(figure) ? 3 : 0);
            w.WriteStartObject("x");
            w.WriteString("name", axis.Name);
            w.WriteBoolean("log", axis.Log);
            w.WriteStartArray("labels");
            foreach (var l in axis.Labels) w.WriteStringValue(l);
            w.WriteEndArray();
            w.WriteStartArray("positions");
            foreach (var p in axis.Positions) w.WriteNumberValue(p);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("charts");
            foreach (var chart in charts)
            {
                w.WriteStartObject();
                w.WriteBoolean("logY", chart.LogY);
                w.WriteStartArray("lines");
                foreach (var line in chart.Lines)
                {
                    w.WriteStartObject();
                    w.WriteString("label", line.Label);
                    w.WriteString("color", line.Color);
                    w.WriteStartArray("dash");
                    foreach (var d in line.Dash) w.WriteNumberValue(d);
                    w.WriteEndArray();
                    // The legend's marker: a CSS border style that resembles the line's dash.
                    w.WriteString("marker", line.Dash.Length == 0 ? "solid" : line.Dash[0] <= 3 || line.Dash.Length > 4 ? "dotted" : "dashed");
                    w.WriteStartArray("values");
                    foreach (var v in line.Values)
                    {
                        if (v is { } value) w.WriteNumberValue(value);
                        else w.WriteNullValue();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>A field of the sheet as a number: empty (no value) is null.</summary>
    private static double? Number(string field) =>
        double.TryParse(field, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, Invariant, out var v) ? v : null;

    private static string Format(double v) => v == Math.Floor(v) && Math.Abs(v) < 1e15 ? v.ToString("N0", Invariant) : v.ToString("N3", Invariant);

    private static string Count(int n, string what) => $"{n.ToString(Invariant)} {what}{(n == 1 ? "" : "s")}";

    private static string E(string text) => WebUtility.HtmlEncode(DiagnosticFormatter.Escape(text));

    private const string Css = """
        p.summary { color: #334155; }
        p.scales { color: #475569; font-size: 0.92rem; margin: 4px 0 8px; }
        section.study-chart .plot { min-height: 440px; }
        details { margin-top: 8px; }
        .uplot .u-legend { text-align: left; font-size: 13px; }
        .uplot .u-legend .u-series > * { padding: 2px 6px; }
        .uplot .u-legend .u-value { font-variant-numeric: tabular-nums; }
        """;

    /// <summary>
    /// Draws each chart with uPlot: the x axis ticks at the study's points, labelled as written; the
    /// legend under the chart shows each line's value where the pointer is (uPlot's live legend).
    /// </summary>
    private const string Script = """
        (function () {
          "use strict";
          var data = JSON.parse(document.getElementById("study-data").textContent);
          var x = data.x;
          var every = Math.max(1, Math.ceil(x.labels.length / 14));
          var charts = [];
          function label(v) {
            var i = x.positions.indexOf(v);
            return i < 0 ? "" : x.labels[i];
          }
          function number(v) {
            return v == null ? "-" : v.toLocaleString("en-US", { minimumFractionDigits: data.decimals, maximumFractionDigits: data.decimals });
          }
          data.charts.forEach(function (chart, c) {
            var element = document.getElementById("plot-" + c);
            var width = Math.max(480, Math.min(1100, element.clientWidth || 1100));
            var series = [{ label: x.name, value: function (u, v) { return v == null ? "-" : label(v); } }];
            var columns = [x.positions];
            chart.lines.forEach(function (line) {
              series.push({
                label: line.label, stroke: line.color, width: 2, dash: line.dash,
                points: { show: true, size: 6, fill: line.color },
                value: function (u, v) { return number(v); }
              });
              columns.push(line.values);
            });
            var options = {
              width: width, height: 420,
              scales: {
                x: { time: false, distr: x.log ? 3 : 1, log: 2 },
                y: { distr: chart.logY ? 3 : 1, log: 10 }
              },
              axes: [
                {
                  label: x.name + (x.log ? " (log scale)" : ""),
                  splits: function () { return x.positions; },
                  values: function (u, splits) { return splits.map(function (v, i) { return i % every === 0 ? label(v) : ""; }); }
                },
                { label: data.figure + (chart.logY ? " (log scale)" : ""), size: 70 }
              ],
              series: series,
              legend: { live: true, markers: { width: 3, dash: function (u, i) { return i === 0 ? "solid" : chart.lines[i - 1].marker; } } }
            };
            charts.push(new uPlot(options, columns, element));
          });
          // Kept for the console (and the tests): each chart's uPlot, in page order.
          window.studyCharts = charts;
        })();

        """;
}
