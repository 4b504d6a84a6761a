using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;
using static MemScript.Cli.Reports.HtmlReport;

namespace MemScript.Cli.Reports;

/// <summary>
/// The walk drawings of the report: the first walks of an address as rows of numbered references (the
/// staircase of a fresh VM), and the translation path at one moment as the textbook figure (the
/// two-dimensional grid in ept, the shadow walk with KVM's software walk beside it), each with its raw
/// entries and decoded flags printed under it.
/// </summary>
public static class HtmlWalks
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static string KindClass(RefKind kind) => kind switch
    {
        RefKind.Ept => "ref-ept", RefKind.Guest => "ref-guest", RefKind.Shadow => "ref-shadow", _ => "ref-software",
    };

    private static string StateClass(RefState state) => state switch
    {
        RefState.Ok => "st-ok", RefState.NotPresent => "st-stop", RefState.Mmio => "st-mmio", _ => "st-forbids",
    };

    private static string Label(WalkReference r) => (r.Kind == RefKind.Software ? "s" : "") + r.Number.ToString(Invariant);

    private static string Title(WalkReference r) =>
        $"reference {Label(r)}: {ReportWalks.Describe(r)} = {ReportWalks.Raw(r.Entry)} ({ReportWalks.Flags(r)})"
        + r.State switch { RefState.NotPresent => ": the walk stops here", RefState.Forbids => ": the walk ended here", _ => "" };

    private static void Legend(StringBuilder sb)
    {
        sb.Append("<p class=\"legend\">");
        foreach (var (cls, what) in new[]
                 {
                     ("ref-ept st-ok", "EPT entry"), ("ref-guest st-ok", "guest entry"), ("ref-shadow st-ok", "shadow entry"),
                     ("ref-software st-ok", "guest entry read in software"), ("ref-ept st-stop", "not present: the walk stops"),
                     ("ref-ept st-forbids", "present, but the walk ends here"), ("ref-ept st-mmio", "KVM's MMIO entry"),
                 })
            sb.Append($"<span class=\"key\"><span class=\"ref {cls}\"></span> {what}</span> ");
        sb.Append("</p>\n");
    }

    // ------------------------------------------------------------ the first walks

    public static void FirstWalks(StringBuilder sb, ReportData data)
    {
        var first = data.Modes.Select(m => m.FirstWalks).FirstOrDefault();
        var address = first is null ? "the first access" : Hex.Format(first.Address);
        sb.Append($"<section id=\"first-walks\">\n<h2>The first walks of {address}{(first?.Defaulted == true ? " (the first access)" : "")}</h2>\n");
        sb.Append("<p>Every TLB miss of this address's 4 KiB page from the start of the run until a walk filled the TLB: one row per walk, "
                  + "its references numbered in walk order as the tables stood at that moment, and what it raised. In a fresh VM each retry gets one table further.</p>\n");
        Legend(sb);
        foreach (var mode in data.Modes)
        {
            var f = mode.FirstWalks;
            sb.Append($"<h3>{ModeKey(mode.Mode)}{(f.Process is { } process ? $": process {E(process)}" : "")}</h3>\n");
            if (f.Note is { } note) sb.Append($"<p>{E(char.ToUpperInvariant(note[0]) + note[1..])}.</p>\n");
            if (f.Walks.IsEmpty) continue;
            sb.Append($"<div class=\"staircase\" id=\"staircase-{Mode(mode.Mode)}\">\n");
            foreach (var w in f.Walks)
            {
                sb.Append($"<div class=\"walk-row\" data-refs=\"{w.CountedRefs}\"><span class=\"walk-label\">walk {w.Number}</span><span class=\"refs\">");
                foreach (var r in w.Hardware) sb.Append($"<span class=\"ref {KindClass(r.Kind)} {StateClass(r.State)}\" title=\"{E(Title(r))}\">{Label(r)}</span>");
                if (!w.Software.IsEmpty)
                {
                    if (!w.Hardware.IsEmpty) sb.Append("<span class=\"sep\"></span>");
                    foreach (var r in w.Software) sb.Append($"<span class=\"ref {KindClass(r.Kind)} {StateClass(r.State)}\" title=\"{E(Title(r))}\">{Label(r)}</span>");
                }
                sb.Append($"</span><span class=\"walk-out\">{Refs(w.CountedRefs)} → {Outcome(w)}</span></div>\n");
            }
            sb.Append("</div>\n");
            if (f.Cut) sb.Append($"<p class=\"hint\">Only the first {f.Walks.Length} walks are drawn: none of them filled the TLB.</p>\n");
            sb.Append("<ol class=\"walks\">\n");
            foreach (var w in f.Walks) WalkDetail(sb, w);
            sb.Append("</ol>\n");
        }
        sb.Append("</section>\n");
    }

    private static string Refs(int n) => n == 1 ? "1 ref" : $"{n} refs";

    private static string Kind(AccessKind kind) => kind switch { AccessKind.Read => "read", AccessKind.Write => "write", _ => "fetch" };

    /// <summary>The short outcome after a row: the exit it raised (a VM exit in bold), or that it filled the TLB.</summary>
    private static string Outcome(WalkRecord w)
    {
        var raised = w.Events.FirstOrDefault() switch
        {
            ExitEvent x => $"<span class=\"exit\">{x.Reason.Name()}</span>",
            GuestFaultEvent => "guest page fault",
            MmioEvent => "MMIO",
            _ => null,
        };
        if (w.Filled) return raised is null ? "<span class=\"filled\">filled the TLB</span>" : $"{raised}, <span class=\"filled\">filled the TLB</span>";
        return raised ?? "stopped";
    }

    private static void WalkDetail(StringBuilder sb, WalkRecord w)
    {
        sb.Append($"<li>Access {N(w.Access)} ({Kind(w.Kind)} {Hex.Format(w.Address)}): ");
        if (w.Hardware.IsEmpty && w.Software.IsEmpty) sb.Append("no reference");
        else if (w.Hardware.IsEmpty) sb.Append($"no hardware walk; the software walk read {w.Software.Length} guest entr{(w.Software.Length == 1 ? "y" : "ies")}");
        else
        {
            sb.Append($"{Refs(w.CountedRefs)} counted");
            if (w.CountedRefs < w.Hardware.Length)
                sb.Append($" of the {w.Hardware.Length} entries on the path (the paging-structure caches held the upper ones)");
            else if (w.CountedRefs > w.Hardware.Length)
                sb.Append($" ({w.Hardware.Length} entries on the path from the root)");
            if (w.Hardware[^1] is { State: not RefState.Ok } stop)
                sb.Append($"; {(stop.State == RefState.NotPresent ? "stopped at" : "ended at")} {Label(stop)}, <span class=\"mono\">{E(ReportWalks.Describe(stop))} = {ReportWalks.Raw(stop.Entry)}</span> ({E(ReportWalks.Flags(stop))})");
            if (!w.Software.IsEmpty) sb.Append($"; then KVM's software walk read {w.Software.Length} guest entr{(w.Software.Length == 1 ? "y" : "ies")}");
        }
        sb.Append(w.Filled ? "; the TLB is filled." : ".");
        if (!w.Events.IsEmpty)
        {
            sb.Append("\n<ul>");
            foreach (var e in w.Events) sb.Append(ReportEvents.IsExit(e) ? $"<li><strong>{E(ReportEvents.Describe(e))}</strong></li>" : $"<li>{E(ReportEvents.Describe(e))}</li>");
            sb.Append("</ul>");
        }
        sb.Append("</li>\n");
    }

    // ------------------------------------------------------------ the translation path

    public static void Paths(StringBuilder sb, ReportData data)
    {
        var paths = data.Modes.Where(m => m.Path is not null).ToList();
        var title = paths.Count == 0 ? "The translation path" : $"The translation of {Hex.Format(paths[0].Path!.Path.Gva)}";
        sb.Append($"<section id=\"paths\">\n<h2>{title}</h2>\n");
        if (paths.Count == 0)
        {
            sb.Append("<p>The run made no access, so there is no address to draw.</p>\n</section>\n");
            return;
        }
        var moment = data.Moment.Asked is { } asked
            ? $"after {N(paths[0].Path!.AccessesDone)} accesses (--after {E(asked)})"
            : $"at the end of the run (after {N(paths[0].Path!.AccessesDone)} accesses)";
        sb.Append($"<p>The path a TLB miss walks {moment}: every reference numbered in walk order, the raw entries and their flags below each drawing.</p>\n");
        foreach (var mode in paths) Diagram(sb, mode.Path!);
        sb.Append("</section>\n");
    }

    private static void Diagram(StringBuilder sb, PathDrawing p)
    {
        var path = p.Path;
        var mode = Mode(path.Mode);
        sb.Append($"<div class=\"path\" id=\"path-{mode}\">\n<h3>{ModeKey(path.Mode)}: process {E(path.Process)}</h3>\n");
        var (rows, columns, cells) = Grid(p);
        const int cell = 64, top = 44;
        // Room for the longest row label at about 7.5 px a character (13 px system-ui).
        var left = 16 + (int)Math.Ceiling(rows.Select(r => r.Length).DefaultIfEmpty(0).Max() * 7.5);
        var width = left + columns.Count * cell + 16;
        var height = top + rows.Count * cell + 8;
        // Drawn at its own size (never scaled up): a narrow window scales it down.
        sb.Append($"<svg class=\"diagram\" id=\"diagram-{mode}\" role=\"img\" aria-label=\"translation path in {mode}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n");
        for (var c = 0; c < columns.Count; c++)
        {
            // "EPT PDPT" over two lines, so that neighbouring heads never run into each other.
            var x = left + c * cell + cell / 2;
            var words = columns[c].Split(' ', 2);
            if (words.Length == 1) sb.Append($"<text class=\"axis\" x=\"{x}\" y=\"{top - 10}\" text-anchor=\"middle\">{E(columns[c])}</text>\n");
            else sb.Append($"<text class=\"axis\" x=\"{x}\" y=\"{top - 24}\" text-anchor=\"middle\">{E(words[0])}<tspan x=\"{x}\" dy=\"14\">{E(words[1])}</tspan></text>\n");
        }
        for (var r = 0; r < rows.Count; r++)
            sb.Append($"<text class=\"axis\" x=\"{left - 10}\" y=\"{top + r * cell + cell / 2 + 5}\" text-anchor=\"end\">{E(rows[r])}</text>\n");
        foreach (var (row, col, reference) in cells)
        {
            var x = left + col * cell + 6;
            var y = top + row * cell + 6;
            sb.Append($"<g class=\"walk-ref {KindClass(reference.Kind)} {StateClass(reference.State)}\"><rect x=\"{x}\" y=\"{y}\" width=\"{cell - 12}\" height=\"{cell - 12}\" rx=\"6\"/>");
            sb.Append($"<text x=\"{x + (cell - 12) / 2}\" y=\"{y + (cell - 12) / 2 + 5}\" text-anchor=\"middle\">{Label(reference)}</text><title>{E(Title(reference))}</title></g>\n");
        }
        sb.Append("</svg>\n");
        if (!p.Notes.IsEmpty)
        {
            sb.Append("<ul class=\"notes\">\n");
            foreach (var note in p.Notes) sb.Append($"<li>{E(note)}.</li>\n");
            sb.Append("</ul>\n");
        }
        var chains = ReportEvents.Chains(p);
        for (var i = 0; i < chains.Count; i++)
        {
            sb.Append($"<div class=\"chain{(i > 0 ? " side" : "")}\"><span class=\"title\">{E(chains[i].Title)}:</span>");
            sb.Append(string.Join("<span class=\"arrow\">→</span>", chains[i].Boxes.Select(b => $"<span class=\"addr\"><b>{E(b.Name)}</b>{E(b.Value)}</span>")));
            sb.Append("</div>\n");
        }
        var what = path.Mode == MmuMode.Software ? $"{p.Software.Length} hypervisor reference{(p.Software.Length == 1 ? "" : "s")}"
            : $"{p.Hardware.Length} walk reference{(p.Hardware.Length == 1 ? "" : "s")} from the root";
        sb.Append($"<p>{what}; a TLB miss here costs {N(path.MissCycles)} cycles");
        if (path.Mode != MmuMode.Software && path.MissReferences != p.Hardware.Length)
            sb.Append($" ({path.MissReferences} reference{(path.MissReferences == 1 ? "" : "s")}: the paging-structure caches hold the rest)");
        sb.Append(".</p>\n");
        sb.Append($"<p class=\"outcome\">{E(char.ToUpperInvariant(path.Outcome[0]) + path.Outcome[1..])}.</p>\n");
        Entries(sb, p.Hardware.AddRange(p.Software));
        sb.Append("</div>\n");
    }

    /// <summary>The raw entries and their flags, printed (not only in tooltips).</summary>
    private static void Entries(StringBuilder sb, ImmutableArray<WalkReference> references)
    {
        if (references.IsEmpty) return;
        sb.Append("<div class=\"scroll\"><table class=\"numbers entries\">\n<thead><tr><th>#</th><th>entry</th><th>raw</th><th>flags</th></tr></thead>\n<tbody>\n");
        foreach (var r in references)
            sb.Append($"<tr><td>{Label(r)}</td><td>{E(ReportWalks.Describe(r))}</td><td>{ReportWalks.Raw(r.Entry)}</td><td>{E(ReportWalks.Flags(r))}</td></tr>\n");
        sb.Append("</tbody>\n</table></div>\n");
    }

    /// <summary>
    /// The figure's rows, columns and cells. In ept: a row per guest level (and the data), a column per
    /// EPT level that some translation reads (a level a huge leaf skips everywhere has no column; the
    /// notes say why) and the guest entry. Elsewhere: a row for the hardware walk and one for the walk in
    /// software, a column per level.
    /// </summary>
    private static (List<string> Rows, List<string> Columns, List<(int Row, int Col, WalkReference Ref)> Cells) Grid(PathDrawing p)
    {
        var path = p.Path;
        var rows = new List<string>();
        var cells = new List<(int, int, WalkReference)>();
        if (path.Mode == MmuMode.Ept)
        {
            var eptLevels = p.Hardware.Where(r => r.Kind == RefKind.Ept).Select(r => r.Level).Distinct().OrderDescending().ToList();
            var columns = eptLevels.Select(l => "EPT " + ExplainPrinter.LevelName(l, 5)).Append("guest entry").ToList();
            for (var i = 0; i < path.GuestSteps.Length; i++)
                rows.Add($"{ExplainPrinter.LevelName(path.GuestSteps[i].Entry.Level, path.GuestLevels)} table at gpa {Hex.Format(path.GuestSteps[i].Entry.Table)}");
            if (path.FinalTranslation is { } final) rows.Add($"data at gpa {Hex.Format(final.Gpa)}");
            foreach (var r in p.Hardware) cells.Add((r.Row, r.Kind == RefKind.Ept ? eptLevels.IndexOf(r.Level) : eptLevels.Count, r));
            return (rows, columns, cells);
        }
        var levels = p.Hardware.Concat(p.Software).Select(r => r.Level).Distinct().OrderDescending().ToList();
        var names = levels.Select(l => ExplainPrinter.LevelName(l, path.GuestLevels)).ToList();
        if (!p.Hardware.IsEmpty)
        {
            rows.Add(path.Mode == MmuMode.Shadow ? "shadow table (the hardware walk)" : "guest table (the hardware walk)");
            foreach (var r in p.Hardware) cells.Add((rows.Count - 1, levels.IndexOf(r.Level), r));
        }
        if (!p.Software.IsEmpty)
        {
            rows.Add(path.Mode == MmuMode.Shadow ? "guest table (KVM's walk on a miss)" : "guest table (the software MMU)");
            foreach (var r in p.Software) cells.Add((rows.Count - 1, levels.IndexOf(r.Level), r));
        }
        return (rows, names, cells);
    }
}
