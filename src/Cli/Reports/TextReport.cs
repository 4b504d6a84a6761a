using System.Globalization;
using MemScript.Engine.Accounting;
using MemScript.Engine.Interpreter;
using MemScript.Language;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;
using Spectre.Console;
using Spectre.Console.Rendering;

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

    private static void RenderMarks(RunResult run, Output output)
    {
        var console = output.Console;
        if (run.Marks.IsEmpty) return;
        var table = NewTable("Between marks", "segment", "accesses", "cycles", "tlb.misses", "walk.refs", "hv.refs", "exits", "faults", "bandwidth");
        var previous = CounterSet.Zero;
        var previousLabel = "start";
        foreach (var point in Segments(run))
        {
            output.Cancel.ThrowIfCancellationRequested();
            var d = point.Counters.Subtract(previous);
            AddRow(table, $"{previousLabel} -> {point.Label}", N(d.Accesses), N(d.Cycles), N(d.TlbMisses), N(d.WalkRefs), N(d.HvRefs),
                N(d.Exits), N(d.GuestFaults + d.HostFaults), Bandwidth(d.Accesses, d.Cycles, run.Options.ClockHz));
            previous = point.Counters;
            previousLabel = point.Label;
        }
        output.Write(table);
        Line(console);
    }

    /// <summary>
    /// The marks and the end of the run, without an empty last segment when the run ends at a mark; the
    /// labels with control characters made visible (a label may hold ESC, or a line separator that would split its row).
    /// </summary>
    private static IEnumerable<(string Label, CounterSet Counters)> Segments(RunResult run)
    {
        var points = run.Marks.Select(m => (DiagnosticFormatter.Escape(m.Label), m.Counters)).ToList();
        if (points.Count == 0 || points[^1].Counters.Cycles != run.Counters.Cycles || points[^1].Counters.Accesses != run.Counters.Accesses)
            points.Add(("end", run.Counters));
        return points;
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

        if (runs.Any(r => !r.Marks.IsEmpty))
        {
            var marks = NewTable("Cycles between marks (bandwidth)", ["segment", .. columns[1..]]);
            var labels = Segments(runs.First(r => !r.Marks.IsEmpty)).Select(s => s.Label).ToList();
            // Each run's points once, not once per row: thousands of marks made this loop quadratic.
            var points = runs.Select(r => Segments(r).Select(s => s.Counters).ToList()).ToList();
            var previousLabel = "start";
            for (var i = 0; i < labels.Count; i++)
            {
                if ((i & 1023) == 1023) output.Cancel.ThrowIfCancellationRequested();
                var cells = runs.Select((r, m) =>
                {
                    if (i >= points[m].Count) return "-";
                    var before = i == 0 ? CounterSet.Zero : points[m][i - 1];
                    var d = points[m][i].Subtract(before);
                    return $"{N(d.Cycles)} ({Bandwidth(d.Accesses, d.Cycles, r.Options.ClockHz)})";
                });
                AddRow(marks, [$"{previousLabel} -> {labels[i]}", .. cells]);
                previousLabel = labels[i];
            }
            output.Write(marks);
            Line(console);
        }

        foreach (var run in runs) RenderOutcome(context, run, console);
    }
}
