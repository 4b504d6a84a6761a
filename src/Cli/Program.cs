using System.CommandLine;
using MemScript.Cli;
using MemScript.Cli.Commands;

// Every write to stdout says, when it fails, that it was the report that could not be written.
Console.SetOut(new NamedOutput(Console.Out, "standard output"));
return FatalErrors.Guard(() =>
{
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
    // System.CommandLine's own handler would print a stack trace and exit 1, the failed-expect code.
    return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}, Console.Error);
