using System.Diagnostics;
using MemScript.Cli.Commands;

namespace MemScript.Tests.Cli;

/// <summary>
/// Runs the built <c>memscript</c> as a child process under bash, for what only a real process shows:
/// redirections to a full device, resource limits, signals and exit codes.
/// </summary>
public static class CliProcess
{
    public static string Dll => typeof(RunCommand).Assembly.Location;

    /// <summary>
    /// Runs <paramref name="script"/> with bash, where <c>$MEMSCRIPT</c> is the command (<c>dotnet memscript.dll</c>)
    /// and <c>"$@"</c> the arguments; returns the exit code and what reached stdout and stderr.
    /// </summary>
    public static (int Code, string Out, string Err) Bash(string script, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("memscript");
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["MEMSCRIPT"] = $"dotnet {Dll}";
        start.Environment.Remove("COLUMNS");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"memscript did not finish in 60 s: {script} {string.Join(' ', args)}");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>No .NET stack trace or unhandled-exception report reached the user.</summary>
    public static void AssertNoStackTrace(string text)
    {
        Assert.That(text, Does.Not.Contain("Unhandled exception").And.Not.Contain("   at ").And.Not.Contain("Exception:"), text);
    }
}
