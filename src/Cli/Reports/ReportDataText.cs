using System.Globalization;
using System.Text;
using MemScript.Engine.Interpreter;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;
using MemScript.Language.Diagnostics;

namespace MemScript.Cli.Reports;

/// <summary>
/// The report's data as plain text, section by section, with no styling: what the data snapshots of the
/// examples lock, so that a change of what the page shows is reviewed as a diff of numbers and words.
/// </summary>
public static class ReportDataText
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Segments written per run at most (first and last); the HTML shows as many.</summary>
    public const int MaxSegments = 40;

    public static string Write(ReportData data)
    {
        var sb = new StringBuilder();
        sb.Append($"report {DiagnosticFormatter.Escape(data.Context.DisplayPath)}, profile {data.Profile.ToString().ToLowerInvariant()}, ");
        sb.Append($"modes {string.Join(" ", data.Modes.Select(m => Vocabulary.ModeName(m.Mode)))}\n");
        foreach (var mode in data.Modes) WriteMode(sb, data, mode);
        WriteMemslots(sb, data.Memslots);
        WriteAssumptions(sb, data);
        return sb.ToString();
    }

    private static string H(ulong v) => Hex.Format(v);

    private static void WriteMode(StringBuilder sb, ReportData data, ModeData mode)
    {
        var run = mode.Run;
        sb.Append($"\n== {Vocabulary.ModeName(mode.Mode)}: {run.Counters.Accesses} accesses, {run.Counters.Cycles} cycles, {run.Counters.Exits} exits\n");

        sb.Append("segments\n");
        var native = data.Runs.FirstOrDefault(r => r.Mode == MmuMode.Native) is { } n ? Segments.Of(n) : default;
        var segments = Segments.Of(run);
        foreach (var s in Shown(segments.Length).Select(i => segments[i]))
        {
            var slowdown = native.IsDefault || mode.Mode == MmuMode.Native || s.Index >= native.Length ? null : s.SlowdownAgainst(native[s.Index]);
            sb.Append($"  {s.Index} {DiagnosticFormatter.Escape(s.Name)}: accesses {s.Counters.Accesses}, cycles {s.Counters.Cycles}, ");
            sb.Append($"cycles/access {Fig(s.CyclesPerAccess, "0.00")}, bandwidth {Fig(s.Bandwidth(run.Options.ClockHz), "0")} MB/s");
            if (slowdown is not null) sb.Append($", slowdown {Fig(slowdown, "0.00")}x");
            sb.Append('\n');
        }
        if (segments.Length > MaxSegments) sb.Append($"  ({segments.Length - MaxSegments} segments in the middle left out)\n");

        var t = mode.Timeline;
        sb.Append($"timeline: {t.Accesses} accesses in {t.Buckets} buckets of {t.BucketWidth}\n");
        foreach (var series in t.Series) sb.Append($"  {series.Name} ({series.Total}): {Sparse(series.Counts)}\n");
        foreach (var mark in t.Marks) sb.Append($"  mark {DiagnosticFormatter.Escape(mark.Label)} after {mark.Access}\n");
        if (t.MarksLeftOut > 0) sb.Append($"  ({t.MarksLeftOut} marks not drawn)\n");

        var f = mode.FirstWalks;
        sb.Append($"first walks of {H(f.Address)}{(f.Defaulted ? " (the first access)" : "")}{(f.Process is { } process ? " in process " + DiagnosticFormatter.Escape(process) : "")}: {f.Walks.Length}{(f.Filled ? ", the last filled the TLB" : "")}{(f.Cut ? ", cut" : "")}\n");
        if (f.Note is { } note) sb.Append($"  {note}\n");
        foreach (var w in f.Walks)
        {
            sb.Append($"  walk {w.Number}: access {w.Access} {Kind(w.Kind)} {H(w.Address)}, {w.CountedRefs} references counted, {w.Hardware.Length} on the path");
            sb.Append(w.Filled ? ", filled the TLB\n" : "\n");
            foreach (var r in w.Hardware.Where(r => r.State != RefState.Ok)) sb.Append($"    stopped at {r.Number}: {Reference(r)}\n");
            if (!w.Software.IsEmpty) sb.Append($"    software walk: {w.Software.Length} guest entries{(w.Software[^1].State == RefState.Ok ? "" : ", the last not present")}\n");
            foreach (var e in w.Events) sb.Append($"    {ReportEvents.Describe(e)}\n");
        }

        if (mode.Path is { } p)
        {
            sb.Append($"path of {H(p.Path.Gva)} in process {p.Path.Process} after {p.AccessesDone} accesses: {p.Hardware.Length} hardware, {p.Software.Length} software references; ");
            sb.Append($"a miss costs {p.Path.MissCycles} cycles\n");
            foreach (var r in p.Hardware.Concat(p.Software)) sb.Append($"  {(r.Kind == RefKind.Software ? "s" : "")}{r.Number} {Reference(r)}\n");
            foreach (var chain in ReportEvents.Chain(p)) sb.Append($"  {chain}\n");
            foreach (var line in p.Notes) sb.Append($"  note: {line}\n");
            sb.Append($"  outcome: {p.Path.Outcome}\n");
        }
    }

    private static string Reference(WalkReference r) =>
        $"{ReportWalks.Describe(r)} = {ReportWalks.Raw(r.Entry)} ({ReportWalks.Flags(r)}){(r.State == RefState.Forbids ? ", ended the walk" : "")}";

    private static void WriteMemslots(StringBuilder sb, MemslotMap map)
    {
        sb.Append("\nmemslots\n");
        foreach (var v in map.Slots)
        {
            sb.Append($"  {ReportEvents.SlotLine(v.Slot)}\n");
            sb.Append($"    tables: {v.TableCount}");
            if (!v.Tables.IsEmpty) sb.Append(": " + string.Join(", ", v.Tables.Select(ReportEvents.RangeText)));
            if (v.TablesLeftOut > 0) sb.Append($", and {v.TablesLeftOut} more ranges");
            sb.Append($"\n    data: {ReportEvents.Bytes(v.DataBytes)}");
            if (!v.Data.IsEmpty) sb.Append(": " + string.Join(", ", v.Data.Select(ReportEvents.RangeText)));
            if (v.DataLeftOut > 0) sb.Append($", and {v.DataLeftOut} more ranges");
            sb.Append('\n');
        }
        if (!map.Outside.IsEmpty) sb.Append($"  in no slot (MMIO): {string.Join(", ", map.Outside.Select(ReportEvents.RangeText))}\n");
        if (map.TooScattered) sb.Append("  the data pages are too scattered to list\n");
    }

    private static void WriteAssumptions(StringBuilder sb, ReportData data)
    {
        var table = data.Assumptions;
        sb.Append("\nassumptions\n");
        if (table.Skipped is { } why)
        {
            sb.Append($"  {why}\n");
            return;
        }
        var baseline = data.Runs.Select(r => (r.Mode, (ulong?)r.Counters.Cycles)).ToList();
        sb.Append($"  as run: {string.Join(", ", baseline.Select(b => $"{Vocabulary.ModeName(b.Mode)} {b.Item2}"))}; {ReportAssumptions.Ranking(baseline)}\n");
        foreach (var row in table.Rows)
        {
            sb.Append($"  {row.Feature} {row.Value} -> {row.Classic}{(row.Declared ? " (declared in the file)" : "")}: ");
            if (row.AlreadyClassic)
            {
                sb.Append("already the classic value\n");
                continue;
            }
            sb.Append(string.Join(", ", row.Runs.Select(r => $"{Vocabulary.ModeName(r.Mode)} {(r.Cycles is { } c ? c.ToString(Invariant) : "error: " + r.Error)}")));
            sb.Append($"; {ReportAssumptions.Ranking(row.Runs.Select(r => (r.Mode, r.Cycles)))}\n");
        }
    }

    /// <summary>The indexes of the segments shown: all, or the first and last halves of <see cref="MaxSegments"/>.</summary>
    public static IEnumerable<int> Shown(int count) =>
        count <= MaxSegments ? Enumerable.Range(0, count) : Enumerable.Range(0, MaxSegments / 2).Concat(Enumerable.Range(count - MaxSegments / 2, MaxSegments / 2));

    private static string Fig(double? v, string format) => v is { } x ? x.ToString(format, Invariant) : "-";

    private static string Kind(AccessKind kind) => kind switch { AccessKind.Read => "read", AccessKind.Write => "write", _ => "exec" };

    /// <summary>Non-zero buckets as index:count, in order.</summary>
    private static string Sparse(IEnumerable<long> counts) =>
        string.Join(" ", counts.Select((c, i) => (c, i)).Where(x => x.c != 0).Select(x => $"{x.i}:{x.c}"));
}
