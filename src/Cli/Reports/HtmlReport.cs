using System.Globalization;
using System.Net;
using System.Text;
using MemScript.Engine.Accounting;
using MemScript.Engine.Inspection;
using MemScript.Engine.Interpreter;
using MemScript.Engine.Memory;
using MemScript.Engine.Translation;
using MemScript.Language;
using MemScript.Language.Syntax;

namespace MemScript.Cli.Reports;

/// <summary>
/// <c>memscript report</c>: one self-contained HTML page (inline CSS and SVG, no script, no network)
/// with the verdict, the comparison, where the cycles went, the marks, the exits, the drawn translation
/// path of one address in each mode, and the scenario source. The SVG is written by hand so the same
/// run gives the same bytes on every machine.
/// </summary>
public static class HtmlReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static readonly string[] Palette =
        ["#9aa5b1", "#3b82f6", "#14b8a6", "#ef4444", "#f59e0b", "#8b5cf6", "#ec4899", "#22c55e", "#64748b", "#f97316"];

    /// <summary>Each mode's colour, the same in the run report and the study report.</summary>
    internal static readonly Dictionary<MmuMode, string> ModeColors = new()
    {
        [MmuMode.Native] = "#334155", [MmuMode.Software] = "#f59e0b", [MmuMode.Shadow] = "#8b5cf6", [MmuMode.Ept] = "#3b82f6",
    };

    // Control characters are shown as escapes: HTML-encoding leaves them as they are (a terminal that
    // shows the file would obey them), and a browser draws nothing for most of them. Tabs stay for the source.
    private static string E(string text) => WebUtility.HtmlEncode(MemScript.Language.Diagnostics.DiagnosticFormatter.Escape(text, keepTabs: true));
    private static string N(long v) => v.ToString("N0", Invariant);
    private static string N(ulong v) => v.ToString("N0", Invariant);
    private static string F(double v) => v.ToString("0.#", Invariant);

    public static string Render(ReportContext context, IReadOnlyList<TranslationPath> paths)
    {
        var sb = new StringBuilder();
        var title = $"MemScript report: {context.DisplayPath}";
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append($"<title>{E(title)}</title>\n<style>\n{Css}\n</style>\n</head>\n<body>\n<main>\n");
        sb.Append($"<h1>{E(title)}</h1>\n");
        Verdict(sb, context);
        Comparison(sb, context);
        CycleChart(sb, context);
        MarksChart(sb, context);
        Exits(sb, context);
        foreach (var path in paths) Diagram(sb, path);
        Source(sb, context);
        sb.Append("</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    // ------------------------------------------------------------ verdict

    private static void Verdict(StringBuilder sb, ReportContext context)
    {
        var runs = context.Runs;
        sb.Append("<section id=\"verdict\">\n<h2>At a glance</h2>\n<ul>\n");
        var native = runs.FirstOrDefault(r => r.Mode == MmuMode.Native);
        var virtualized = runs.Where(r => r.Mode != MmuMode.Native).OrderBy(r => r.Counters.Cycles).ToList();
        if (virtualized.Count > 1)
        {
            var best = virtualized[0];
            sb.Append($"<li class=\"winner\"><strong>{Vocabulary.ModeName(best.Mode)}</strong> is the fastest virtualized mode here: {N(best.Counters.Cycles)} cycles");
            if (native is not null && native.Counters.Cycles > 0) sb.Append($", {((double)best.Counters.Cycles / native.Counters.Cycles).ToString("0.00", Invariant)}x native");
            sb.Append(".</li>\n");
        }
        foreach (var run in runs)
        {
            var total = Math.Max(1UL, run.Counters.Cycles);
            var top = CycleBreakdown.Of(run.Counters).OrderByDescending(c => c.Cycles).Take(2).Where(c => c.Cycles > 0).ToList();
            sb.Append($"<li><strong>{Vocabulary.ModeName(run.Mode)}</strong>: {N(run.Counters.Cycles)} cycles, mostly ");
            sb.Append(string.Join(" and ", top.Select(c => $"{E(c.Category)} ({F(100.0 * c.Cycles / total)}%)")));
            sb.Append($"; {N(run.Counters.TlbMisses)} TLB misses, {N(run.Counters.WalkRefs)} walk references, {N(run.Counters.Exits)} exits.</li>\n");
        }
        // Each failed expectation and run-time error as the text report heads it: file, line, column, code, message.
        foreach (var run in runs)
            foreach (var problem in ReportContext.Problems(run))
                sb.Append($"<li class=\"problem\">{Vocabulary.ModeName(run.Mode)}: {E(MemScript.Language.Diagnostics.DiagnosticFormatter.Headline(context.Source, problem))}</li>\n");
        sb.Append("</ul>\n</section>\n");
    }

    // ------------------------------------------------------------ tables

    private static void Comparison(StringBuilder sb, ReportContext context)
    {
        var runs = context.Runs;
        sb.Append("<section id=\"comparison\">\n<h2>Counters</h2>\n<table class=\"numbers\">\n<thead><tr><th>counter</th>");
        foreach (var r in runs) sb.Append($"<th>{Vocabulary.ModeName(r.Mode)}</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        var names = runs.SelectMany(r => r.Counters.Named().Select(n => n.Name)).Distinct().ToList();
        foreach (var name in names)
        {
            sb.Append($"<tr><td>{E(name)}</td>");
            foreach (var r in runs) sb.Append($"<td>{N(r.Counters.Get(name))}</td>");
            sb.Append("</tr>\n");
        }
        var baseline = runs.FirstOrDefault(r => r.Mode == MmuMode.Native) ?? runs[0];
        sb.Append($"<tr class=\"derived\"><td>slowdown vs {Vocabulary.ModeName(baseline.Mode)}</td>");
        foreach (var r in runs)
            sb.Append($"<td>{(baseline.Counters.Cycles == 0 ? "-" : ((double)r.Counters.Cycles / baseline.Counters.Cycles).ToString("0.00", Invariant) + "x")}</td>");
        sb.Append("</tr>\n<tr class=\"derived\"><td>time</td>");
        foreach (var r in runs) sb.Append($"<td>{E(TextReport.Time(r.Counters.Cycles, r.Options.ClockHz))}</td>");
        sb.Append("</tr>\n<tr class=\"derived\"><td>bandwidth (8 bytes per access)</td>");
        foreach (var r in runs) sb.Append($"<td>{E(TextReport.Bandwidth(r.Counters.Accesses, r.Counters.Cycles, r.Options.ClockHz))}</td>");
        sb.Append("</tr>\n</tbody>\n</table>\n</section>\n");
    }

    private static void Exits(StringBuilder sb, ReportContext context)
    {
        var runs = context.Runs;
        sb.Append("<section id=\"exits\">\n<h2>VM exits by reason</h2>\n");
        if (runs.All(r => r.Counters.Exits == 0))
        {
            sb.Append("<p>No VM exits.</p>\n</section>\n");
            return;
        }
        sb.Append("<table class=\"numbers\">\n<thead><tr><th>reason</th><th>number</th>");
        foreach (var r in runs) sb.Append($"<th>{Vocabulary.ModeName(r.Mode)}: count</th><th>cycles</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        for (var i = 0; i < Vocabulary.ExitReasons.Length; i++)
        {
            if (runs.All(r => r.Counters.ExitsByReason[i] == 0)) continue;
            var reason = (ExitReason)i;
            sb.Append($"<tr><td>{reason.Name()}</td><td>{reason.Number()?.ToString(Invariant) ?? "-"}</td>");
            foreach (var r in runs) sb.Append($"<td>{N(r.Counters.ExitsByReason[i])}</td><td>{N(r.Counters.CyclesByExit[i])}</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n</section>\n");
    }

    private static void Source(StringBuilder sb, ReportContext context)
    {
        sb.Append($"<section id=\"source\">\n<h2>The scenario: {E(context.DisplayPath)}</h2>\n<pre class=\"source\">");
        var lines = context.Source.Text.Replace("\r\n", "\n").Split('\n');
        if (lines.Length > 0 && lines[^1].Length == 0) lines = lines[..^1];
        for (var i = 0; i < lines.Length; i++)
            sb.Append($"<span class=\"ln\">{(i + 1).ToString(Invariant),4}</span> {E(lines[i])}\n");
        sb.Append("</pre>\n</section>\n");
    }

    // ------------------------------------------------------------ charts

    private static void CycleChart(StringBuilder sb, ReportContext context)
    {
        var runs = context.Runs;
        const int left = 90, width = 1100, barHeight = 34, gap = 16, top = 10;
        var chartWidth = width - left - 170; // room for the value after the longest bar
        var max = Math.Max(1UL, runs.Max(r => r.Counters.Cycles));
        var height = top + runs.Count * (barHeight + gap) + 30;
        sb.Append("<section id=\"cycles\">\n<h2>Where the cycles went</h2>\n");
        sb.Append($"<svg class=\"chart\" id=\"cycle-chart\" role=\"img\" aria-label=\"cycles per mode by cost category\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">\n");
        for (var m = 0; m < runs.Count; m++)
        {
            var run = runs[m];
            var y = top + m * (barHeight + gap);
            sb.Append($"<text class=\"axis\" x=\"{left - 8}\" y=\"{y + barHeight / 2 + 5}\" text-anchor=\"end\">{Vocabulary.ModeName(run.Mode)}</text>\n");
            var x = (double)left;
            var categories = CycleBreakdown.Of(run.Counters).ToList();
            for (var c = 0; c < categories.Count; c++)
            {
                var (category, cycles) = categories[c];
                if (cycles == 0) continue;
                var w = chartWidth * (double)cycles / max;
                sb.Append($"<rect class=\"bar-segment\" data-mode=\"{Vocabulary.ModeName(run.Mode)}\" data-category=\"{E(category)}\" x=\"{F(x)}\" y=\"{y}\" width=\"{F(Math.Max(w, 0.5))}\" height=\"{barHeight}\" fill=\"{Palette[c]}\">");
                sb.Append($"<title>{Vocabulary.ModeName(run.Mode)}: {E(category)}, {N(cycles)} cycles ({F(100.0 * cycles / Math.Max(1UL, run.Counters.Cycles))}%)</title></rect>\n");
                x += w;
            }
            sb.Append($"<text class=\"value\" x=\"{F(x + 6)}\" y=\"{y + barHeight / 2 + 5}\">{N(run.Counters.Cycles)} cycles</text>\n");
        }
        sb.Append("</svg>\n<p class=\"legend\">");
        var used = runs.SelectMany(r => CycleBreakdown.Of(r.Counters).Select((c, i) => (c, i))).Where(t => t.c.Cycles > 0).Select(t => t.i).Distinct().Order();
        foreach (var i in used)
            sb.Append($"<span class=\"key\"><span class=\"swatch\" style=\"background:{Palette[i]}\"></span>{E(CycleBreakdown.Categories[i].Category)}</span> ");
        sb.Append("</p>\n</section>\n");
    }

    private static void MarksChart(StringBuilder sb, ReportContext context)
    {
        var runs = context.Runs;
        var labels = new List<string> { "start" };
        labels.AddRange(runs.OrderByDescending(r => r.Marks.Length).First().Marks.Select(m => m.Label));
        labels.Add("end");
        sb.Append("<section id=\"marks\">\n<h2>Cumulative cycles and exits across marks</h2>\n");
        foreach (var (name, value) in new (string, Func<CounterSet, double>)[] { ("cycles", c => c.Cycles), ("exits", c => c.Exits) })
        {
            const int width = 1100, height = 260, left = 110, right = 30, top = 16, bottom = 40;
            var points = runs.Select(r => new[] { 0.0 }.Concat(r.Marks.Select(m => value(m.Counters))).Append(value(r.Counters)).ToList()).ToList();
            var max = Math.Max(1, points.SelectMany(p => p).Max());
            double X(int i) => left + (width - left - right) * (labels.Count == 1 ? 0 : (double)i / (labels.Count - 1));
            double Y(double v) => top + (height - top - bottom) * (1 - v / max);
            sb.Append($"<svg class=\"chart\" id=\"marks-{name}\" role=\"img\" aria-label=\"cumulative {name}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">\n");
            sb.Append($"<line class=\"grid\" x1=\"{left}\" y1=\"{F(Y(0))}\" x2=\"{width - right}\" y2=\"{F(Y(0))}\"/>\n");
            sb.Append($"<text class=\"axis\" x=\"{left - 8}\" y=\"{F(Y(max) + 5)}\" text-anchor=\"end\">{N((ulong)max)}</text>\n");
            sb.Append($"<text class=\"axis\" x=\"{left - 8}\" y=\"{F(Y(0) + 5)}\" text-anchor=\"end\">0 {name}</text>\n");
            for (var i = 0; i < labels.Count; i++)
                sb.Append($"<text class=\"axis\" x=\"{F(X(i))}\" y=\"{height - 12}\" text-anchor=\"middle\">{E(labels[i])}</text>\n");
            for (var m = 0; m < runs.Count; m++)
            {
                var p = points[m];
                var mode = Vocabulary.ModeName(runs[m].Mode);
                sb.Append($"<polyline class=\"mark-line\" data-mode=\"{mode}\" fill=\"none\" stroke=\"{ModeColors[runs[m].Mode]}\" stroke-width=\"2.5\" points=\"");
                sb.Append(string.Join(" ", p.Select((v, i) => $"{F(X(i))},{F(Y(v))}")));
                sb.Append("\"/>\n");
                for (var i = 0; i < p.Count; i++)
                    sb.Append($"<circle class=\"mark-point\" cx=\"{F(X(i))}\" cy=\"{F(Y(p[i]))}\" r=\"4\" fill=\"{ModeColors[runs[m].Mode]}\"><title>{mode} at {E(i < labels.Count ? labels[i] : "end")}: {N((ulong)p[i])} {name}</title></circle>\n");
            }
            sb.Append("</svg>\n");
        }
        sb.Append("<p class=\"legend\">");
        foreach (var r in runs) sb.Append($"<span class=\"key\"><span class=\"swatch\" style=\"background:{ModeColors[r.Mode]}\"></span>{Vocabulary.ModeName(r.Mode)}</span> ");
        sb.Append("</p>\n</section>\n");
    }

    // ------------------------------------------------------------ the translation path

    /// <summary>
    /// The textbook figure: in ept a grid whose rows are the guest levels (and the data page) and whose
    /// columns are the EPT levels and the guest entry, each reference numbered in walk order; in the
    /// other modes one row of entries. Then the chain of addresses GVA, GPA, HVA, HPA.
    /// </summary>
    private static void Diagram(StringBuilder sb, TranslationPath path)
    {
        var mode = Vocabulary.ModeName(path.Mode);
        sb.Append($"<section class=\"path\" id=\"path-{mode}\">\n<h2>The translation of {Hex.Format(path.Gva)} in {mode}</h2>\n");
        var boxes = new List<(int Row, int Col, string Label, string Detail, string State)>();
        var rows = new List<string>();
        var columns = new List<string>();
        var levels = path.GuestLevels;
        if (path.Mode == MmuMode.Ept)
        {
            var eptLevels = path.GuestSteps.Select(s => s.TableTranslation).Concat([path.FinalTranslation]).Where(t => t is not null).Select(t => t!.Steps.Max(x => x.Level)).DefaultIfEmpty(4).Max();
            for (var l = eptLevels; l >= 1; l--) columns.Add($"EPT {ExplainPrinter.LevelName(l, eptLevels)}");
            columns.Add("guest entry");
            var row = 0;
            foreach (var step in path.GuestSteps)
            {
                rows.Add($"{ExplainPrinter.LevelName(step.Entry.Level, levels)} at gpa {Hex.Format(step.Entry.Table)}");
                if (step.TableTranslation is { } ept)
                    for (var i = 0; i < ept.Steps.Length; i++)
                        boxes.Add((row, eptLevels - ept.Steps[i].Level, "", $"EPT entry {Hex.Format(ept.Steps[i].Entry)} ({EptEntry.Flags(ept.Steps[i].Entry)})", EptState(ept.Steps[i].Entry)));
                if (step.TableTranslation is null or { Result: EptResult.Mapped })
                    boxes.Add((row, eptLevels, "", $"guest entry {Hex.Format(step.Entry.Entry)} ({Pte.Flags(step.Entry.Entry)})", (step.Entry.Entry & Pte.Present) != 0 ? "ok" : "stop"));
                row++;
            }
            if (path.FinalTranslation is { } final)
            {
                rows.Add($"data at gpa {Hex.Format(final.Gpa)}");
                for (var i = 0; i < final.Steps.Length; i++)
                    boxes.Add((row, eptLevels - final.Steps[i].Level, "", $"EPT entry {Hex.Format(final.Steps[i].Entry)} ({EptEntry.Flags(final.Steps[i].Entry)})", EptState(final.Steps[i].Entry)));
            }
        }
        else
        {
            var steps = path.Mode == MmuMode.Shadow && !path.ShadowSteps.IsEmpty
                ? path.ShadowSteps.Select(s => (s.Level, $"shadow entry {Hex.Format(s.Entry)} ({Pte.Flags(s.Entry & ~Pte.MmioMarker)})", s.Entry)).ToList()
                : path.GuestSteps.Select(s => (s.Entry.Level, $"guest entry {Hex.Format(s.Entry.Entry)} ({Pte.Flags(s.Entry.Entry)})", s.Entry.Entry)).ToList();
            rows.Add(path.Mode switch
            {
                MmuMode.Shadow => "shadow table (hardware walk)",
                MmuMode.Software => "guest table (the hypervisor's software walk)",
                _ => "guest table (hardware walk)",
            });
            foreach (var (level, detail, entry) in steps)
            {
                columns.Add(ExplainPrinter.LevelName(level, levels));
                boxes.Add((0, columns.Count - 1, "", detail, (entry & Pte.Present) != 0 ? "ok" : "stop"));
            }
        }
        for (var i = 0; i < boxes.Count; i++) boxes[i] = boxes[i] with { Label = (i + 1).ToString(Invariant) };

        const int cell = 84, left = 330, top = 40;
        var width = Math.Max(760, left + columns.Count * cell + 40);
        var gridHeight = top + rows.Count * cell;
        var height = gridHeight + 130;
        sb.Append($"<svg class=\"diagram\" id=\"diagram-{mode}\" role=\"img\" aria-label=\"translation path in {mode}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">\n");
        for (var c = 0; c < columns.Count; c++)
            sb.Append($"<text class=\"axis\" x=\"{left + c * cell + cell / 2}\" y=\"{top - 12}\" text-anchor=\"middle\">{E(columns[c])}</text>\n");
        for (var r = 0; r < rows.Count; r++)
            sb.Append($"<text class=\"axis\" x=\"{left - 10}\" y=\"{top + r * cell + cell / 2 + 5}\" text-anchor=\"end\">{E(rows[r])}</text>\n");
        foreach (var (row, col, label, detail, state) in boxes)
        {
            var x = left + col * cell + 6;
            var y = top + row * cell + 6;
            sb.Append($"<g class=\"walk-ref {state}\"><rect x=\"{x}\" y=\"{y}\" width=\"{cell - 12}\" height=\"{cell - 12}\" rx=\"6\"/>");
            sb.Append($"<text x=\"{x + (cell - 12) / 2}\" y=\"{y + (cell - 12) / 2 + 6}\" text-anchor=\"middle\">{label}</text><title>reference {label}: {E(detail)}</title></g>\n");
        }
        // The chain of addresses.
        var chain = new List<(string Name, string Value)> { ("GVA", Hex.Format(path.Gva)) };
        if (path.Gpa is { } gpa) chain.Add(("GPA", Hex.Format(gpa)));
        if (path.Hva is { } hva) chain.Add(("HVA", Hex.Format(hva)));
        if (path.Hpa is { } hpa) chain.Add(("HPA", Hex.Format(hpa)));
        var y0 = gridHeight + 30;
        for (var i = 0; i < chain.Count; i++)
        {
            var x = 20 + i * 185;
            sb.Append($"<g class=\"addr-box\"><rect x=\"{x}\" y=\"{y0}\" width=\"160\" height=\"50\" rx=\"8\"/>");
            sb.Append($"<text x=\"{x + 80}\" y=\"{y0 + 20}\" text-anchor=\"middle\" class=\"addr-name\">{chain[i].Name}</text>");
            sb.Append($"<text x=\"{x + 80}\" y=\"{y0 + 40}\" text-anchor=\"middle\">{chain[i].Value}</text></g>\n");
            if (i > 0) sb.Append($"<line class=\"arrow\" x1=\"{x - 25}\" y1=\"{y0 + 25}\" x2=\"{x - 3}\" y2=\"{y0 + 25}\"/>\n");
        }
        sb.Append("</svg>\n");
        var what = path.Mode == MmuMode.Software ? "hypervisor reference" : "walk reference";
        sb.Append($"<p>{boxes.Count} {what}{(boxes.Count == 1 ? "" : "s")} (numbered in walk order); a TLB miss here costs {N(path.MissCycles)} cycles.</p>\n");
        sb.Append($"<p class=\"outcome\">{E(char.ToUpperInvariant(path.Outcome[0]) + path.Outcome[1..])}.</p>\n");
        sb.Append("</section>\n");
    }

    private static string EptState(ulong entry) => (entry & EptEntry.Rwx) == 0 ? "stop" : EptEntry.IsMisconfigured(entry) ? "mmio" : "ok";

    /// <summary>The page style, shared by the study report so that both pages look alike.</summary>
    internal const string Css = """
        :root { color-scheme: light; }
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: #f8fafc; color: #0f172a; }
        main { max-width: 1180px; margin: 0 auto; padding: 24px; }
        h1 { font-size: 1.6rem; margin: 0 0 16px; }
        h2 { font-size: 1.2rem; margin: 28px 0 10px; border-bottom: 1px solid #cbd5e1; padding-bottom: 4px; }
        section { background: #fff; border: 1px solid #e2e8f0; border-radius: 8px; padding: 4px 18px 14px; margin-bottom: 18px; overflow-x: auto; }
        table.numbers { border-collapse: collapse; font-variant-numeric: tabular-nums; }
        table.numbers th, table.numbers td { padding: 3px 12px; border-bottom: 1px solid #e2e8f0; text-align: right; }
        table.numbers th:first-child, table.numbers td:first-child { text-align: left; }
        tr.derived td { font-weight: 600; }
        li.winner { font-size: 1.1rem; }
        li.problem { color: #b91c1c; }
        svg text { font-size: 13px; fill: #0f172a; }
        svg text.axis { fill: #475569; }
        .legend .key { margin-right: 16px; white-space: nowrap; }
        .swatch { display: inline-block; width: 12px; height: 12px; margin-right: 5px; vertical-align: -1px; border-radius: 2px; }
        line.grid { stroke: #cbd5e1; }
        .walk-ref rect { stroke-width: 2; }
        .walk-ref.ok rect { fill: #dbeafe; stroke: #2563eb; }
        .walk-ref.stop rect { fill: #fee2e2; stroke: #dc2626; }
        .walk-ref.mmio rect { fill: #fef3c7; stroke: #d97706; }
        .addr-box rect { fill: #f1f5f9; stroke: #334155; stroke-width: 1.5; }
        .addr-name { font-weight: 700; }
        line.arrow { stroke: #334155; stroke-width: 2; }
        pre.source { font-size: 12.5px; line-height: 1.45; background: #0f172a; color: #e2e8f0; padding: 12px; border-radius: 6px; overflow-x: auto; }
        pre.source .ln { color: #64748b; user-select: none; }
        @media print { body { background: #fff; } section { break-inside: avoid; border: none; } pre.source { background: #fff; color: #000; } }
        """;
}
