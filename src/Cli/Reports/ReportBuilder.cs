using System.Collections.Immutable;
using System.Globalization;
using MemScript.Engine;
using MemScript.Engine.Interpreter;
using MemScript.Language.Checking;

namespace MemScript.Cli.Reports;

/// <summary>Why a report was not made: a message for stderr and the exit code.</summary>
public sealed class ReportStopped(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>
/// Runs a scenario for the HTML report: each mode once, its trace aggregated as it happens
/// (<see cref="ReportTraceSink"/>); the translation path at the moment asked for; the memslot map from
/// the first mode's machine; and the reruns of "which assumption decides". What it computes is the
/// report's data (<see cref="ReportData"/>); the page only draws it.
/// </summary>
public static class ReportBuilder
{
    /// <summary>
    /// What the command line asks: the address to follow (null: the first access), the moment of the
    /// path drawing (<c>--after</c>: a number of accesses or a mark's label), the access limit of every
    /// run, and the largest run the assumption table reruns.
    /// </summary>
    public sealed record Request(ulong? At = null, string? After = null, long MaxAccesses = 0, long RerunLimit = ReportAssumptions.DefaultLimit,
        string BaseDirectory = ".", CancellationToken Cancel = default);

    /// <exception cref="ReportStopped">Ctrl-C stopped a run, or <c>--after</c> names no mark of the run.</exception>
    public static ReportData Build(ReportInput input, IReadOnlyList<MmuMode> modes, Request request)
    {
        var script = input.Script;
        var options = new RunOptions { BaseDirectory = request.BaseDirectory, MaxAccesses = request.MaxAccesses, Cancel = request.Cancel };
        var modeData = ImmutableArray.CreateBuilder<ModeData>();
        MemslotMap? memslots = null;
        PathMoment? moment = null;
        // The modes are independent machines: they run at once, one worker per core, and each result
        // keeps its mode's place, so the page is the same bytes as when they ran one after another.
        var kept = new (RunResult Run, Machine Machine, ReportTraceSink Sink)[modes.Count];
        try
        {
            Parallel.For(0, modes.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            {
                ReportTraceSink? sink = null;
                var (run, machine) = ScriptInterpreter.RunAndKeep(script, options with { Mode = modes[i], TraceSink = m => sink = new ReportTraceSink(m, request.At) });
                kept[i] = (run, machine, sink!);
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
        {
            // A worker's failure (memory running out) is rethrown as it was, as a sequential run would.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
        for (var i = 0; i < modes.Count; i++)
        {
            var mode = modes[i];
            var (run, machine, sink) = kept[i];
            if (run.Interrupted) throw Interrupted(mode);
            // The guest's tables end the same in every mode, and every mode runs the same timeline (its
            // marks after the same accesses): the first run gives the map and the moment.
            memslots ??= ReportMemslots.Of(machine, script);
            moment ??= Moment(request.After, run);
            var path = Path(script, options with { Mode = mode }, machine, request, moment, run);
            modeData.Add(new ModeData(run, sink.Timeline(run), sink.FirstWalks(), path));
        }
        var runs = modeData.Select(m => m.Run).ToList();

        AssumptionTable assumptions;
        try
        {
            assumptions = ReportAssumptions.Of(script, runs, options, request.RerunLimit);
        }
        catch (OperationCanceledException)
        {
            throw Interrupted(null);
        }
        return new ReportData(new ReportContext(input.DisplayPath, input.Source, runs), script.Machine.Profile, modeData.ToImmutable(),
            memslots ?? new MemslotMap([], [], false), assumptions, moment ?? new PathMoment(null, null));
    }

    private static ReportStopped Interrupted(MmuMode? mode) =>
        new(mode is { } m ? $"interrupted in {Vocabulary.ModeName(m)}" : "interrupted", ExitCodes.RunFailed);

    /// <summary>The moment of the path drawing: <c>--after</c> as a number of accesses, or the first mark with that label.</summary>
    private static PathMoment Moment(string? after, RunResult run)
    {
        if (after is null) return new PathMoment(null, null);
        var digits = after.Replace("_", "", StringComparison.Ordinal);
        if (long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return new PathMoment(n, after);
        var mark = run.Marks.FirstOrDefault(m => m.Label == after) ?? throw new ReportStopped(NoMark(after, run), ExitCodes.Usage);
        return new PathMoment(mark.Counters.Accesses, after);
    }

    private static string NoMark(string label, RunResult run)
    {
        var labels = run.Marks.Select(m => m.Label).Distinct().Take(10).ToList();
        var escaped = MemScript.Language.Diagnostics.DiagnosticFormatter.Escape(label);
        return labels.Count == 0
            ? $"--after '{escaped}' is neither a number of accesses nor a mark: the run has no mark"
            : $"--after '{escaped}' is neither a number of accesses nor a mark of the run; its marks are {string.Join(", ", labels.Select(l => "'" + MemScript.Language.Diagnostics.DiagnosticFormatter.Escape(l) + "'"))}";
    }

    /// <summary>The translation of the address at the moment: on the kept machine at the end, or on a second run stopped there.</summary>
    private static PathDrawing? Path(CheckedScript script, RunOptions options, Machine atEnd, Request request, PathMoment moment, RunResult run)
    {
        var address = request.At ?? atEnd.FirstAccess;
        if (address is not { } gva) return null;
        var machine = atEnd;
        var done = run.Counters.Accesses;
        if (moment.Accesses is { } asked)
        {
            // A limit below the moment stops the run there, as it stopped the run above.
            var stop = request.MaxAccesses > 0 ? Math.Min(asked, request.MaxAccesses) : asked;
            var (stopped, kept) = ScriptInterpreter.RunAndKeep(script, options with { MaxAccesses = 0 }, stop);
            if (stopped.Interrupted) throw Interrupted(options.Mode);
            (machine, done) = (kept, stopped.Counters.Accesses);
        }
        var process = machine.Current?.Name ?? script.Processes.FirstOrDefault()?.Name;
        if (process is null) return null;
        var path = machine.Explain(process, gva);
        var hardware = ReportWalks.Hardware(path);
        var software = ReportWalks.Software(path);
        return new PathDrawing(path, done, hardware, software, ReportWalks.HugeLeafNotes(hardware.AddRange(software)));
    }
}

/// <summary>A checked scenario with the name and text its report shows.</summary>
public sealed record ReportInput(string DisplayPath, MemScript.Language.Syntax.SourceText Source, CheckedScript Script);
