using System.CommandLine;
using MemScript.Language.Checking;
using MemScript.Cli.Reports;
using MemScript.Engine.Inspection;
using MemScript.Engine.Interpreter;
using static MemScript.Language.Diagnostics.DiagnosticFormatter;

namespace MemScript.Cli.Commands;

/// <summary><c>memscript report FILE -o FILE.html [--mode M|all] [--at GVA] [--max-accesses N]</c>.</summary>
public static class ReportCommand
{
    public sealed record Settings(string File, string Output, string? Mode, string? At, CheckOptions? Check = null, long MaxAccesses = 0);

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "the scenario (.memscript)" };
        var output = new Option<string>("--output", "-o") { Description = "the HTML file to write", Required = true };
        var mode = new Option<string>("--mode", "-m") { Description = "native, software, shadow, ept, or all (default: all)" };
        mode.AcceptOnlyFromAmong([.. Vocabulary.Modes.Select(m => m.Name), "all"]);
        var at = new Option<string>("--at") { Description = "the guest-virtual address whose translation path is drawn (default: the first access)" };
        var maxAccesses = CountOptions.Count("--max-accesses", "stop a mode with an error after this many accesses (0: no limit)", "no limit");
        var command = new Command("report", "Write a self-contained HTML report: the comparison, charts of where the cycles go, and the drawn translation path of one address.")
        {
            file, output, mode, at, maxAccesses,
        };
        var scenario = new ScenarioLoader.ScenarioOptions(command);
        command.SetAction(parse => scenario.Read(parse, Console.Error) is not { } check ? ExitCodes.Usage
            : Execute(new Settings(parse.GetValue(file)!, parse.GetValue(output)!, parse.GetValue(mode), parse.GetValue(at), check, parse.GetValue(maxAccesses)), Console.Out, Console.Error));
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
        var script = loaded.Script;
        var runs = new List<RunResult>();
        var paths = new List<TranslationPath>();
        using var cancel = new CtrlC(interrupt);
        foreach (var mode in RunCommand.Modes(settings.Mode ?? "all", script))
        {
            var options = new RunOptions { Mode = mode, BaseDirectory = loaded.BaseDirectory, MaxAccesses = settings.MaxAccesses, Cancel = cancel.Token };
            var (result, machine) = ScriptInterpreter.RunAndKeep(script, options);
            if (result.Interrupted)
            {
                // A page of some modes would pass for the whole comparison: write nothing.
                error.WriteLine($"memscript: interrupted in {Vocabulary.ModeName(mode)}; {Escape(settings.Output)} was not written (a previous one is unchanged)");
                return ExitCodes.RunFailed;
            }
            runs.Add(result);
            var address = at ?? machine.FirstAccess;
            var process = machine.Current?.Name ?? script.Processes.FirstOrDefault()?.Name;
            if (address is { } gva && process is not null) paths.Add(machine.Explain(process, gva));
        }
        var html = HtmlReport.Render(new ReportContext(settings.File, loaded.Source, runs), paths);
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
        return runs.All(r => r.Success) ? ExitCodes.Success : ExitCodes.RunFailed;
    }
}
