using MemScript.Cli.Commands;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>
/// <c>run --mode all</c> runs the four modes at once (they are independent machines): the report is the
/// same bytes as when they run one after another, which <c>--stats</c> still does (its timings are of
/// one run alone).
/// </summary>
public class ParallelModesTests
{
    private static (int Code, string Out) Run(string file, string format, bool oneAfterAnother, bool trace = false)
    {
        var output = new StringWriter { NewLine = "\n" };
        var code = RunCommand.Execute(new RunCommand.Settings(file, "all", trace, format, 0, false, Stats: oneAfterAnother), output, TextWriter.Null);
        return (code, output.ToString());
    }

    [TestCase("13-shadow-limit.memscript", "text")]
    [TestCase("09-dirty-log.memscript", "json")]
    [TestCase("21-write-flooding.memscript", "csv")]
    [TestCase("04-demand-paging.memscript", "text", true)]
    public void Modes_at_once_report_the_same_bytes_as_one_after_another(string example, string format, bool trace = false)
    {
        var file = Path.Combine(Paths.Examples, example);
        var atOnce = Run(file, format, oneAfterAnother: false, trace);
        var inTurn = Run(file, format, oneAfterAnother: true, trace);
        Assert.That(atOnce.Out, Has.Length.GreaterThan(500));
        Assert.That(atOnce, Is.EqualTo(inTurn));
    }

    [Test]
    public void Each_mode_reports_its_own_run_time_error_in_mode_order()
    {
        // 8,192 reads against a limit of 1,000 per mode: every mode stops with its own error.
        var file = FatalErrorTests.TempFile("slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { map 0x1000 size 64K to 0x1000 rw }\nrun p { sweep read 0x1000 size 64K stride 8 }\n");
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var code = RunCommand.Execute(new RunCommand.Settings(file, "all", false, "csv", 1000, false), output, error);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error.ToString().Split("run-time error in ").Skip(1).Select(e => e.Split(':')[0]), Is.EqualTo(new[] { "native", "software", "shadow", "ept" }), "in mode order, whatever finished first");
    }

    [Test]
    public void Ctrl_c_stops_every_mode_and_each_reports_what_it_ran()
    {
        var file = FatalErrorTests.TempFile("slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { map 0x1000 to 0x1000 rw }\nrun p { repeat 0xffffffffffffffff { read 0x1000 } }\n");
        var output = new StringWriter { NewLine = "\n" };
        var code = RunCommand.Execute(new RunCommand.Settings(file, "all", false, "text", 0, false), output, TextWriter.Null,
            new CancellationTokenSource(TimeSpan.FromMilliseconds(300)).Token);
        Assert.That(code, Is.EqualTo(1));
        foreach (var mode in new[] { "native", "software", "shadow", "ept" })
            Assert.That(output.ToString(), Does.Contain($"interrupted ({mode}): the report shows what ran before Ctrl-C"));
    }
}
