using System.CommandLine;

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
        command.SetAction(parse => Execute(parse.GetValue(files)!, Console.Out, Console.Error));
        return command;
    }

    public static int Execute(IEnumerable<string> files, TextWriter output, TextWriter error)
    {
        var clean = true;
        foreach (var file in files)
        {
            var loaded = ScenarioLoader.Load(file, error);
            if (loaded?.Script is null) clean = false;
            else output.WriteLine($"{MemScript.Language.Diagnostics.DiagnosticFormatter.Escape(file)}: ok");
        }
        return clean ? ExitCodes.Success : ExitCodes.Usage;
    }
}
