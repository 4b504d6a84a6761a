using System.CommandLine;
using System.Globalization;
using MemScript.Cli.Reports;
using MemScript.Engine.Interpreter;
using MemScript.Language;
using MemScript.Language.Checking;
using static MemScript.Language.Diagnostics.DiagnosticFormatter;

namespace MemScript.Cli.Commands;

/// <summary><c>memscript explain FILE --at GVA [--process NAME] [--mode M] [--after N] [--max-accesses N]</c>.</summary>
public static class ExplainCommand
{
    public sealed record Settings(string File, string At, string? Process, string? Mode, long? After, CheckOptions? Check = null, long MaxAccesses = 0);

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "the scenario (.memscript)" };
        var at = new Option<string>("--at") { Description = "the guest-virtual address to explain (hex with 0x, or decimal)", Required = true };
        var process = new Option<string>("--process", "-p") { Description = "the process whose tables to walk (default: the one running at that point)" };
        var mode = new Option<string>("--mode", "-m") { Description = "MMU mode (default: the file's mmu line, else ept)" };
        mode.AcceptOnlyFromAmong([.. Vocabulary.Modes.Select(m => m.Name)]);
        var after = CountOptions.OptionalCount("--after", "explain the state after this many accesses of the timeline (default: all)", "right after set-up");
        var maxAccesses = CountOptions.Count("--max-accesses", "stop with an error after this many accesses (0: no limit)", "no limit");
        var command = new Command("explain", "Show the whole translation path of one address: every guest, EPT or shadow entry, the slot, the host page, and what a TLB miss there costs.")
        {
            file, at, process, mode, after, maxAccesses,
        };
        var scenario = new ScenarioLoader.ScenarioOptions(command);
        command.SetAction(parse => scenario.Read(parse, Console.Error) is not { } check ? ExitCodes.Usage
            : Execute(new Settings(parse.GetValue(file)!, parse.GetValue(at)!, parse.GetValue(process), parse.GetValue(mode), parse.GetValue(after), check, parse.GetValue(maxAccesses)),
            Console.Out, Console.Error));
        return command;
    }

    public static bool TryParseAddress(string text, out ulong value)
    {
        text = text.Replace("_", "", StringComparison.Ordinal);
        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <param name="interrupt">Cancels like Ctrl-C (for tests).</param>
    public static int Execute(Settings settings, TextWriter output, TextWriter error, CancellationToken interrupt = default)
    {
        if (!TryParseAddress(settings.At, out var gva))
        {
            error.WriteLine($"memscript: --at '{Escape(settings.At)}' is not an address (write it like 0x400010)");
            return ExitCodes.Usage;
        }
        var loaded = ScenarioLoader.Load(settings.File, error, settings.Check);
        if (loaded?.Script is null) return ExitCodes.Usage;
        var script = loaded.Script;
        if (settings.Process is { } p && script.Processes.All(x => x.Name != p))
        {
            error.WriteLine($"memscript: no process '{Escape(p)}' in {Escape(settings.File)}; it has {string.Join(", ", script.Processes.Select(x => x.Name))}");
            return ExitCodes.Usage;
        }
        if (script.Processes.IsEmpty)
        {
            error.WriteLine($"memscript: {Escape(settings.File)} declares no process to explain");
            return ExitCodes.Usage;
        }
        var mode = settings.Mode is null ? script.Machine.Mode : Vocabulary.ParseMode(settings.Mode);
        using var cancel = new CtrlC(interrupt);
        // --after stops the run where asked; --max-accesses below it is an error, as in run.
        var limited = settings.MaxAccesses > 0 && (settings.After is null || settings.After > settings.MaxAccesses);
        var options = new RunOptions { Mode = mode, BaseDirectory = loaded.BaseDirectory, MaxAccesses = limited ? settings.MaxAccesses : 0, Cancel = cancel.Token };
        var (result, machine) = ScriptInterpreter.RunAndKeep(script, options, limited ? null : settings.After);
        if (result.Error is { } e)
        {
            error.Write(MemScript.Language.Diagnostics.DiagnosticFormatter.Format(loaded.Source, e));
            return ExitCodes.RunFailed;
        }
        var processName = settings.Process ?? machine.Current?.Name ?? script.Processes[0].Name;
        output.Write(ExplainPrinter.Print(machine.Explain(processName, gva), settings.File, result.Counters.Accesses, settings.After, result.Interrupted));
        if (result.Interrupted)
        {
            error.WriteLine($"memscript: interrupted after {ExplainPrinter.Accesses(result.Counters.Accesses)}; explained the state at that point");
            return ExitCodes.RunFailed;
        }
        return ExitCodes.Success;
    }
}
