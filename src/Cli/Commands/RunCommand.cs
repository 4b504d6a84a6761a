using System.CommandLine;
using System.Diagnostics;
using MemScript.Cli.Reports;
using MemScript.Engine.Interpreter;
using MemScript.Engine.Tracing;
using MemScript.Language;
using MemScript.Language.Checking;
using MemScript.Language.Syntax;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace MemScript.Cli.Commands;

/// <summary><c>memscript run FILE [--mode M|all] [--trace] [--format text|json|csv]</c>.</summary>
public static class RunCommand
{
    public sealed record Settings(string File, string? Mode, bool Trace, string Format, long MaxAccesses, bool Verbose, bool Stats = false,
        CheckOptions? Check = null, bool WarningsAsErrors = false);

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "the scenario to run (.memscript)" };
        var mode = new Option<string>("--mode", "-m")
        {
            Description = "MMU mode: native, software, shadow, ept, or all to run every mode on fresh machines and compare them (default: the file's mmu line, else ept)",
        };
        mode.AcceptOnlyFromAmong([.. Vocabulary.Modes.Select(m => m.Name), "all"]);
        var trace = new Option<bool>("--trace", "-t") { Description = "print the event trace (exits, faults, fills) before the report" };
        var format = new Option<string>("--format", "-f") { Description = "report format", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json", "csv");
        var maxAccesses = CountOptions.Count("--max-accesses", "stop with an error after this many accesses per mode (0: no limit)", "no limit");
        var verbose = new Option<bool>("--verbose", "-v") { Description = "log what the engine does to stderr" };
        var stats = new Option<bool>("--stats") { Description = "print each run's simulation speed, the peak memory and the garbage collections to stderr (for benchmarks)" };
        var command = new Command("run", "Run a scenario's timeline and report cycles, TLB behaviour, walks, exits and faults.")
        {
            file, mode, trace, format, maxAccesses, verbose, stats,
        };
        var scenario = new ScenarioLoader.ScenarioOptions(command);
        var warningsAsErrors = new Option<bool>("--warnings-as-errors") { Description = "treat every warning as an error: exit 2 and run nothing" };
        command.Options.Add(warningsAsErrors);
        command.SetAction(parse => scenario.Read(parse, Console.Error) is not { } check ? ExitCodes.Usage : Execute(new Settings(parse.GetValue(file)!, parse.GetValue(mode), parse.GetValue(trace),
            parse.GetValue(format)!, parse.GetValue(maxAccesses), parse.GetValue(verbose), parse.GetValue(stats), check, parse.GetValue(warningsAsErrors)), Console.Out, Console.Error));
        return command;
    }

    /// <summary>Which modes a selection means for a checked script.</summary>
    public static IReadOnlyList<MmuMode> Modes(string? selection, CheckedScript script) => selection switch
    {
        null => [script.Machine.Mode],
        "all" => Vocabulary.AllModes,
        _ => [Vocabulary.ParseMode(selection)],
    };

    /// <param name="interrupt">Cancels like Ctrl-C (for tests).</param>
    public static int Execute(Settings settings, TextWriter output, TextWriter error, CancellationToken interrupt = default)
    {
        var loaded = ScenarioLoader.Load(settings.File, error, settings.Check, settings.WarningsAsErrors);
        if (loaded is null || loaded.Script is null) return ExitCodes.Usage;
        using var loggerFactory = Logging.Create(settings.Verbose);
        var logger = loggerFactory.CreateLogger("MemScript.Engine");

        // The first Ctrl-C stops the run cleanly and still prints what ran.
        using var cancel = new CtrlC(interrupt);
        try
        {
            var interactive = !Console.IsErrorRedirected && ReferenceEquals(error, Console.Error);
            var modes = Modes(settings.Mode, loaded.Script);
            RunOptions Options(MmuMode mode) => new()
            {
                Mode = mode,
                Trace = settings.Trace,
                MaxAccesses = settings.MaxAccesses,
                BaseDirectory = loaded.BaseDirectory,
                Cancel = cancel.Token,
            };
            List<RunResult> runs;
            // The modes are independent machines, so with several they run at once (one worker per
            // core). The log and --stats tell of one run at a time: with them, one after another.
            if (modes.Count > 1 && !settings.Verbose && !settings.Stats)
                runs = interactive ? WithProgress(loaded.Script, modes, Options, logger) : Concurrently(loaded.Script, modes, Options, logger);
            else
            {
                runs = [];
                foreach (var mode in modes)
                {
                    var options = Options(mode);
                    var gcBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
                    var clock = Stopwatch.StartNew();
                    runs.Add(interactive ? WithProgress(loaded.Script, options, mode, logger) : ScriptInterpreter.Run(loaded.Script, options, logger));
                    var seconds = clock.Elapsed.TotalSeconds;
                    if (settings.Stats)
                    {
                        var accesses = runs[^1].Counters.Accesses;
                        error.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                            $"stats {Vocabulary.ModeName(mode)}: {accesses} accesses in {seconds:F6} s = {accesses / Math.Max(seconds, 1e-9):F0} accesses/s; peak memory {Environment.WorkingSet / 1048576.0:F1} MiB now, {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F1} MiB peak; " +
                            $"garbage collections {GC.CollectionCount(0) - gcBefore.Item1}/{GC.CollectionCount(1) - gcBefore.Item2}/{GC.CollectionCount(2) - gcBefore.Item3} (gen 0/1/2), {(GC.GetTotalPauseDuration() - gcBefore.Item4).TotalMilliseconds:F0} ms paused"));
                    }
                    if (runs[^1].Interrupted) break;
                }
            }
            if (settings.Trace)
            {
                foreach (var run in runs)
                {
                    if (settings.Format == "text") output.WriteLine($"trace ({Vocabulary.ModeName(run.Mode)}):");
                    // The trace quotes mark labels as written: control characters in them are shown, not obeyed.
                    var writer = new PrintableWriter(settings.Format == "text" ? output : error);
                    TraceFormatter.WriteAll(writer, run.Trace, run.TraceDropped);
                    writer.WriteLine();
                }
            }
            // Faults or MMIO that no expect mentions (MS0804): said after the runs, an error only with --warnings-as-errors.
            var warnings = RunWarnings.Unmentioned(loaded.Script, [.. runs.Select(r => (r.Mode, r.Counters.Segv, r.Counters.Mmio))]).ToList();
            foreach (var w in warnings)
                error.Write(MemScript.Language.Diagnostics.DiagnosticFormatter.Format(loaded.Source, settings.WarningsAsErrors ? w with { Severity = MemScript.Language.Diagnostics.Severity.Error } : w));
            var context = new ReportContext(settings.File, loaded.Source, runs);
            // A Ctrl-C that stopped the run must not stop its report too; one pressed while printing does
            // (and after a first one, a second ends the process).
            var printing = cancel.Token.IsCancellationRequested ? CancellationToken.None : cancel.Token;
            var terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            switch (settings.Format)
            {
                case "json":
                    output.Write(JsonReport.Render(context));
                    break;
                case "csv":
                    output.Write(CsvReport.Render(context));
                    break;
                default:
                    var width = TextReport.Width(Environment.GetEnvironmentVariable("COLUMNS"), terminal ? AnsiConsole.Console.Profile.Width : null);
                    if (terminal && Environment.GetEnvironmentVariable("NO_COLOR") is null)
                        TextReport.Render(context, AnsiConsole.Console, plain: false, width, printing);
                    else
                        output.Write(TextReport.RenderPlain(context, width, printing));
                    break;
            }
            // Failed expectations and run-time errors also go to stderr in every format, so that a report
            // sent to a file or a pipe does not hide them (on a terminal the text report shows them already).
            if (settings.Format != "text" || !terminal) error.Write(context.FormatProblems());
            return runs.All(r => r.Success) && !(settings.WarningsAsErrors && warnings.Count > 0) ? ExitCodes.Success : ExitCodes.RunFailed;
        }
        catch (OperationCanceledException) when (cancel.Token.IsCancellationRequested)
        {
            // Ctrl-C while a long report was printed: whatever reached the terminal stays, the rest is not printed.
            output.Flush();
            error.WriteLine("memscript: interrupted while printing the report");
            return ExitCodes.RunFailed;
        }
    }

    /// <summary>
    /// Runs every mode at once on its own fresh machine, at most one worker per core. Each result is
    /// kept at its mode's place, so the report is the same bytes as when the modes run one after
    /// another. Ctrl-C stops every mode under way; each reports what it ran.
    /// </summary>
    public static List<RunResult> Concurrently(CheckedScript script, IReadOnlyList<MmuMode> modes, Func<MmuMode, RunOptions> options, ILogger logger)
    {
        var results = new RunResult[modes.Count];
        Parallel.For(0, modes.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            i => results[i] = ScriptInterpreter.Run(script, options(modes[i]), logger));
        return [.. results];
    }

    /// <summary>Every mode at once, with a status line on stderr once the runs have taken more than about a second: each mode's accesses so far.</summary>
    private static List<RunResult> WithProgress(CheckedScript script, IReadOnlyList<MmuMode> modes, Func<MmuMode, RunOptions> options, ILogger logger)
    {
        var clock = Stopwatch.StartNew();
        var done = new long[modes.Count];
        List<RunResult>? results = null;
        var runs = Task.Run(() => results = Concurrently(script, modes,
            mode => options(mode) with { Progress = n => Interlocked.Exchange(ref done[IndexOf(modes, mode)], n) }, logger));
        if (!runs.Wait(TimeSpan.FromSeconds(1)))
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            console.Status().Start("running...", status =>
            {
                while (!runs.Wait(200))
                {
                    var each = string.Join(", ", modes.Select((m, i) => $"{Vocabulary.ModeName(m)} {Interlocked.Read(ref done[i]):N0}"));
                    status.Status($"running: {each} accesses, {clock.Elapsed.TotalSeconds:0.0} s (Ctrl-C stops and reports)");
                }
            });
        }
        // An exception on a worker (memory running out) is rethrown here as it was, not wrapped.
        try
        {
            runs.Wait();
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
        return results!;
    }

    private static int IndexOf(IReadOnlyList<MmuMode> modes, MmuMode mode)
    {
        for (var i = 0; i < modes.Count; i++)
            if (modes[i] == mode) return i;
        throw new ArgumentException($"mode {mode} is not among the runs", nameof(mode));
    }

    /// <summary>Runs with a progress bar on stderr once the run has taken more than about a second.</summary>
    private static RunResult WithProgress(CheckedScript script, RunOptions options, MmuMode mode, ILogger logger)
    {
        var clock = Stopwatch.StartNew();
        RunResult? result = null;
        Exception? failure = null;
        long done = 0;
        // An exception on the worker (memory running out) would end the process with a stack trace: it is rethrown here instead.
        var worker = new Thread(() =>
        {
            try
            {
                result = ScriptInterpreter.Run(script, options with { Progress = n => Interlocked.Exchange(ref done, n) }, logger);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }, 64 * 1024 * 1024);
        worker.Start();
        if (!worker.Join(TimeSpan.FromSeconds(1)))
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            console.Status().Start($"running in {Vocabulary.ModeName(mode)}...", status =>
            {
                while (!worker.Join(200))
                    status.Status($"running in {Vocabulary.ModeName(mode)}: {Interlocked.Read(ref done):N0} accesses, {clock.Elapsed.TotalSeconds:0.0} s (Ctrl-C stops and reports)");
            });
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        return result!;
    }
}
