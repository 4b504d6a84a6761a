using System.Collections.Concurrent;
using System.Collections.Immutable;
using MemScript.Cli.Reports;
using MemScript.Engine.Interpreter;
using MemScript.Language.Checking;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Cli.Study;

/// <summary>What a study runs: a parsed file, its plan, the modes, the profile, the shard, the workers and the access limit.</summary>
public sealed record StudyRequest(
    SourceText Source,
    Script Script,
    ImmutableArray<Diagnostic> ParseDiagnostics,
    string BaseDirectory,
    StudyPlan Plan,
    ImmutableArray<MmuMode> Modes,
    Profile? Profile,
    Shard Shard,
    int Jobs,
    long MaxAccesses = 0);

/// <summary>
/// Runs a study: each combination of the shard is checked once with its values (a fresh check, so a
/// value that breaks a rule fails that combination only) and run in each mode on a fresh machine. The
/// runs, one per combination and mode, are spread over <see cref="StudyRequest.Jobs"/> workers by
/// <see cref="Parallel.ForEach{TSource}(Partitioner{TSource}, ParallelOptions, Action{TSource})"/>;
/// each result is stored at its own index, so the result is the same whatever the number of workers
/// and whatever order they finish in.
/// </summary>
public static class StudyRunner
{
    /// <summary>One combination's check: the script to run, or why not; its parameters as numbers; its warnings, printed.</summary>
    private sealed record Checked(CheckedScript? Script, ImmutableArray<string> Problems, ImmutableArray<ulong?> Numbers, ImmutableArray<string> Warnings);

    /// <summary>
    /// Runs every combination of the request's shard in every mode. <paramref name="runDone"/> is called
    /// (from a worker) after each run. Ctrl-C (<paramref name="cancel"/>) stops the runs under way and
    /// throws OperationCanceledException: a study is whole or not at all.
    /// </summary>
    public static StudyResult Run(StudyRequest request, string displayPath, Action? runDone, CancellationToken cancel)
    {
        var plan = request.Plan;
        var modes = request.Modes;
        var indices = plan.Indices(request.Shard).ToArray();
        var checks = indices.Select(i => new Lazy<Checked>(() => Check(request, i), LazyThreadSafetyMode.ExecutionAndPublication)).ToArray();
        var runs = new ModeRun?[indices.Length * modes.Length];

        var options = new ParallelOptions { MaxDegreeOfParallelism = request.Jobs, CancellationToken = cancel };
        // The runs are handed out one at a time in study order, the largest combination index first:
        // studies usually list sizes from small to large, and starting the longest runs first leaves
        // short ones to fill the last workers' time instead of one long run finishing alone.
        var order = Partitioner.Create(Enumerable.Range(0, runs.Length).Reverse(), EnumerablePartitionerOptions.NoBuffering);
        Parallel.ForEach(order, options, unit =>
        {
            var check = checks[unit / modes.Length].Value;
            if (check.Script is { } script)
            {
                var mode = modes[unit % modes.Length];
                var result = ScriptInterpreter.Run(script, new RunOptions
                {
                    Mode = mode,
                    MaxAccesses = request.MaxAccesses,
                    BaseDirectory = request.BaseDirectory,
                    Cancel = cancel,
                });
                // A run stopped by Ctrl-C is partial: it must not pass for a result.
                cancel.ThrowIfCancellationRequested();
                runs[unit] = new ModeRun(mode, Segments.Of(result), result.Options.ClockHz,
                    [.. ReportContext.Problems(result).Select(d => DiagnosticFormatter.Headline(request.Source, d))]);
            }
            runDone?.Invoke();
        });
        cancel.ThrowIfCancellationRequested();

        var combinations = ImmutableArray.CreateBuilder<CombinationResult>(indices.Length);
        var warnings = new List<string>();
        for (var c = 0; c < indices.Length; c++)
        {
            var check = checks[c].Value;
            foreach (var w in check.Warnings)
                if (!warnings.Contains(w, StringComparer.Ordinal)) warnings.Add(w);
            var modeRuns = check.Script is null ? [] : Enumerable.Range(0, modes.Length).Select(m => runs[c * modes.Length + m]!).ToImmutableArray();
            combinations.Add(new CombinationResult(indices[c], plan.Values(indices[c]), check.Numbers, check.Problems, modeRuns));
        }
        return new StudyResult(displayPath, request.Source, plan, modes, request.Shard, combinations.MoveToImmutable(), [.. warnings]);
    }

    private static Checked Check(StudyRequest request, int index)
    {
        var plan = request.Plan;
        var values = plan.Values(index);
        var options = new CheckOptions
        {
            Profile = request.Profile,
            Parameters = [.. plan.Parameters.Select((p, i) => (p.Name, values[i]))],
        };
        var result = Checker.Check(request.Script, options);
        var diagnostics = request.ParseDiagnostics.AddRange(result.Diagnostics);
        var problems = result.OptionDiagnostics.Select(Headline)
            .Concat(diagnostics.Where(d => d.IsError).Select(d => DiagnosticFormatter.Headline(request.Source, d)))
            .ToImmutableArray();
        var warnings = diagnostics.Where(d => !d.IsError).Select(d => DiagnosticFormatter.Format(request.Source, d)).ToImmutableArray();
        var names = plan.Parameters.Select(p => p.Name).ToList();
        return result.Script is { } script && problems.IsEmpty
            ? new Checked(script, [], ParameterValues.Of(script, names), warnings)
            : new Checked(null, problems.IsEmpty ? ["the file did not check with these values"] : problems, [.. values.Select(ParameterValues.Standalone)], warnings);
    }

    /// <summary>An option's diagnostic on one line, as a row's error shows it: <c>--set ws=8Q: error MS0003: ...</c>.</summary>
    private static string Headline(OptionDiagnostic o) => o.Format().Split('\n')[0];
}
