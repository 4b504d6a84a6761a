using System.Globalization;
using MemScript.Engine.Accounting;
using MemScript.Engine.Interpreter;
using MemScript.Language;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;
using Spectre.Console;
using Spectre.Console.Rendering;
using Segment = MemScript.Engine.Interpreter.Segment;

namespace MemScript.Cli.Reports;

/// <summary>
/// The human report: counters, where the cycles went, exits by reason in the style of
/// <c>perf kvm stat</c>, time and bandwidth at the clock, deltas between marks, and expectations.
/// Rendered with Spectre.Console; with a plain console (redirected output) it is stable ASCII.
/// </summary>
public static class TextReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>A console that writes plain, fixed-width ASCII: for redirected output, NO_COLOR and snapshots.</summary>
    public static IAnsiConsole PlainConsole(TextWriter writer, int width = 120)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = width;
        return console;
    }

    /// <summary>
    /// Renders to a string with the plain console (what snapshot tests lock in); <paramref name="width"/>
    /// is the width tables must fit (null: each as wide as its content).
    /// </summary>
    public static string RenderPlain(ReportContext context, int? width = null, CancellationToken cancel = default)
    {
        using var writer = new StringWriter(Invariant) { NewLine = "\n" };
        Render(context, PlainConsole(writer), plain: true, width, cancel);
        return writer.ToString().Replace("\r\n", "\n");
    }

    /// <summary>
    /// Renders the report; a table wider than <paramref name="width"/> is split, never wrapped or cut
    /// (null: no limit). <paramref name="cancel"/> (Ctrl-C) stops it between rows with an OperationCanceledException.
    /// </summary>
    public static void Render(ReportContext context, IAnsiConsole console, bool plain, int? width = null, CancellationToken cancel = default)
    {
        var output = new Output(console, plain ? TableBorder.Ascii : TableBorder.Rounded, width, cancel);
        if (context.Runs.Count == 1) RenderSingle(context, context.Runs[0], output);
        else RenderComparison(context, output);
    }

    /// <summary>
    /// The width tables must fit: COLUMNS when it is a positive number, else the terminal's width when
    /// the report goes to one, else none: a file or a pipe gets every table whole, as wide as its content.
    /// </summary>
    public static int? Width(string? columns, int? terminalWidth) =>
        int.TryParse(columns, NumberStyles.None, Invariant, out var n) && n > 0 ? n : terminalWidth;

    /// <summary>Where and how tables are written.</summary>
    private sealed record Output(IAnsiConsole Console, TableBorder Border, int? Width, CancellationToken Cancel)
    {
        public void Write(Grid grid) => TableLayout.Write(Console, Border, grid, Width, Cancel);
    }

    private static Grid NewTable(string title, params string[] columns) => new(title, columns);

    // Plain lines bypass Spectre's word wrapping: a diagnostic or a long path must stay one line.
    private static void Raw(IAnsiConsole console, string text) => console.Profile.Out.Writer.Write(text.Replace("\r\n", "\n"));

    private static void Line(IAnsiConsole console, string text = "") => Raw(console, text + "\n");

    private static void AddRow(Grid table, params string[] cells) => table.Add(cells);

    private static string N(long value) => value.ToString("N0", Invariant);
    private static string N(ulong value) => value.ToString("N0", Invariant);
    private static string Percent(double share) => (share * 100).ToString("0.0", Invariant) + "%";

    public static string Time(ulong cycles, ulong hz)
    {
        var seconds = (double)cycles / hz;
        return seconds switch
        {
            < 1e-6 => (seconds * 1e9).ToString("0.##", Invariant) + " ns",
            < 1e-3 => (seconds * 1e6).ToString("0.##", Invariant) + " us",
            < 1 => (seconds * 1e3).ToString("0.##", Invariant) + " ms",
            _ => seconds.ToString("0.###", Invariant) + " s",
        };
    }

    /// <summary>
    /// Bandwidth at 8 bytes per access, in MB/s (10^6 bytes), as the seed's measurement gives it; "-"
    /// when nothing was accessed (a segment of flushes or maps), where "0 MB/s" would read as a measurement.
    /// </summary>
    public static string Bandwidth(long accesses, ulong cycles, ulong hz) =>
        cycles == 0 || accesses == 0 ? "-" : (accesses * 8.0 / ((double)cycles / hz) / 1e6).ToString("0", Invariant) + " MB/s";

    private static string ClockText(ulong hz) => (hz / 1e9).ToString("0.###", Invariant) + " GHz";

    private static void RenderSingle(ReportContext context, RunResult run, Output output)
    {
        var console = output.Console;
        var mode = Vocabulary.ModeName(run.Mode);
        Line(console, $"memscript run {DiagnosticFormatter.Escape(context.DisplayPath)} (mode {mode})");
        Line(console);

        var counters = NewTable("Counters", "counter", "value");
        foreach (var (name, value) in run.Counters.Named()) AddRow(counters, name, N(value));
        output.Write(counters);
        Line(console);

        var hz = run.Options.ClockHz;
        Line(console, $"time at {ClockText(hz)}: {Time(run.Counters.Cycles, hz)}; " +
                          $"bandwidth at 8 bytes per access: {Bandwidth(run.Counters.Accesses, run.Counters.Cycles, hz)}");
        var whole = Segments.Of(run)[^1] with { Counters = run.Counters };
        Line(console, $"cycles per access: {Figure(whole.CyclesPerAccess, "0.00")}; TLB miss rate: {Share(whole.TlbMissRate)}; " +
                          $"exits per 1,000 accesses: {Figure(whole.ExitsPerThousand, "0.00")}");
        Line(console);

        var total = Math.Max(1UL, run.Counters.Cycles);
        var cycles = NewTable("Where the cycles went", "category", "cycles", "share");
        foreach (var (category, value) in CycleBreakdown.Of(run.Counters).Where(c => c.Cycles > 0))
            AddRow(cycles, category, N(value), Percent((double)value / total));
        output.Write(cycles);
        Line(console);

        if (run.Counters.Exits > 0)
        {
            var exits = NewTable("VM exits by reason", "reason", "number", "count", "share", "cycles", "cycles/exit");
            for (var i = 0; i < Vocabulary.ExitReasons.Length; i++)
            {
                var count = run.Counters.ExitsByReason[i];
                if (count == 0) continue;
                var reason = (ExitReason)i;
                var c = run.Counters.CyclesByExit[i];
                AddRow(exits, reason.Name(), reason.Number()?.ToString(Invariant) ?? "-", N(count),
                    Percent((double)count / run.Counters.Exits), N(c), N(c / (ulong)count));
            }
            output.Write(exits);
            Line(console);
        }

        RenderMarks(run, output);
        RenderOutcome(context, run, console);
    }

    private static string Figure(double? value, string format) => value is { } v ? v.ToString(format, Invariant) : "-";

    private static string Share(double? value) => value is { } v ? (v * 100).ToString("0.00", Invariant) + "%" : "-";

    private static string Slowdown(double? value) => value is { } v ? v.ToString("0.00", Invariant) + "x" : "-";

    private static string SegmentName(Segment s) => $"{s.Index} {DiagnosticFormatter.Escape(s.Name)}";

    /// <summary>Each segment of a run with marks: its counters and derived figures (LANGUAGE.md v2, "Segments").</summary>
    private static void RenderMarks(RunResult run, Output output)
    {
        var console = output.Console;
        if (run.Marks.IsEmpty) return;
        var table = NewTable("Segments", "segment", "accesses", "cycles", "cycles/access", "tlb.misses", "tlb miss rate", "walk.refs", "hv.refs",
            "exits", "exits/1000", "faults", "bandwidth");
        foreach (var s in Segments.Of(run))
        {
            if ((s.Index & 1023) == 1023) output.Cancel.ThrowIfCancellationRequested();
            var d = s.Counters;
            AddRow(table, SegmentName(s), N(d.Accesses), N(d.Cycles), Figure(s.CyclesPerAccess, "0.00"), N(d.TlbMisses), Share(s.TlbMissRate),
                N(d.WalkRefs), N(d.HvRefs), N(d.Exits), Figure(s.ExitsPerThousand, "0.00"), N(d.GuestFaults + d.HostFaults),
                Bandwidth(d.Accesses, d.Cycles, run.Options.ClockHz));
        }
        output.Write(table);
        Line(console);
    }

    /// <summary>
    /// The segments side by side, one table per figure: cycles per access, slowdown against native (when
    /// native ran), TLB miss rate, exits per 1,000 accesses and bandwidth. Every run executes the same
    /// timeline, so their segments line up; a run that stopped early shows "-" for the ones it did not reach.
    /// </summary>
    private static void RenderSegmentComparison(IReadOnlyList<RunResult> runs, string[] columns, Output output)
    {
        // Each run's segments once, not once per row: thousands of marks made this loop quadratic.
        var segments = runs.Select(r => Segments.Of(r)).ToList();
        var longest = segments.MaxBy(s => s.Length);
        var native = runs.ToList().FindIndex(r => r.Mode == MmuMode.Native);
        (string Title, Func<int, Segment, string> Cell)[] figures =
        [
            ("Cycles per access by segment", (_, s) => Figure(s.CyclesPerAccess, "0.00")),
            ("Slowdown against native by segment", (i, s) => native < 0 ? "-" : Slowdown(i < segments[native].Length ? s.SlowdownAgainst(segments[native][i]) : null)),
            ("TLB miss rate by segment", (_, s) => Share(s.TlbMissRate)),
            ("Exits per 1,000 accesses by segment", (_, s) => Figure(s.ExitsPerThousand, "0.00")),
            ("Bandwidth by segment", (_, s) => Bandwidth(s.Counters.Accesses, s.Counters.Cycles, runs[0].Options.ClockHz)),
        ];
        foreach (var (title, cell) in figures)
        {
            if (native < 0 && title.StartsWith("Slowdown", StringComparison.Ordinal)) continue;
            var table = NewTable(title, ["segment", .. columns[1..]]);
            for (var i = 0; i < longest.Length; i++)
            {
                if ((i & 1023) == 1023) output.Cancel.ThrowIfCancellationRequested();
                AddRow(table, [SegmentName(longest[i]), .. segments.Select(s => i < s.Length ? cell(i, s[i]) : "-")]);
            }
            output.Write(table);
            Line(output.Console);
        }
    }

    private static void RenderOutcome(ReportContext context, RunResult run, IAnsiConsole console)
    {
        if (!run.Expects.IsEmpty)
        {
            var failed = run.Expects.Count(e => !e.Passed);
            Line(console, $"expectations ({Vocabulary.ModeName(run.Mode)}): {run.Expects.Length - failed} passed, {failed} failed");
            foreach (var e in run.Expects.Where(e => !e.Passed))
                Raw(console, DiagnosticFormatter.Format(context.Source, Errors.ExpectFailed(e.Span, ScriptInterpreter.Describe(e, run.Mode))));
        }
        if (run.Interrupted) Line(console, $"interrupted ({Vocabulary.ModeName(run.Mode)}): the report shows what ran before Ctrl-C");
        if (run.Error is { } error)
        {
            Line(console, $"run-time error in {Vocabulary.ModeName(run.Mode)}:");
            Raw(console, DiagnosticFormatter.Format(context.Source, error));
        }
    }

    private static void RenderComparison(ReportContext context, Output output)
    {
        var console = output.Console;
        var runs = context.Runs;
        Line(console, $"memscript run {DiagnosticFormatter.Escape(context.DisplayPath)} (modes {string.Join(", ", runs.Select(r => Vocabulary.ModeName(r.Mode)))})");
        Line(console);
        var columns = new[] { "counter" }.Concat(runs.Select(r => Vocabulary.ModeName(r.Mode))).ToArray();

        var table = NewTable("Comparison", columns);
        var names = runs.SelectMany(r => r.Counters.Named().Select(n => n.Name)).Distinct().ToList();
        foreach (var name in names)
            AddRow(table, [name, .. runs.Select(r => N(r.Counters.Get(name)))]);
        var baseline = runs.FirstOrDefault(r => r.Mode == MmuMode.Native) ?? runs[0];
        AddRow(table, ["slowdown vs " + Vocabulary.ModeName(baseline.Mode),
            .. runs.Select(r => baseline.Counters.Cycles == 0 ? "-" : ((double)r.Counters.Cycles / baseline.Counters.Cycles).ToString("0.00", Invariant) + "x")]);
        AddRow(table, ["time at " + ClockText(runs[0].Options.ClockHz), .. runs.Select(r => Time(r.Counters.Cycles, r.Options.ClockHz))]);
        AddRow(table, ["bandwidth", .. runs.Select(r => Bandwidth(r.Counters.Accesses, r.Counters.Cycles, r.Options.ClockHz))]);
        var wholes = runs.Select(r => Segments.Of(r)[^1] with { Counters = r.Counters }).ToList();
        AddRow(table, ["cycles per access", .. wholes.Select(w => Figure(w.CyclesPerAccess, "0.00"))]);
        AddRow(table, ["tlb miss rate", .. wholes.Select(w => Share(w.TlbMissRate))]);
        AddRow(table, ["exits per 1,000 accesses", .. wholes.Select(w => Figure(w.ExitsPerThousand, "0.00"))]);
        output.Write(table);
        Line(console);

        var cycles = NewTable("Where the cycles went", ["category", .. columns[1..]]);
        foreach (var (category, kinds) in CycleBreakdown.Categories)
        {
            var values = runs.Select(r => CycleBreakdown.Of(r.Counters).First(c => c.Category == category).Cycles).ToList();
            if (values.All(v => v == 0)) continue;
            AddRow(cycles, [category, .. values.Zip(runs, (v, r) => v == 0 ? "-" : $"{N(v)} ({Percent((double)v / Math.Max(1, r.Counters.Cycles))})")]);
        }
        output.Write(cycles);
        Line(console);

        if (runs.Any(r => r.Counters.Exits > 0))
        {
            var exits = NewTable("VM exits by reason (count / cycles)", ["reason", .. columns[1..]]);
            for (var i = 0; i < Vocabulary.ExitReasons.Length; i++)
            {
                if (runs.All(r => r.Counters.ExitsByReason[i] == 0)) continue;
                AddRow(exits, [((ExitReason)i).Name(), .. runs.Select(r => r.Counters.ExitsByReason[i] == 0 ? "-"
                    : $"{N(r.Counters.ExitsByReason[i])} / {N(r.Counters.CyclesByExit[i])}")]);
            }
            output.Write(exits);
            Line(console);
        }

        if (runs.Any(r => !r.Marks.IsEmpty)) RenderSegmentComparison(runs, columns, output);

        foreach (var run in runs) RenderOutcome(context, run, console);
    }
}
