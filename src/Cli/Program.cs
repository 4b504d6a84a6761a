using System.CommandLine;
using MemScript.Cli;
using MemScript.Cli.Commands;

var root = new RootCommand(
    "MemScript: scripted scenarios of virtual-machine memory translation (native, software MMU, shadow paging, EPT) " +
    "with exact counts of walks, exits and faults, and cycles from a cost model.")
{
    RunCommand.Create(),
    CheckCommand.Create(),
    ExplainCommand.Create(),
    ReportCommand.Create(),
};

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var e in parse.Errors) Console.Error.WriteLine($"memscript: {e.Message}");
    Console.Error.WriteLine("Try 'memscript --help'.");
    return ExitCodes.Usage;
}
return parse.Invoke();
