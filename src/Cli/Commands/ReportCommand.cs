using System.CommandLine;
using MemScript.Language.Checking;
using MemScript.Cli.Reports;
using MemScript.Engine.Interpreter;
using static MemScript.Language.Diagnostics.DiagnosticFormatter;

namespace MemScript.Cli.Commands;

/// <summary><c>memscript report FILE -o FILE.html [--mode M|all] [--at GVA] [--after N|LABEL] [--max-accesses N] [--rerun-limit N]</c>.</summary>
public static class ReportCommand
{
    public sealed record Settings(string File, string Output, string? Mode, string? At, CheckOptions? Check = null, long MaxAccesses = 0,
        string? After = null, long RerunLimit = ReportAssumptions.DefaultLimit);

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "the scenario (.memscript)" };
        var output = new Option<string>("--output", "-o") { Description = "the HTML file to write", Required = true };
        var mode = new Option<string>("--mode", "-m") { Description = "native, software, shadow, ept, or all (default: all)" };
        mode.AcceptOnlyFromAmong([.. Vocabulary.Modes.Select(m => m.Name), "all"]);
        var at = new Option<string>("--at") { Description = "the guest-virtual address whose first walks and translation path are drawn (default: the first access)" };
        var after = new Option<string>("--after")
        {
            Description = "draw the translation path after this many accesses, or at the first mark with this label (default: the end of the run)",
        };
        var maxAccesses = CountOptions.Count("--max-accesses", "stop a mode with an error after this many accesses (0: no limit)", "no limit");
        var rerunLimit = CountOptions.Count("--rerun-limit",
            "rerun the scenario for 'which assumption decides' only when no mode made more accesses than this",
            "never rerun");
        rerunLimit.DefaultValueFactory = _ => ReportAssumptions.DefaultLimit;
        var command = new Command("report",
            "Write a self-contained HTML report: the comparison, where the cycles go, segments, the timeline, the first walks and the translation path of one address, the memslot map, and which assumption decides.")
        {
            file, output, mode, at, after, maxAccesses, rerunLimit,
        };
        var scenario = new ScenarioLoader.ScenarioOptions(command);
        command.SetAction(parse => scenario.Read(parse, Console.Error) is not { } check ? ExitCodes.Usage
            : Execute(new Settings(parse.GetValue(file)!, parse.GetValue(output)!, parse.GetValue(mode), parse.GetValue(at), check, parse.GetValue(maxAccesses),
                parse.GetValue(after), parse.GetValue(rerunLimit)), Console.Out, Console.Error));
        return command;
    }

    /// <param name="interrupt">Cancels like Ctrl-C (for tests).</param>
    public static int Execute(Settings settings, TextWriter output, TextWriter error, CancellationToken interrupt = default)
    {
        // Before anything runs: a bad target would otherwise be found after running every mode.
        if (OutputFile.Check(settings.Output, settings.File) is { } bad)
        {
            error.Write(CommandErrors.Format("memscript", bad));
            return ExitCodes.Usage;
        }
        ulong? at = null;
        if (settings.At is { } text)
        {
            if (!ExplainCommand.TryParseAddress(text, out var value))
            {
                error.WriteLine($"memscript: --at '{Escape(text)}' is not an address (write it like 0x400010)");
                return ExitCodes.Usage;
            }
            at = value;
        }
        var loaded = ScenarioLoader.Load(settings.File, error, settings.Check);
        if (loaded?.Script is null) return ExitCodes.Usage;
        using var cancel = new CtrlC(interrupt);
        ReportData data;
        try
        {
            data = ReportBuilder.Build(new ReportInput(settings.File, loaded.Source, loaded.Script), RunCommand.Modes(settings.Mode ?? "all", loaded.Script),
                new ReportBuilder.Request(at, settings.After, settings.MaxAccesses, settings.RerunLimit, loaded.BaseDirectory, cancel.Token));
        }
        catch (ReportStopped stopped)
        {
            // A page of some modes would pass for the whole comparison: write nothing.
            error.WriteLine(stopped.ExitCode == ExitCodes.Usage
                ? $"memscript: {stopped.Message}"
                : $"memscript: {stopped.Message}; {Escape(settings.Output)} was not written (a previous one is unchanged)");
            return stopped.ExitCode;
        }
        var html = HtmlReport.Render(data);
        if (cancel.Token.IsCancellationRequested)
        {
            error.WriteLine($"memscript: interrupted; {Escape(settings.Output)} was not written (a previous one is unchanged)");
            return ExitCodes.RunFailed;
        }
        if (OutputFile.Write(settings.Output, html) is { } failed)
        {
            error.Write(CommandErrors.Format("memscript", failed));
            return ExitCodes.InternalError;
        }
        output.WriteLine($"wrote {Escape(settings.Output)}");
        return data.Runs.All(r => r.Success) ? ExitCodes.Success : ExitCodes.RunFailed;
    }
}
