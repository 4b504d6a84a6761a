using System.Globalization;
using MemScript.Cli.Study;
using MemScript.Engine.Interpreter;
using MemScript.Language.Diagnostics;

namespace MemScript.Cli.Reports;

/// <summary>
/// <c>memscript grid --format text</c>: what the study ran, then its rows as one table (split by
/// <see cref="TableLayout"/> into several when a width is set, each repeating the row's name: the
/// combination, its values, the mode and the segment), then every failure on a line of its own.
/// </summary>
public static class StudyTextReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The report as plain ASCII; <paramref name="width"/> is the width tables must fit (null: one table as wide as its content).</summary>
    public static string Render(StudyResult study, int? width = null, CancellationToken cancel = default)
    {
        using var writer = new StringWriter(Invariant) { NewLine = "\n" };
        writer.Write(Heading(study));
        writer.Write("\n\n");
        var grid = new Grid("Study", ["combination / mode / segment", .. StudyTable.Counters, .. Segments.Figures]);
        foreach (var row in StudyTable.Rows(study))
        {
            var name = $"{Name(study, row.Combination)} / {Vocabulary.ModeName(row.Mode)} / "
                       + (row.Segment is { } s ? $"{s.Index} {DiagnosticFormatter.Escape(s.Name)}" : "not run")
                       + (row.Error.Length > 0 ? " (failed)" : "");
            grid.Add([name, .. StudyTable.Counters.Select(c => row.Counter(c)?.ToString("N0", Invariant) ?? "-"),
                .. Segments.Figures.Select(f => row.Value(f) is { } v ? CsvReport.Three(v) : "-")]);
        }
        TableLayout.Write(TextReport.PlainConsole(writer), Spectre.Console.TableBorder.Ascii, grid, width, cancel);
        var failures = Failures(study).ToList();
        if (failures.Count > 0)
        {
            writer.Write("\n");
            foreach (var f in failures) writer.Write(f + "\n");
        }
        return writer.ToString().Replace("\r\n", "\n");
    }

    /// <summary>The first line: the file, how many combinations of which parameters, the modes, and the shard.</summary>
    public static string Heading(StudyResult study)
    {
        var plan = study.Plan;
        var parameters = plan.Parameters.IsEmpty ? "no parameters" : string.Join(" x ", plan.Parameters.Select(p => $"{p.Name} ({Count(p.Values.Length, "value")})"));
        var shard = study.Shard.IsWhole ? "" : $"; shard {study.Shard}: {Count(study.Combinations.Length, "combination")}";
        return $"memscript grid {DiagnosticFormatter.Escape(study.DisplayPath)}: {Count(plan.Count, "combination")} of {parameters}; " +
               $"modes {string.Join(", ", study.Modes.Select(Vocabulary.ModeName))}{shard}";
    }

    /// <summary>A combination's name: its index and values, <c>3 ws=1M page=2M</c>.</summary>
    public static string Name(StudyResult study, CombinationResult combination) =>
        string.Join(' ', [combination.Index.ToString(Invariant), .. study.Plan.Parameters.Select((p, i) => $"{p.Name}={StudyParameter.Display(combination.Values[i])}")]);

    /// <summary>Every failure, one line each: the combination, the mode (none for a check), and the diagnostic.</summary>
    public static IEnumerable<string> Failures(StudyResult study)
    {
        foreach (var combination in study.Combinations)
        {
            foreach (var problem in combination.CheckProblems) yield return $"combination {Name(study, combination)}: {problem}";
            foreach (var run in combination.Runs)
                foreach (var problem in run.Problems) yield return $"combination {Name(study, combination)} in {Vocabulary.ModeName(run.Mode)}: {problem}";
        }
    }

    private static string Count(long n, string what) => $"{n.ToString(Invariant)} {what}{(n == 1 ? "" : "s")}";
}
