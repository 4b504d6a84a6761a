using System.Text;
using MemScript.Engine.Interpreter;
using MemScript.Language;
using MemScript.Language.Diagnostics;
using MemScript.Tests.Support;

namespace MemScript.Tests.Engine;

/// <summary>
/// tests/cases/run: scenarios that check but fail, or succeed, at run time, each beside its expected
/// output in every mode: the run-time error with its position, or the failed expectations.
/// </summary>
public class RunCaseTests
{
    public static IEnumerable<TestCaseData> Cases() =>
        Directory.GetFiles(Path.Combine(Paths.Cases, "run"), "*.memscript").Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName("run case " + Path.GetFileNameWithoutExtension(f)));

    /// <summary>The access limit of a case: 1,000,000, or what a "# max-accesses N" line at its top says.</summary>
    private static long MaxAccesses(string text)
    {
        var m = System.Text.RegularExpressions.Regex.Match(text, @"^# max-accesses (\d+)$", System.Text.RegularExpressions.RegexOptions.Multiline);
        return m.Success ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
    }

    [Test, TestCaseSource(nameof(Cases))]
    public void Case(string file)
    {
        var path = Path.Combine(Paths.Cases, "run", file);
        var source = new SourceText(file, File.ReadAllText(path));
        var script = Scenario.Check(source.Text, file);
        var output = new StringBuilder();
        foreach (var mode in Vocabulary.AllModes)
        {
            var r = ScriptInterpreter.Run(script, new RunOptions { Mode = mode, BaseDirectory = Path.GetDirectoryName(path)!, MaxAccesses = MaxAccesses(source.Text) });
            output.Append($"{Vocabulary.ModeName(mode)}: accesses {r.Counters.Accesses}, faults.guest {r.Counters.GuestFaults}, faults.segv {r.Counters.Segv}, mmio {r.Counters.Mmio}\n");
            if (r.Error is { } error) output.Append(DiagnosticFormatter.Format(source, error));
            foreach (var e in r.Expects.Where(e => !e.Passed))
                output.Append(DiagnosticFormatter.Format(source, Errors.ExpectFailed(e.Span, ScriptInterpreter.Describe(e, mode))));
        }
        var text = output.ToString();
        Assert.That(text.Contains(": error MS"), Is.EqualTo(file.StartsWith("error-", StringComparison.Ordinal)));
        Snapshot.Verify(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path), text);
    }
}

/// <summary>Long loops stay responsive: progress (and so Ctrl-C) is polled on the access count, whatever the loop's stride.</summary>
public class ResponsivenessTests
{
    [TestCase("sweep read 0x40000000 size 9M stride 3")]
    [TestCase("random read 3100000 in 0x40000000 size 8M")]
    [TestCase("repeat 3100000 as i { read 0x40000000 + i % 1000 * 8 }")]
    public void Every_loop_reports_progress_about_every_million_accesses(string loop)
    {
        var script = Scenario.Check($"slot 0 gpa 0x0 size 64M hva 0x7f0000000000\nprocess p {{ map 0x40000000 size 16M to 0x1000000 rw }}\nrun p {{ {loop} }}");
        var calls = new List<long>();
        var r = ScriptInterpreter.Run(script, new RunOptions { Mode = MmuMode.Native, Progress = calls.Add });
        Assert.That(r.Counters.Accesses, Is.GreaterThan(3_000_000));
        Assert.That(calls, Has.Count.GreaterThanOrEqualTo(3), "progress must come during the loop, not only at its start");
    }
}
