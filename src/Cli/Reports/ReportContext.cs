using MemScript.Engine.Interpreter;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Cli.Reports;

/// <summary>What a report prints: the file, its source and the runs of one invocation.</summary>
public sealed record ReportContext(string DisplayPath, SourceText Source, IReadOnlyList<RunResult> Runs)
{
    /// <summary>A run's failed expectations (MS0701), then its run-time error: what every format reports.</summary>
    public static IEnumerable<Diagnostic> Problems(RunResult run)
    {
        foreach (var e in run.Expects.Where(e => !e.Passed)) yield return Errors.ExpectFailed(e.Span, ScriptInterpreter.Describe(e, run.Mode));
        if (run.Error is { } error) yield return error;
    }

    /// <summary>
    /// Every run's problems as diagnostics with their source lines, for stderr: a run-time error is
    /// preceded by the mode it happened in (a failed expectation names it already).
    /// </summary>
    public string FormatProblems()
    {
        var sb = new System.Text.StringBuilder();
        foreach (var run in Runs)
        {
            foreach (var problem in Problems(run))
            {
                if (ReferenceEquals(problem, run.Error)) sb.Append($"run-time error in {Vocabulary.ModeName(run.Mode)}:\n");
                sb.Append(DiagnosticFormatter.Format(Source, problem));
            }
        }
        return sb.ToString();
    }
}
