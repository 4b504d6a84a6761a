using System.Text;
using MemScript.Engine.Interpreter;
using MemScript.Language.Checking;
using MemScript.Language.Diagnostics;
using MemScript.Tests.Support;

namespace MemScript.Tests.Language;

/// <summary>
/// tests/cases/run/warn-*: scenarios that run in every mode and end with the warnings of RunWarnings
/// (MS0804), beside their output in NAME.warnings.approved.txt (RunCaseTests keeps NAME.approved.txt).
/// </summary>
public class RunWarningCaseTests
{
    public static IEnumerable<TestCaseData> Cases() =>
        Directory.GetFiles(Path.Combine(Paths.Cases, "run"), "warn-*.memscript").Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName("run warning case " + Path.GetFileNameWithoutExtension(f)));

    [Test, TestCaseSource(nameof(Cases))]
    public void Case(string file)
    {
        var path = Path.Combine(Paths.Cases, "run", file);
        var source = new SourceText(file, File.ReadAllText(path));
        var script = Scenario.Check(source.Text, file);
        var runs = Vocabulary.AllModes
            .Select(mode => ScriptInterpreter.Run(script, new RunOptions { Mode = mode, BaseDirectory = Path.GetDirectoryName(path)! }))
            .Select(r => (r.Mode, r.Counters.Segv, r.Counters.Mmio)).ToList();
        var output = new StringBuilder();
        foreach (var w in RunWarnings.Unmentioned(script, runs)) output.Append(DiagnosticFormatter.Format(source, w));
        Assert.That(output.ToString(), Does.Contain(": warning MS0804: "), "a warn- run case must end with a warning");
        Snapshot.Verify(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path) + ".warnings", output.ToString());
    }
}
