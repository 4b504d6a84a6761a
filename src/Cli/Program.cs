using System.CommandLine;
using MemScript.Cli;
using MemScript.Cli.Commands;

// Every write to stdout says, when it fails, that it was the report that could not be written.
Console.SetOut(new NamedOutput(Console.Out, "standard output"));
// A file-size limit (ulimit -f) would kill the process with SIGXFSZ in the middle of a write; ignored,
// the write fails with an error that the command reports, leaving the previous file in place.
// Never disposed: a signal still being dispatched as the process ends must find the handler.
var fileSizeLimit = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()
    ? System.Runtime.InteropServices.PosixSignalRegistration.Create((System.Runtime.InteropServices.PosixSignal)25, context => context.Cancel = true)
    : null;
var exitCode = FatalErrors.Guard(() =>
{
    var root = new RootCommand(
        "MemScript: scripted scenarios of virtual-machine memory translation (native, software MMU, shadow paging, EPT) " +
        "with exact counts of walks, exits and faults, and cycles from a cost model.")
    {
        RunCommand.Create(),
        CheckCommand.Create(),
        ExplainCommand.Create(),
        ReportCommand.Create(),
        GridCommand.Create(),
    };

    var parse = root.Parse(args);
    if (parse.Errors.Count > 0)
    {
        // The messages quote the arguments, which may hold control characters.
        foreach (var e in parse.Errors) Console.Error.WriteLine($"memscript: {MemScript.Language.Diagnostics.DiagnosticFormatter.Escape(e.Message)}");
        Console.Error.WriteLine("Try 'memscript --help'.");
        return ExitCodes.Usage;
    }
    // System.CommandLine's own handler would print a stack trace and exit 1, the failed-expect code.
    return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}, Console.Error);
GC.KeepAlive(fileSizeLimit);
return exitCode;
