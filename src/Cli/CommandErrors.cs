using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Cli;

/// <summary>
/// The command line's own diagnostics (MS09xx): files that cannot be read or written, and failures
/// that are not the scenario's. They concern a file or the process rather than a position in a
/// scenario, so they print as <c>FILE: error MS09xx: message</c> without a source line.
/// </summary>
public static class CommandErrors
{
    private static Diagnostic Error(string code, string message) => new(code, Severity.Error, message, default(TextSpan));

    // ---- MS090x: files
    public static Diagnostic FileNotFound(string? suggestion) =>
        Error("MS0901", suggestion is null
            ? "no such file; check the name, and that a relative path starts from the current directory"
            : $"no such file; did you mean '{suggestion}'?");

    public static Diagnostic InputIsDirectory(string? example) =>
        Error("MS0902", $"this is a directory, not a scenario; name a .memscript file{(example is null ? "" : $", such as '{example}'")}");

    public static Diagnostic ReadNotPermitted() =>
        Error("MS0903", "permission denied: this user may not read the file; check its permissions (chmod u+r)");

    public static Diagnostic NameNotUtf8() =>
        Error("MS0904", "the file exists, but its name is not valid UTF-8, which .NET cannot pass back to the file system (it shows as U+FFFD here); rename the file");

    public static Diagnostic CannotRead(string reason) =>
        Error("MS0905", $"cannot read the file: {reason}");

    public static Diagnostic OutputNameEmpty() =>
        Error("MS0906", "the output file name is empty; give one, such as -o report.html");

    public static Diagnostic OutputIsInput(string scenario) =>
        Error("MS0907", "the output would overwrite the scenario itself; write the report to another file, such as '" + Path.ChangeExtension(scenario, ".html") + "'");

    public static Diagnostic OutputIsDirectory(string path) =>
        Error("MS0908", $"the output is a directory; name a file in it, such as '{Path.Combine(path, "report.html")}'");

    public static Diagnostic OutputDirectoryMissing(string directory) =>
        Error("MS0912", $"there is no directory '{directory}' to write into; create it first");

    public static Diagnostic CannotWrite(string target, string reason) =>
        Error("MS0909", $"cannot write {target}: {reason}");

    // ---- MS091x: the process
    public static Diagnostic OutOfMemory() =>
        Error("MS0910", "out of memory: the scenario needs more than this machine gives the process; lower --max-accesses or the scenario's sizes");

    public static Diagnostic Internal(string what) =>
        Error("MS0911", $"internal error ({what}); this is a bug in MemScript: please report it with the scenario");

    /// <summary>One line, <c>WHERE: error CODE: message</c>, with control characters in names made visible.</summary>
    public static string Format(string where, Diagnostic diagnostic) =>
        $"{DiagnosticFormatter.Escape(where)}: error {diagnostic.Code}: {DiagnosticFormatter.Escape(diagnostic.Message)}\n";
}
