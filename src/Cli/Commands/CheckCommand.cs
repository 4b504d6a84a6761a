using System.CommandLine;
using MemScript.Language.Checking;

namespace MemScript.Cli.Commands;

/// <summary><c>memscript check FILE...</c>: parse and check, run nothing, print every diagnostic.</summary>
public static class CheckCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("files")
        {
            Description = "scenario files (.memscript) to check",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("check", "Parse and check scenarios without running them; prints every diagnostic.") { files };
        var scenario = new ScenarioLoader.ScenarioOptions(command);
        var warningsAsErrors = new Option<bool>("--warnings-as-errors") { Description = "treat every warning as an error (exit 2)" };
        command.Options.Add(warningsAsErrors);
        command.SetAction(parse => scenario.Read(parse, Console.Error) is not { } check ? ExitCodes.Usage
            : Execute(parse.GetValue(files)!, Console.Out, Console.Error, check, parse.GetValue(warningsAsErrors)));
        return command;
    }

    public static int Execute(IEnumerable<string> files, TextWriter output, TextWriter error, CheckOptions? options = null, bool warningsAsErrors = false)
    {
        var clean = true;
        foreach (var file in files)
        {
            var loaded = ScenarioLoader.Load(file, error, options, warningsAsErrors);
            if (loaded?.Script is null) clean = false;
            else output.WriteLine($"{MemScript.Language.Diagnostics.DiagnosticFormatter.Escape(file)}: ok");
        }
        return clean ? ExitCodes.Success : ExitCodes.Usage;
    }
}
