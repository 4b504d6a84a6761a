using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using MemScript.Cli.Reports;
using MemScript.Cli.Study;
using MemScript.Engine.Interpreter;
using MemScript.Language.Diagnostics;
using MemScript.Language.Parsing;
using MemScript.Language.Syntax;
using Spectre.Console;
using static MemScript.Language.Diagnostics.DiagnosticFormatter;

namespace MemScript.Cli.Commands;

/// <summary>
/// <c>memscript grid FILE --set NAME=V1,V2,... [--set ...] [--mode M|all] [--profile P] [--jobs N]
/// [--shard I/N] [--format text|csv|json|html] [--figure F] [-o FILE]</c>: a study, every combination
/// of the listed values on fresh machines (LANGUAGE.md v2, "Parameters and studies"; docs/studies.md).
/// With <c>--merge SHARD.csv...</c> in place of <c>--shard</c>, it runs nothing and joins the shards'
/// CSV into the whole study's CSV or chart.
/// </summary>
public static class GridCommand
{
    /// <summary>The command line of one grid: what Execute runs (tests build it directly).</summary>
    public sealed record Settings(
        string File,
        IReadOnlyList<string> Sets,
        string? Mode = null,
        string? Profile = null,
        int? Jobs = null,
        string? Shard = null,
        string? Format = null,
        string? Output = null,
        long MaxAccesses = 0,
        string? Figure = null,
        IReadOnlyList<string>? Merge = null);

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "the study's scenario (.memscript)" };
        var set = new Option<string[]>("--set")
        {
            Description = "the values a top-level 'let NAME' takes in turn, comma-separated expressions; repeatable (the first --set varies slowest)",
            HelpName = "NAME=V1,V2,...",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var mode = new Option<string>("--mode", "-m")
        {
            Description = "the modes each combination runs in: all (the default), one of native, software, shadow, ept, or several separated by commas",
        };
        mode.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && ParseModes(r.Tokens[0].Value, out var problem) is null) r.AddError(problem!);
        });
        var profile = new Option<string>("--profile") { Description = "the machine's defaults: classic (v1) or modern; replaces the file's profile line, not its explicit declarations" };
        profile.AcceptOnlyFromAmong("classic", "modern");
        var jobs = new Option<int?>("--jobs", "-j")
        {
            Description = "how many runs at once (default: one per core)",
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1) return n;
                r.AddError($"--jobs takes a number of workers, 1 or more, not '{Escape(text)}'");
                return null;
            },
        };
        var shard = new Option<string>("--shard")
        {
            Description = "run only the combinations whose index modulo N is I (0-based), for an array job: see docs/studies.md",
            HelpName = "I/N",
        };
        shard.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && Shard.Parse(r.Tokens[0].Value, out var problem) is null) r.AddError(problem!);
        });
        var format = new Option<string>("--format", "-f") { Description = "the study's format (default: text, and csv with --merge)" };
        format.AcceptOnlyFromAmong("text", "csv", "json", "html");
        var figure = new Option<string>("--figure")
        {
            Description = $"what --format html draws against the first parameter: a figure ({string.Join(", ", Segments.Figures)}) or a counter (default: {StudyHtmlReport.DefaultFigure})",
        };
        var merge = new Option<string[]>("--merge")
        {
            Description = "run nothing: join the CSV files that --shard I/N wrote (with the same --set and --mode) into the whole study, as csv or html; see docs/studies.md",
            HelpName = "SHARD.csv",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--output", "-o") { Description = "write the study to this file, whole, once every run is done (default: standard output)" };
        var maxAccesses = CountOptions.Count("--max-accesses", "stop a run with an error after this many accesses (0: no limit)", "no limit");
        var command = new Command("grid", "Run a study: every combination of the --set lists, in every mode, on fresh machines and in parallel; one row per combination, mode and segment.")
        {
            file, set, mode, profile, jobs, shard, format, figure, output, maxAccesses, merge,
        };
        command.SetAction(parse => Execute(new Settings(parse.GetValue(file)!, parse.GetValue(set) ?? [], parse.GetValue(mode), parse.GetValue(profile),
            parse.GetValue(jobs), parse.GetValue(shard), parse.GetValue(format), parse.GetValue(output), parse.GetValue(maxAccesses),
            parse.GetValue(figure), parse.GetResult(merge) is null ? null : parse.GetValue(merge)), Console.Out, Console.Error));
        return command;
    }

    /// <summary>A --mode selection in mode order; null with the reason when a name is not a mode.</summary>
    public static ImmutableArray<MmuMode>? ParseModes(string? text, out string? problem)
    {
        problem = null;
        if (text is null || text == "all") return Vocabulary.AllModes;
        var chosen = new HashSet<MmuMode>();
        foreach (var name in text.Split(','))
        {
            if (!Vocabulary.TryParseMode(name.Trim(), out var m))
            {
                problem = $"--mode takes all, or modes among {string.Join(", ", Vocabulary.Modes.Select(x => x.Name))} separated by commas, not '{Escape(text)}'";
                return null;
            }
            chosen.Add(m);
        }
        return [.. Vocabulary.AllModes.Where(chosen.Contains)];
    }

    /// <param name="interrupt">Cancels like Ctrl-C (for tests).</param>
    public static int Execute(Settings settings, TextWriter output, TextWriter error, CancellationToken interrupt = default)
    {
        // A merge joins CSV files, and CSV is what it writes unless asked for the chart.
        settings = settings with { Format = settings.Format ?? (settings.Merge is null ? "text" : "csv") };
        // Before anything runs: a bad target would otherwise be found after the whole study.
        if (settings.Output is { } target && OutputFile.Check(target, settings.File) is { } bad)
        {
            error.Write(CommandErrors.Format("memscript", bad));
            return ExitCodes.Usage;
        }
        var modes = ParseModes(settings.Mode, out var modeProblem);
        var shard = settings.Shard is null ? Shard.Whole : Shard.Parse(settings.Shard, out modeProblem);
        if (modes is null || shard is null || settings.Jobs is < 1)
        {
            error.WriteLine($"memscript: {modeProblem ?? "--jobs takes a number of workers, 1 or more"}");
            return ExitCodes.Usage;
        }
        if (OptionProblem(settings) is { } optionProblem)
        {
            error.WriteLine($"memscript: {optionProblem}");
            return ExitCodes.Usage;
        }
        var figure = settings.Figure ?? StudyHtmlReport.DefaultFigure;

        var bytes = InputFile.ReadBytes(settings.File, error);
        if (bytes is null) return ExitCodes.Usage;
        var (text, notUtf8) = ScenarioBytes.Decode(bytes);
        var source = new SourceText(settings.File, text);
        var parsed = notUtf8 is null ? ScriptParser.Parse(text) : new MemScript.Language.Parsing.ParseResult(null, [notUtf8]);
        if (!parsed.Success)
        {
            error.Write(FormatAll(source, parsed.Diagnostics));
            return ExitCodes.Usage;
        }
        var parameters = StudyPlan.Read(settings.Sets, parsed.Script!, out var problems);
        foreach (var p in problems) error.Write(p.Format());
        if (!problems.IsEmpty) return ExitCodes.Usage;
        var plan = new StudyPlan(parameters);
        if (plan.Count > StudyPlan.MaxCombinations)
        {
            error.WriteLine($"memscript: the --set lists make {plan.Count.ToString(CultureInfo.InvariantCulture)} combinations or more; a study can number at most {StudyPlan.MaxCombinations.ToString(CultureInfo.InvariantCulture)}: shorten the lists");
            return ExitCodes.Usage;
        }
        if (settings.Merge is { } shards) return Merge(settings, plan, modes.Value, shards, figure, output, error);
        var request = new StudyRequest(source, parsed.Script!, parsed.Diagnostics, Path.GetDirectoryName(Path.GetFullPath(settings.File)) ?? ".", plan, modes.Value,
            settings.Profile switch { "classic" => MemScript.Model.Profile.Classic, "modern" => MemScript.Model.Profile.Modern, _ => null }, shard.Value,
            settings.Jobs ?? Environment.ProcessorCount, settings.MaxAccesses);
        using var cancel = new CtrlC(interrupt);
        StudyResult study;
        try
        {
            var interactive = !Console.IsErrorRedirected && ReferenceEquals(error, Console.Error);
            study = interactive ? WithProgress(request, settings.File, cancel.Token) : StudyRunner.Run(request, settings.File, null, cancel.Token);
        }
        catch (OperationCanceledException) when (cancel.Token.IsCancellationRequested)
        {
            error.WriteLine(settings.Output is { } o
                ? $"memscript: interrupted; {Escape(o)} was not written (a previous one is unchanged)"
                : "memscript: interrupted; nothing was written");
            return ExitCodes.RunFailed;
        }
        foreach (var w in study.Warnings) error.Write(w);

        var terminal = settings.Output is null && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var rendered = settings.Format switch
        {
            "csv" => StudyCsvReport.Render(study),
            "json" => StudyJsonReport.Render(study),
            "html" => StudyHtmlReport.Render(settings.File, StudySheet.Of(study), figure),
            _ => StudyTextReport.Render(study, TextReport.Width(Environment.GetEnvironmentVariable("COLUMNS"), terminal ? AnsiConsole.Console.Profile.Width : null)),
        };
        if (Write(settings, rendered, output, error) is { } failed) return failed;
        // Failures also go to stderr, so that a study sent to a file or a pipe does not hide them (the text report on a terminal shows them already).
        if (settings.Format != "text" || !terminal)
            foreach (var f in StudyTextReport.Failures(study)) error.WriteLine(f);
        return study.Failed ? ExitCodes.RunFailed : ExitCodes.Success;
    }

    /// <summary>Options that do not go together, or a --figure that is not a column; null when there is none.</summary>
    private static string? OptionProblem(Settings settings)
    {
        if (settings.Figure is { } f)
        {
            if (!StudyHtmlReport.Drawable.Contains(f, StringComparer.Ordinal))
                return $"--figure '{Escape(f)}' is not a figure or a counter of a study{Suggestions.DidYouMean(f, StudyHtmlReport.Drawable)}; the figures are {string.Join(", ", Segments.Figures)}, and every counter can be drawn";
            if (settings.Format != "html") return "--figure chooses what --format html draws; the other formats give every figure";
        }
        if (settings.Merge is not null)
        {
            if (settings.Shard is not null) return "--merge joins the shards' files, each written with its own --shard: give it the files, not --shard";
            if (settings.Format is not ("csv" or "html")) return $"--merge writes csv or html (the shards' CSV holds the rows, not the runs that json and text describe), not {settings.Format}";
            if (settings.Merge.Count == 0) return "--merge takes the CSV files that the shards wrote";
            if (settings.Jobs is not null || settings.Profile is not null || settings.MaxAccesses != 0)
                return "--merge runs nothing, so --jobs, --profile and --max-accesses do not apply (the shards took them)";
        }
        return null;
    }

    /// <summary>
    /// <c>--merge</c>: the shards' CSV files, checked to be every combination of this plan once, joined
    /// into the whole study's CSV (byte for byte what one process would have written) or its chart.
    /// </summary>
    private static int Merge(Settings settings, StudyPlan plan, ImmutableArray<MmuMode> modes, IReadOnlyList<string> files, string figure, TextWriter output, TextWriter error)
    {
        var shards = new List<(string, StudySheet)>();
        foreach (var name in files)
        {
            var bytes = InputFile.ReadBytes(name, error);
            if (bytes is null) return ExitCodes.Usage;
            var (text, notUtf8) = ScenarioBytes.Decode(bytes);
            string? problem = "it is not UTF-8 text";
            var sheet = notUtf8 is null ? StudySheet.Parse(text, out problem) : null;
            if (sheet is null)
            {
                error.WriteLine($"memscript: --merge: {Escape(name)} is not a study's CSV: {problem}");
                return ExitCodes.Usage;
            }
            shards.Add((name, sheet));
        }
        var merged = StudySheet.Merge(plan, modes, shards, out var mergeProblem);
        if (merged is null)
        {
            error.WriteLine($"memscript: --merge: {mergeProblem}");
            return ExitCodes.Usage;
        }
        var rendered = settings.Format == "html" ? StudyHtmlReport.Render(settings.File, merged, figure) : merged.ToCsv();
        if (Write(settings, rendered, output, error) is { } failed) return failed;
        var failures = merged.Rows.Where(r => r.Error.Length > 0).ToList();
        foreach (var row in failures.DistinctBy(r => (r.Combination, r.Segment is null ? default(MmuMode?) : r.Mode)))
        {
            var name = string.Join(' ', [row.Combination.ToString(CultureInfo.InvariantCulture), .. merged.Parameters.Select((p, i) => $"{p}={row.Values[i]}")]);
            error.WriteLine(row.Segment is null ? $"combination {name}: {row.Error}" : $"combination {name} in {Vocabulary.ModeName(row.Mode)}: {row.Error}");
        }
        return failures.Count > 0 ? ExitCodes.RunFailed : ExitCodes.Success;
    }

    /// <summary>The study to -o (whole, through a temporary file) or to standard output; null when written, else the exit code.</summary>
    private static int? Write(Settings settings, string rendered, TextWriter output, TextWriter error)
    {
        if (settings.Output is { } file)
        {
            if (OutputFile.Write(file, rendered) is { } failed)
            {
                error.Write(CommandErrors.Format("memscript", failed));
                return ExitCodes.InternalError;
            }
            output.WriteLine($"wrote {Escape(file)}");
        }
        else output.Write(rendered);
        return null;
    }

    /// <summary>Runs the study under a progress bar on stderr (a terminal): runs done of runs to do, and the time left.</summary>
    private static StudyResult WithProgress(StudyRequest request, string displayPath, CancellationToken cancel)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var runs = request.Plan.Indices(request.Shard).LongCount() * request.Modes.Length;
        StudyResult? study = null;
        console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask($"grid: {runs.ToString("N0", CultureInfo.InvariantCulture)} runs on {request.Jobs.ToString(CultureInfo.InvariantCulture)} worker{(request.Jobs == 1 ? "" : "s")}", maxValue: Math.Max(1, runs));
                study = StudyRunner.Run(request, displayPath, () => task.Increment(1), cancel);
            });
        return study!;
    }
}
