using MemScript.Engine.Interpreter;
using MemScript.Language.Checking;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Tests.Support;

/// <summary>
/// Runs scenario text in tests; a scenario that does not check fails the test with its diagnostics. A
/// text without a profile line runs under the classic profile, the v1 rules most tests pin (their
/// counts are SEMANTICS.md sections 1 to 11); <see cref="CheckAsShipped"/> keeps the real default.
/// </summary>
public static class Scenario
{
    public static CheckedScript Check(string text, string name = "test.memscript") => Check(text, name, new CheckOptions { Fallback = Profile.Classic });

    /// <summary>Checks as the command line does (an example without a profile line runs under the default, modern).</summary>
    public static CheckedScript CheckAsShipped(string text, string name) => Check(text, name, CheckOptions.None);

    private static CheckedScript Check(string text, string name, CheckOptions options)
    {
        var result = Checker.CheckText(text, options);
        if (!result.Success)
            Assert.Fail("scenario does not check:\n" + DiagnosticFormatter.FormatAll(new SourceText(name, text), result.Diagnostics));
        return result.Script!;
    }

    public static RunResult Run(string text, MmuMode mode, bool trace = false, string baseDirectory = ".")
    {
        var result = ScriptInterpreter.Run(Check(text), new RunOptions { Mode = mode, Trace = trace, BaseDirectory = baseDirectory });
        if (result.Error is { } error)
            Assert.Fail("run-time error: " + DiagnosticFormatter.Format(new SourceText("test.memscript", text), error));
        return result;
    }

    public static RunResult RunAllowingErrors(string text, MmuMode mode, bool trace = false) =>
        ScriptInterpreter.Run(Check(text), new RunOptions { Mode = mode, Trace = trace });
}
