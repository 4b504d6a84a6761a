using MemScript.Cli.Commands;
using MemScript.Language.Checking;
using MemScript.Tests.Support;

namespace MemScript.Tests.Language;

/// <summary>Warnings (MS08xx): printed by check and before run, exit codes untouched unless --warnings-as-errors.</summary>
public class WarningTests
{
    private static string TempScript(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"memscript-warn-{Guid.NewGuid():N}.memscript");
        File.WriteAllText(path, text);
        return path;
    }

    private static (int Code, string Out, string Err) Run(string file, bool warningsAsErrors = false, string mode = "native")
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = RunCommand.Execute(new RunCommand.Settings(file, mode, false, "json", 0, false, WarningsAsErrors: warningsAsErrors), output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static (int Code, string Err) Check(string file, bool warningsAsErrors = false)
    {
        var error = new StringWriter();
        var code = CheckCommand.Execute([file], new StringWriter(), error, null, warningsAsErrors);
        return (code, error.ToString());
    }

    private const string SweepPastDemand = """
        slot 0 gpa 0x0 size 64M hva 0x7f0000000000
        process p { demand 0x40000000 size 4M rw }
        run p { sweep read 0x40000000 size 8M stride 4K }
        """;

    [Test]
    public void Check_prints_a_warning_and_still_succeeds_unless_warnings_are_errors()
    {
        var file = TempScript(SweepPastDemand);
        var (code, err) = Check(file);
        Assert.That(code, Is.Zero);
        Assert.That(err, Does.Contain(": warning MS0802: the sweep range 0x40000000..0x407ff000 leaves"));
        (code, err) = Check(file, warningsAsErrors: true);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(": error MS0802: ").And.Contain("[--warnings-as-errors]"));
    }

    [Test]
    public void Run_prints_the_check_warning_before_running_and_runs()
    {
        var (code, output, err) = Run(TempScript(SweepPastDemand));
        Assert.That(code, Is.Zero);
        Assert.That(err, Does.Contain("warning MS0802"));
        Assert.That(output, Does.Contain("\"faults.segv\": 1024").Or.Contain("\"faults.segv\":1024"));
        Assert.That(Run(TempScript(SweepPastDemand), warningsAsErrors: true).Code, Is.EqualTo(2), "not run at all");
    }

    private const string LoopPastDemand = """
        slot 0 gpa 0x0 size 64M hva 0x7f0000000000
        process p { demand 0x40000000 size 4M rw map 0x500000 to 0x100000 rw }
        run p {
          repeat 2 as i { sweep read 0x40000000 size 4M + i * 8K stride 4K }
          read 0x500000
        }
        """;

    [Test]
    public void A_run_that_faults_or_reaches_mmio_unexpectedly_ends_with_a_warning_check_could_not_give()
    {
        var file = TempScript(LoopPastDemand);
        Assert.That(Check(file), Is.EqualTo((0, "")), "the range depends on a loop variable: check cannot know");
        var (code, _, err) = Run(file, mode: "all");
        Assert.That(code, Is.Zero);
        Assert.That(err, Does.Contain("warning MS0804: faults.segv is 2 in every mode and no expect mentions it: those accesses faulted and were dropped"));
        Assert.That(err, Does.Contain("add 'expect faults.segv == N'"));
        Assert.That(Run(file, warningsAsErrors: true).Code, Is.EqualTo(1), "with --warnings-as-errors the run fails");
    }

    [Test]
    public void Intended_mmio_is_said_with_an_expect_and_then_not_warned_about()
    {
        var text = LoopPastDemand.Replace("to 0x100000", "to 0xfee00000", StringComparison.Ordinal);
        var (_, _, err) = Run(TempScript(text));
        Assert.That(err, Does.Contain("warning MS0801").And.Contain("warning MS0804: mmio is 1 in native"));
        (_, _, err) = Run(TempScript(text.Replace("read 0x500000", "read 0x500000\n  expect mmio == 1", StringComparison.Ordinal)));
        Assert.That(err, Does.Not.Contain("MS0801").And.Not.Contain("MS0804: mmio"));
    }

    [Test]
    public void An_expect_on_the_counter_silences_the_end_of_run_warning()
    {
        var file = TempScript(LoopPastDemand.Replace("read 0x500000", "read 0x500000\n  expect faults.segv == 2", StringComparison.Ordinal));
        var (_, _, err) = Run(file);
        Assert.That(err, Does.Not.Contain("MS0804"));
    }

    [Test]
    public void Run_warnings_are_computed_from_counters_and_expects()
    {
        var script = Scenario.Check(SweepPastDemand);
        var warnings = RunWarnings.Unmentioned(script, [(MmuMode.Native, 1024, 0), (MmuMode.Ept, 1024, 3)]).ToList();
        Assert.That(warnings.Select(w => (w.Code, w.Severity)), Is.EqualTo(new[] { ("MS0804", MemScript.Language.Diagnostics.Severity.Warning), ("MS0804", MemScript.Language.Diagnostics.Severity.Warning) }));
        Assert.That(warnings[1].Message, Does.StartWith("mmio is 0 in native and 3 in ept"));
        Assert.That(RunWarnings.Unmentioned(script, [(MmuMode.Native, 0, 0)]), Is.Empty);
    }

    [Test]
    public void No_example_warns_when_checked()
    {
        foreach (var file in Directory.GetFiles(Paths.Examples, "*.memscript").Order(StringComparer.Ordinal))
        {
            var result = Checker.CheckText(File.ReadAllText(file));
            Assert.That(result.Diagnostics.Select(d => d.Code + " " + d.Message), Is.Empty, Paths.Relative(file));
        }
    }
}
