using System.Globalization;
using System.Net;
using System.Text;
using MemScript.Engine.Accounting;
using MemScript.Engine.Interpreter;
using MemScript.Engine.Memory;
using MemScript.Language.Diagnostics;

namespace MemScript.Cli.Reports;

/// <summary>
/// <c>memscript report</c>: one self-contained HTML page (inline CSS, SVG and scripts, no network) that
/// draws a <see cref="ReportData"/>: the verdict, the counters, where the cycles went, the segments, the
/// timeline, the exits, the first walks of an address, its translation path, the memslot map, which
/// assumption decides, and the scenario. The same data gives the same bytes on every machine.
/// </summary>
public static class HtmlReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// Cost categories, in <see cref="CycleBreakdown.Categories"/> order: Paul Tol's "muted" scheme
    /// (colour-blind safe), none of them a mode colour.
    /// </summary>
    private static readonly string[] CategoryColors =
        ["#DDDDDD", "#88CCEE", "#44AA99", "#CC6677", "#117733", "#882255", "#999933", "#DDCC77", "#332288", "#666666"];

    /// <summary>Mode colours: the Okabe-Ito scheme (colour-blind safe), none of them a category colour; charts add a dash per mode.</summary>
    public static string ModeColor(MmuMode mode) => mode switch
    {
        MmuMode.Native => "#000000", MmuMode.Software => "#E69F00", MmuMode.Shadow => "#CC79A7", _ => "#0072B2",
    };

    /// <summary>A mode's dash pattern on the line charts, so that modes differ by more than their colour (solid for ept).</summary>
    public static int[] ModeDash(MmuMode mode) => mode switch
    {
        MmuMode.Native => [2, 3], MmuMode.Software => [8, 4], MmuMode.Shadow => [4, 2, 1, 2], _ => [],
    };

    // Control characters are shown as escapes: HTML-encoding leaves them as they are (a terminal that
    // shows the file would obey them), and a browser draws nothing for most of them. Tabs stay for the source.
    internal static string E(string text) => WebUtility.HtmlEncode(DiagnosticFormatter.Escape(text, keepTabs: true));
    internal static string N(long v) => v.ToString("N0", Invariant);
    internal static string N(ulong v) => v.ToString("N0", Invariant);
    internal static string F(double v) => v.ToString("0.#", Invariant);
    internal static string Mode(MmuMode mode) => Vocabulary.ModeName(mode);

    /// <summary>A mode's name with its colour swatch.</summary>
    internal static string ModeKey(MmuMode mode) =>
        $"<span class=\"mode-key\"><span class=\"swatch\" style=\"background:{ModeColor(mode)}\"></span>{Mode(mode)}</span>";

    public static string Render(ReportData data)
    {
        var sb = new StringBuilder();
        var title = $"MemScript report: {data.Context.DisplayPath}";
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append($"<title>{E(title)}</title>\n<style>\n{Css}\n{HtmlCharts.Css}\n</style>\n</head>\n<body>\n<main>\n");
        sb.Append($"<h1>{E(title)}</h1>\n");
        Meta(sb, data);
        Contents(sb);
        Verdict(sb, data);
        Comparison(sb, data);
        CycleChart(sb, data);
        SegmentsSection(sb, data);
        TimelineSection(sb, data);
        Exits(sb, data);
        HtmlWalks.FirstWalks(sb, data);
        HtmlWalks.Paths(sb, data);
        HtmlMemslots.Section(sb, data);
        Assumptions(sb, data);
        Source(sb, data);
        sb.Append("</main>\n");
        HtmlCharts.Scripts(sb, data);
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>The sections in page order, by id, with their headings' words for the contents.</summary>
    public static readonly (string Id, string Title)[] Sections =
    [
        ("verdict", "At a glance"), ("comparison", "Counters"), ("cycles", "Where the cycles went"), ("segments", "Segments"),
        ("timeline", "Along the run"), ("exits", "VM exits"), ("first-walks", "The first walks"), ("paths", "The translation path"),
        ("memslots", "The memslot map"), ("assumptions", "Which assumption decides"), ("source", "The scenario"),
    ];

    private static void Meta(StringBuilder sb, ReportData data)
    {
        var runs = data.Runs;
        sb.Append($"<p class=\"meta\">profile <strong>{data.Profile.ToString().ToLowerInvariant()}</strong>; ");
        sb.Append(runs.Count == 1 ? "mode " : "modes ").Append(string.Join(" ", runs.Select(r => ModeKey(r.Mode)))).Append("; ");
        sb.Append($"clock {F(runs[0].Options.ClockHz / 1e9)} GHz.</p>\n");
    }

    private static void Contents(StringBuilder sb)
    {
        sb.Append("<nav class=\"contents\">");
        sb.Append(string.Join(" · ", Sections.Select(s => $"<a href=\"#{s.Id}\">{s.Title}</a>")));
        sb.Append("</nav>\n");
    }

    // ------------------------------------------------------------ verdict

    private static void Verdict(StringBuilder sb, ReportData data)
    {
        var runs = data.Runs;
        sb.Append("<section id=\"verdict\">\n<h2>At a glance</h2>\n<ul>\n");
        var native = runs.FirstOrDefault(r => r.Mode == MmuMode.Native);
        var virtualized = runs.Where(r => r.Mode != MmuMode.Native).OrderBy(r => r.Counters.Cycles).ToList();
        if (virtualized.Count > 1)
        {
            var best = virtualized[0];
            sb.Append($"<li class=\"winner\"><strong>{Mode(best.Mode)}</strong> is the fastest virtualized mode here: {N(best.Counters.Cycles)} cycles");
            if (native is not null && native.Counters.Cycles > 0) sb.Append($", {((double)best.Counters.Cycles / native.Counters.Cycles).ToString("0.00", Invariant)}x native");
            sb.Append(".</li>\n");
        }
        foreach (var run in runs)
        {
            var total = Math.Max(1UL, run.Counters.Cycles);
            var top = CycleBreakdown.Of(run.Counters).OrderByDescending(c => c.Cycles).Take(2).Where(c => c.Cycles > 0).ToList();
            sb.Append($"<li>{ModeKey(run.Mode)}: {N(run.Counters.Cycles)} cycles");
            if (top.Count > 0) sb.Append(", mostly ").Append(string.Join(" and ", top.Select(c => $"{E(c.Category)} ({F(100.0 * c.Cycles / total)}%)")));
            sb.Append($"; {N(run.Counters.TlbMisses)} TLB misses, {N(run.Counters.WalkRefs)} walk references, {N(run.Counters.Exits)} exits.</li>\n");
        }
        // Each failed expectation and run-time error as the text report heads it: file, line, column, code, message.
        foreach (var run in runs)
            foreach (var problem in ReportContext.Problems(run))
                sb.Append($"<li class=\"problem\">{Mode(run.Mode)}: {E(DiagnosticFormatter.Headline(data.Context.Source, problem))}</li>\n");
        sb.Append("</ul>\n</section>\n");
    }

    // ------------------------------------------------------------ tables

    private static void Comparison(StringBuilder sb, ReportData data)
    {
        var runs = data.Runs;
        sb.Append("<section id=\"comparison\">\n<h2>Counters</h2>\n<div class=\"scroll\"><table class=\"numbers\">\n<thead><tr><th>counter</th>");
        foreach (var r in runs) sb.Append($"<th>{Mode(r.Mode)}</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        var names = runs.SelectMany(r => r.Counters.Named().Select(n => n.Name)).Distinct().ToList();
        foreach (var name in names)
        {
            sb.Append($"<tr><td>{E(name)}</td>");
            foreach (var r in runs) sb.Append($"<td>{N(r.Counters.Get(name))}</td>");
            sb.Append("</tr>\n");
        }
        // A comparison needs two runs: a single-mode report has no "slowdown vs itself" row.
        if (runs.Count > 1)
        {
            var baseline = runs.FirstOrDefault(r => r.Mode == MmuMode.Native) ?? runs[0];
            sb.Append($"<tr class=\"derived\"><td>slowdown vs {Mode(baseline.Mode)}</td>");
            foreach (var r in runs)
                sb.Append($"<td>{(baseline.Counters.Cycles == 0 ? "-" : ((double)r.Counters.Cycles / baseline.Counters.Cycles).ToString("0.00", Invariant) + "x")}</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("<tr class=\"derived\"><td>time</td>");
        foreach (var r in runs) sb.Append($"<td>{E(TextReport.Time(r.Counters.Cycles, r.Options.ClockHz))}</td>");
        sb.Append("</tr>\n<tr class=\"derived\"><td>bandwidth (8 bytes per access)</td>");
        foreach (var r in runs) sb.Append($"<td>{E(TextReport.Bandwidth(r.Counters.Accesses, r.Counters.Cycles, r.Options.ClockHz))}</td>");
        sb.Append("</tr>\n</tbody>\n</table></div>\n</section>\n");
    }

    private static void Exits(StringBuilder sb, ReportData data)
    {
        var runs = data.Runs;
        sb.Append("<section id=\"exits\">\n<h2>VM exits by reason</h2>\n");
        if (runs.All(r => r.Counters.Exits == 0))
        {
            sb.Append("<p>No VM exits.</p>\n</section>\n");
            return;
        }
        sb.Append("<div class=\"scroll\"><table class=\"numbers\">\n<thead><tr><th>reason</th><th>number</th>");
        foreach (var r in runs) sb.Append($"<th>{Mode(r.Mode)}: count</th><th>cycles</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        for (var i = 0; i < Vocabulary.ExitReasons.Length; i++)
        {
            if (runs.All(r => r.Counters.ExitsByReason[i] == 0)) continue;
            var reason = (ExitReason)i;
            sb.Append($"<tr><td>{reason.Name()}</td><td>{reason.Number()?.ToString(Invariant) ?? "-"}</td>");
            foreach (var r in runs) sb.Append($"<td>{N(r.Counters.ExitsByReason[i])}</td><td>{N(r.Counters.CyclesByExit[i])}</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table></div>\n</section>\n");
    }

    private static void Source(StringBuilder sb, ReportData data)
    {
        sb.Append($"<section id=\"source\">\n<h2>The scenario: {E(data.Context.DisplayPath)}</h2>\n<pre class=\"source\">");
        var lines = data.Context.Source.Text.Replace("\r\n", "\n").Split('\n');
        if (lines.Length > 0 && lines[^1].Length == 0) lines = lines[..^1];
        for (var i = 0; i < lines.Length; i++)
            sb.Append($"<span class=\"ln\">{(i + 1).ToString(Invariant),4}</span> {E(lines[i])}\n");
        sb.Append("</pre>\n</section>\n");
    }

    // ------------------------------------------------------------ where the cycles went

    private static void CycleChart(StringBuilder sb, ReportData data)
    {
        var runs = data.Runs;
        const int left = 78, width = 660, barHeight = 26, gap = 12, top = 8;
        var chartWidth = width - left - 120; // room for the value after the longest bar
        var max = Math.Max(1UL, runs.Max(r => r.Counters.Cycles));
        var height = top + runs.Count * (barHeight + gap) + 4;
        sb.Append("<section id=\"cycles\">\n<h2>Where the cycles went</h2>\n");
        sb.Append($"<svg class=\"chart\" id=\"cycle-chart\" role=\"img\" aria-label=\"cycles per mode by cost category\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n");
        for (var m = 0; m < runs.Count; m++)
        {
            var run = runs[m];
            var y = top + m * (barHeight + gap);
            sb.Append($"<text class=\"axis\" x=\"{left - 8}\" y=\"{y + barHeight / 2 + 5}\" text-anchor=\"end\">{Mode(run.Mode)}</text>\n");
            var x = (double)left;
            var categories = CycleBreakdown.Of(run.Counters).ToList();
            for (var c = 0; c < categories.Count; c++)
            {
                var (category, cycles) = categories[c];
                if (cycles == 0) continue;
                var w = chartWidth * (double)cycles / max;
                sb.Append($"<rect class=\"bar-segment\" data-mode=\"{Mode(run.Mode)}\" data-category=\"{E(category)}\" x=\"{F(x)}\" y=\"{y}\" width=\"{F(Math.Max(w, 0.5))}\" height=\"{barHeight}\" fill=\"{CategoryColors[c]}\">");
                sb.Append($"<title>{Mode(run.Mode)}: {E(category)}, {N(cycles)} cycles ({F(100.0 * cycles / Math.Max(1UL, run.Counters.Cycles))}%)</title></rect>\n");
                x += w;
            }
            sb.Append($"<text class=\"value\" x=\"{F(x + 6)}\" y=\"{y + barHeight / 2 + 5}\">{N(run.Counters.Cycles)}</text>\n");
        }
        sb.Append("</svg>\n<p class=\"legend\">");
        var used = runs.SelectMany(r => CycleBreakdown.Of(r.Counters).Select((c, i) => (c, i))).Where(t => t.c.Cycles > 0).Select(t => t.i).Distinct().Order();
        foreach (var i in used)
            sb.Append($"<span class=\"key\"><span class=\"swatch\" style=\"background:{CategoryColors[i]}\"></span>{E(CycleBreakdown.Categories[i].Category)}</span> ");
        sb.Append("</p>\n<p class=\"hint\">Cycles of each mode, split by what they paid for (hover a bar for its share).</p>\n</section>\n");
    }

    // ------------------------------------------------------------ segments

    /// <summary>
    /// A segment figure's cell: rounded for the eye, with its exact value in <c>data-value</c> under the
    /// JSON report's name in <c>data-figure</c>, so that the page can be checked against the JSON report.
    /// </summary>
    private static string FigureCell(string figure, double? v, string format, string suffix) => v is { } x
        ? $"<td data-figure=\"{figure}\" data-value=\"{x.ToString("R", Invariant)}\">{x.ToString(format, Invariant)}{suffix}</td>"
        : $"<td data-figure=\"{figure}\">-</td>";

    private static void SegmentsSection(StringBuilder sb, ReportData data)
    {
        var runs = data.Runs;
        // The engine's segments (the same the text and JSON reports give), never recomputed here.
        var perRun = runs.Select(r => Segments.Of(r)).ToList();
        var longest = perRun.MaxBy(s => s.Length);
        var nativeIndex = runs.ToList().FindIndex(r => r.Mode == MmuMode.Native);
        sb.Append("<section id=\"segments\">\n<h2>Segments</h2>\n");
        sb.Append($"<p>{(longest.Length == 1 ? "The run has no mark, so one segment: the whole run." : $"{N(longest.Length - 1)} marks cut the run into {N(longest.Length)} segments, each named by the mark that opens it.")}");
        sb.Append(" Bandwidth counts 8 bytes per access");
        var compare = nativeIndex >= 0 && runs.Count > 1;
        sb.Append(compare ? "; slowdown is against the same segment of the native run.</p>\n" : ".</p>\n");
        var figures = new List<(string Title, string Figure, Func<int, Segment, (double? Value, string Format, string Suffix)> Of)>
        {
            ("cycles per access", "cycles_per_access", (_, s) => (s.CyclesPerAccess, "0.00", "")),
            ("bandwidth", "bandwidth_mbs", (k, s) => (s.Bandwidth(runs[k].Options.ClockHz), "0", " MB/s")),
        };
        // A comparison needs a native run beside the others: a single-mode report has no slowdown table.
        if (compare)
            figures.Add(("slowdown against native", "slowdown", (k, s) => (runs[k].Mode == MmuMode.Native || s.Index >= perRun[nativeIndex].Length ? null
                : s.SlowdownAgainst(perRun[nativeIndex][s.Index]), "0.00", "x")));
        sb.Append("<div class=\"tables\">\n");
        foreach (var (title, figure, of) in figures)
        {
            sb.Append($"<div class=\"scroll\"><table class=\"numbers segments\" data-figure=\"{figure}\">\n<caption>{title}</caption>\n<thead><tr><th>segment</th>");
            foreach (var r in runs) sb.Append($"<th>{Mode(r.Mode)}</th>");
            sb.Append("</tr></thead>\n<tbody>\n");
            var previous = -1;
            foreach (var i in ReportDataText.Shown(longest.Length))
            {
                if (previous >= 0 && i != previous + 1) sb.Append($"<tr class=\"gap\"><td colspan=\"{runs.Count + 1}\">{N(i - previous - 1)} segments left out</td></tr>\n");
                previous = i;
                sb.Append($"<tr data-segment=\"{i}\"><td>{i} {E(longest[i].Name)}</td>");
                for (var k = 0; k < runs.Count; k++)
                {
                    if (i >= perRun[k].Length)
                    {
                        sb.Append("<td>-</td>");
                        continue;
                    }
                    var (value, format, suffix) = of(k, perRun[k][i]);
                    sb.Append(FigureCell(figure, value, format, suffix));
                }
                sb.Append("</tr>\n");
            }
            sb.Append("</tbody>\n</table></div>\n");
        }
        sb.Append("</div>\n");
        if (longest.Length > 1)
        {
            sb.Append($"<div class=\"plot\" id=\"{HtmlCharts.SegmentChartId}\" role=\"img\" aria-label=\"cycles per access by segment and mode\"></div>\n");
            sb.Append("<p class=\"hint\">Cycles per access of each segment, one line per mode (log scale; hover for values).</p>\n");
        }
        sb.Append("</section>\n");
    }

    // ------------------------------------------------------------ timeline

    private static void TimelineSection(StringBuilder sb, ReportData data)
    {
        sb.Append("<section id=\"timeline\">\n<h2>Along the run</h2>\n");
        sb.Append("<p>TLB misses, guest and host page faults and VM exits, counted per bucket of accesses (log scale); marks are the dashed lines.</p>\n");
        foreach (var mode in data.Modes)
        {
            var t = mode.Timeline;
            sb.Append($"<h3>{ModeKey(mode.Mode)}</h3>\n");
            if (t.Series.IsEmpty)
            {
                sb.Append("<p>No TLB miss, fault or exit in the whole run.</p>\n");
                continue;
            }
            sb.Append($"<div class=\"plot timeline\" id=\"{HtmlCharts.TimelineId(mode.Mode)}\" role=\"img\" aria-label=\"events along the run in {Mode(mode.Mode)}\"></div>\n");
            sb.Append("<p class=\"legend\">");
            foreach (var s in t.Series)
                sb.Append($"<span class=\"key\"><span class=\"swatch\" style=\"background:{HtmlCharts.StyleOf(s.Name).Color}\"></span>{E(s.Name)}: {N(s.Total)}</span> ");
            sb.Append("</p>\n<p class=\"hint\">");
            sb.Append($"{N(t.Accesses)} accesses in {N(t.Buckets)} bucket{(t.Buckets == 1 ? "" : "s")} of {N(t.BucketWidth)}");
            if (t.MarksLeftOut > 0) sb.Append($"; {N(t.Marks.Length)} of {N(t.Marks.Length + t.MarksLeftOut)} marks drawn");
            sb.Append(".</p>\n");
        }
        sb.Append("</section>\n");
    }

    // ------------------------------------------------------------ which assumption decides

    private static void Assumptions(StringBuilder sb, ReportData data)
    {
        var table = data.Assumptions;
        sb.Append("<section id=\"assumptions\">\n<h2>Which assumption decides</h2>\n");
        sb.Append("<p>The modern profile assumes a machine and a KVM of today. Each row reruns the scenario with one of its features switched to its classic (textbook) value, the others unchanged.</p>\n");
        if (table.Skipped is { } why)
        {
            sb.Append($"<p class=\"skipped\">Not shown: {E(why)}.</p>\n</section>\n");
            return;
        }
        var runs = data.Runs;
        var baseline = runs.Select(r => (r.Mode, (ulong?)r.Counters.Cycles)).ToList();
        var ranking = ReportAssumptions.Ranking(baseline);
        sb.Append("<div class=\"scroll\"><table class=\"numbers assumptions\">\n<thead><tr><th>feature</th><th>here → classic</th>");
        foreach (var r in runs) sb.Append($"<th>{Mode(r.Mode)} cycles</th>");
        if (ranking.Length > 0) sb.Append("<th>ranking</th>");
        sb.Append("</tr></thead>\n<tbody>\n<tr class=\"baseline\"><td>as run</td><td>modern</td>");
        foreach (var r in runs) sb.Append($"<td>{N(r.Counters.Cycles)}</td>");
        if (ranking.Length > 0) sb.Append($"<td>{E(ranking)}</td>");
        sb.Append("</tr>\n");
        var findings = new List<string>();
        foreach (var row in table.Rows)
        {
            var rowRanking = row.AlreadyClassic ? ranking : ReportAssumptions.Ranking(row.Runs.Select(r => (r.Mode, r.Cycles)));
            var changed = ranking.Length > 0 && rowRanking != ranking;
            sb.Append($"<tr{(changed ? " class=\"changed\"" : "")}><td>{E(row.Feature)}</td><td>{E(row.Value)} → {E(row.Classic)}{(row.Declared ? " <small>(declared in the file)</small>" : "")}</td>");
            foreach (var run in runs)
            {
                var rerun = row.Runs.First(r => r.Mode == run.Mode);
                sb.Append("<td>");
                if (row.AlreadyClassic) sb.Append("<small>same</small>");
                else if (rerun.Cycles is { } c) sb.Append($"{N(c)} <small>({Change(run.Counters.Cycles, c)})</small>");
                else sb.Append($"<small class=\"problem\">{E(rerun.Error ?? "error")}</small>");
                sb.Append("</td>");
            }
            if (ranking.Length > 0) sb.Append($"<td>{(row.AlreadyClassic ? "<small>same</small>" : E(rowRanking))}</td>");
            sb.Append("</tr>\n");
            if (changed) findings.Add($"with <strong>{E(row.Feature)} {E(row.Classic)}</strong> the ranking becomes {E(rowRanking)}");
        }
        sb.Append("</tbody>\n</table></div>\n");
        // Said first when true: the per-mode findings below would otherwise read as if something reordered.
        if (findings.Count == 0 && ranking.Length > 0) findings.Add("no single feature changes the ranking of the modes");
        foreach (var run in runs.Where(r => r.Mode != MmuMode.Native))
        {
            var biggest = table.Rows.Where(r => !r.AlreadyClassic)
                .Select(r => (r.Feature, r.Classic, Cycles: r.Runs.First(x => x.Mode == run.Mode).Cycles))
                .Where(x => x.Cycles is not null && x.Cycles != run.Counters.Cycles)
                .OrderByDescending(x => Math.Abs((double)x.Cycles!.Value - run.Counters.Cycles)).ThenBy(x => x.Feature, StringComparer.Ordinal).FirstOrDefault();
            if (biggest.Feature is not null)
                findings.Add($"{Mode(run.Mode)} depends most on <strong>{E(biggest.Feature)}</strong> ({Change(run.Counters.Cycles, biggest.Cycles!.Value)} with {E(biggest.Feature)} {E(biggest.Classic)})");
        }
        var anyChange = table.Rows.Any(row => row.Runs.Any(x => x.Cycles is { } c && c != runs.First(r => r.Mode == x.Mode).Counters.Cycles));
        if (!anyChange) findings.Add("no feature changes the cycles of any mode here");
        sb.Append("<ul class=\"findings\">\n");
        foreach (var f in findings) sb.Append($"<li>{f}.</li>\n");
        sb.Append("</ul>\n</section>\n");
    }

    /// <summary>"+64.5%", "-0.03%", "+&lt;0.01%" (a small change never reads as none), "same".</summary>
    private static string Change(ulong before, ulong after)
    {
        if (after == before) return "same";
        if (before == 0) return "-";
        var change = (double)after / before - 1;
        if (Math.Abs(change) < 0.00005) return change > 0 ? "+<0.01%" : "-<0.01%";
        return change.ToString(Math.Abs(change) < 0.001 ? "+0.00%;-0.00%" : "+0.0%;-0.0%", Invariant);
    }

    /// <summary>The page style, shared by the study report (grid --format html) so that both pages look alike.</summary>
    internal const string Css = """
        :root { color-scheme: light; }
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: #f8fafc; color: #0f172a; line-height: 1.45; }
        main { max-width: 1100px; margin: 0 auto; padding: 16px; }
        h1 { font-size: 1.5rem; margin: 0 0 8px; overflow-wrap: anywhere; }
        h2 { font-size: 1.2rem; margin: 20px 0 10px; border-bottom: 1px solid #cbd5e1; padding-bottom: 4px; }
        h3 { font-size: 1rem; margin: 16px 0 6px; }
        p.meta { margin: 0 0 6px; color: #334155; }
        nav.contents { font-size: 0.9rem; margin-bottom: 14px; }
        nav.contents a { color: #0f4c81; }
        section { background: #fff; border: 1px solid #e2e8f0; border-radius: 8px; padding: 4px 16px 12px; margin-bottom: 16px; min-width: 0; }
        .scroll { overflow-x: auto; max-width: 100%; }
        .tables { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: flex-start; }
        table.numbers { border-collapse: collapse; font-variant-numeric: tabular-nums; }
        table.numbers caption { text-align: left; font-weight: 600; padding: 4px 0; }
        table.numbers th, table.numbers td { padding: 3px 10px; border-bottom: 1px solid #e2e8f0; text-align: right; }
        table.numbers th:first-child, table.numbers td:first-child { text-align: left; }
        table.left td, table.left th { text-align: left; }
        tr.derived td, tr.baseline td { font-weight: 600; }
        tr.changed td { background: #fff7d6; }
        table.assumptions td:nth-child(2), table.assumptions td:last-child { white-space: nowrap; }
        tr.gap td { color: #64748b; font-style: italic; text-align: left; }
        li.winner { font-size: 1.05rem; }
        .problem { color: #b91c1c; }
        .hint, .skipped { color: #475569; font-size: 0.92rem; }
        code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.88em; }
        svg { max-width: 100%; height: auto; }
        svg text { font-size: 13px; fill: #0f172a; }
        svg text.axis { fill: #475569; }
        .legend .key, .mode-key { margin-right: 14px; white-space: nowrap; }
        h3 .mode-key, li .mode-key { margin-right: 0; }
        .swatch { display: inline-block; width: 12px; height: 12px; margin-right: 5px; vertical-align: -1px; border-radius: 2px; }
        .plot { width: 100%; min-height: 40px; }
        .ref-ept rect, .ref.ref-ept { fill: #dbeafe; background: #dbeafe; stroke: #1d4ed8; border-color: #1d4ed8; }
        .ref-guest rect, .ref.ref-guest { fill: #dcfce7; background: #dcfce7; stroke: #15803d; border-color: #15803d; }
        .ref-shadow rect, .ref.ref-shadow { fill: #f3e8ff; background: #f3e8ff; stroke: #7e22ce; border-color: #7e22ce; }
        .ref-software rect, .ref.ref-software { fill: #ffffff; background: #ffffff; stroke: #475569; border-color: #475569; stroke-dasharray: 4 3; border-style: dashed; }
        .walk-ref rect { stroke-width: 2; }
        .walk-ref.st-stop rect, .ref.st-stop { fill: #b91c1c; background: #b91c1c; stroke: #450a0a; border-color: #450a0a; }
        .walk-ref.st-stop text, .ref.st-stop { fill: #fff; color: #fff; font-weight: 700; }
        .walk-ref.st-mmio rect, .ref.st-mmio { fill: #fde68a; background: #fde68a; stroke: #92400e; border-color: #92400e; }
        .walk-ref.st-forbids rect, .ref.st-forbids { fill: #fed7aa; background: #fed7aa; stroke: #9a3412; border-color: #9a3412; }
        .staircase { margin: 6px 0 10px; }
        .walk-row { display: flex; align-items: center; gap: 8px; margin: 3px 0; flex-wrap: wrap; }
        .walk-label { width: 4.6em; flex: none; font-size: 0.85rem; color: #334155; }
        .refs { display: flex; flex-wrap: wrap; gap: 2px; }
        .ref { display: inline-block; box-sizing: border-box; width: 22px; height: 22px; border: 2px solid; border-radius: 4px; font-size: 10px; line-height: 18px; text-align: center; color: #0f172a; }
        .refs .sep { width: 10px; }
        .walk-out { font-size: 0.85rem; color: #334155; }
        .walk-out .exit { font-weight: 600; color: #7f1d1d; }
        .walk-out .filled { font-weight: 600; color: #14532d; }
        ol.walks { padding-left: 1.4em; font-size: 0.92rem; }
        ol.walks li { margin-bottom: 6px; }
        ol.walks ul { padding-left: 1.2em; margin: 2px 0; }
        .chain { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 6px; margin: 6px 0; }
        .chain .title { width: 100%; font-size: 0.88rem; color: #475569; }
        .addr { border: 1.5px solid #334155; border-radius: 6px; padding: 2px 8px; background: #f1f5f9; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.86rem; }
        .addr b { font-family: system-ui, sans-serif; margin-right: 4px; }
        .arrow { color: #334155; }
        .chain.side .addr { border-style: dashed; background: #fff; }
        table.entries td, table.entries th { text-align: left; }
        table.entries td { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.84rem; }
        table.entries td:first-child { font-family: inherit; }
        ul.notes li, ul.findings li { margin-bottom: 3px; }
        .slot-box { fill: #f1f5f9; stroke: #334155; stroke-width: 1.5; }
        .slot-box.readonly { fill: #fef9c3; }
        .slot-band { fill: #94a3b8; opacity: 0.25; }
        .mmio-box { fill: #fff; stroke: #92400e; stroke-dasharray: 5 3; stroke-width: 1.5; }
        .place-table { fill: #1d4ed8; }
        .place-data { fill: #15803d; }
        pre.source { font-size: 12.5px; line-height: 1.45; background: #0f172a; color: #e2e8f0; padding: 12px; border-radius: 6px; overflow-x: auto; }
        pre.source .ln { color: #64748b; user-select: none; }
        @media (max-width: 760px) { main { padding: 8px; } section { padding: 2px 10px 10px; } table.numbers th, table.numbers td { padding: 3px 6px; } }
        @media print { body { background: #fff; } section { break-inside: avoid; border: none; } pre.source { background: #fff; color: #000; } nav.contents { display: none; } }
        """;
}
