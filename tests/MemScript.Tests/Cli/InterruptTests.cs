using System.Diagnostics;
using MemScript.Cli.Commands;
using MemScript.Cli.Reports;
using MemScript.Engine.Interpreter;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>
/// Ctrl-C and --max-accesses in every command that runs a timeline: a stop is clean, a report is
/// written whole or not at all, and what ran is printed.
/// </summary>
public class InterruptTests
{
    private const string Endless = "slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { map 0x1000 to 0x1000 rw }\nrun p { repeat 0xffffffffffffffff { read 0x1000 } }\n";

    private static CancellationToken Soon() => new CancellationTokenSource(TimeSpan.FromMilliseconds(300)).Token;

    [Test]
    public void An_interrupted_report_writes_nothing_and_keeps_the_old_one()
    {
        var file = FatalErrorTests.TempFile(Endless);
        var target = Path.ChangeExtension(file, ".html");
        File.WriteAllText(target, "old");
        var error = new StringWriter();
        var code = ReportCommand.Execute(new ReportCommand.Settings(file, target, "all", null), TextWriter.Null, error, Soon());
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error.ToString(), Does.Contain("interrupted in native; " + target + " was not written"));
        Assert.That(File.ReadAllText(target), Is.EqualTo("old"));
    }

    [Test]
    public void An_interrupted_explain_explains_the_state_it_reached()
    {
        var file = FatalErrorTests.TempFile(Endless);
        var (output, error) = (new StringWriter(), new StringWriter());
        var code = ExplainCommand.Execute(new ExplainCommand.Settings(file, "0x1000", null, "ept", null), output, error, Soon());
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output.ToString(), Does.Match(@"after [0-9]+ accesses, where Ctrl-C stopped the timeline;"));
        Assert.That(output.ToString(), Does.Contain("outcome:"));
        Assert.That(error.ToString(), Does.Contain("interrupted after"));
    }

    [Test]
    public void An_interrupted_run_still_prints_the_report_of_what_ran()
    {
        var file = FatalErrorTests.TempFile(Endless);
        var output = new StringWriter();
        var code = RunCommand.Execute(new RunCommand.Settings(file, "native", false, "text", 0, false), output, TextWriter.Null, Soon());
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output.ToString(), Does.Contain("| accesses ").And.Contain("interrupted (native): the report shows what ran before Ctrl-C"));
    }

    [Test]
    public void Report_and_explain_take_an_access_limit()
    {
        var file = FatalErrorTests.TempFile(Endless);
        var target = Path.ChangeExtension(file, ".html");
        var code = ReportCommand.Execute(new ReportCommand.Settings(file, target, "native", null, MaxAccesses: 1000), TextWriter.Null, TextWriter.Null);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(File.ReadAllText(target), Does.Contain("MS0606"));

        var error = new StringWriter();
        code = ExplainCommand.Execute(new ExplainCommand.Settings(file, "0x1000", null, "ept", null, MaxAccesses: 1000), TextWriter.Null, error);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error.ToString(), Does.Contain("error MS0606: the run reached the limit of 1000 accesses"));

        var output = new StringWriter();
        code = ExplainCommand.Execute(new ExplainCommand.Settings(file, "0x1000", null, "ept", After: 10, MaxAccesses: 1000), output, TextWriter.Null);
        Assert.That(code, Is.Zero, "--after within the limit stops there");
        Assert.That(output.ToString(), Does.Contain("after 10 accesses;"));
    }

    [Test]
    public void Printing_the_report_stops_at_ctrl_c()
    {
        var runs = ManyMarks(2000);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => TextReport.RenderPlain(runs, null, cancelled.Token));
    }

    [Test]
    public void Many_marks_print_every_segment_in_every_figure_table()
    {
        // Thousands of marks in all modes (up to the run's cap of 10,000): every segment gets its row
        // in each per-figure table. (The rows used to be built in time quadratic in the marks; speed is
        // measured in bench/, not here.)
        var context = ManyMarks(9_000);
        var text = TextReport.RenderPlain(context);
        // 9,001 segments (the empty start, then one per mark) in each of the five per-figure tables.
        Assert.That(text.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\| \d+ m +\|")), Is.EqualTo(5 * 9_000));
        Assert.That(text.Split('\n').Count(l => l.StartsWith("| 0 start ", StringComparison.Ordinal)), Is.EqualTo(5));
    }

    private static ReportContext ManyMarks(int marks)
    {
        var text = $"slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p {{ map 0x1000 to 0x1000 rw }}\nrun p {{ repeat {marks} {{ mark \"m\" read 0x1000 }} }}\n";
        var source = new SourceText("marks.memscript", text);
        var script = Scenario.Check(text, source.Path);
        return new ReportContext(source.Path, source, Vocabulary.AllModes.Select(m => ScriptInterpreter.Run(script, new RunOptions { Mode = m })).ToList());
    }

    [Test]
    public void A_real_ctrl_c_stops_a_report_without_writing_it()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("signals");
        var file = FatalErrorTests.TempFile(Endless);
        var target = Path.ChangeExtension(file, ".html");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { CliProcess.Dll, "report", file, "-o", target }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        // Past start-up (whose CPU time is well under this) the process is in the endless loop, with
        // its Ctrl-C handler in place; a signal before that would kill it instead.
        var waited = Stopwatch.StartNew();
        while (process.TotalProcessorTime < TimeSpan.FromSeconds(2.5) && !process.HasExited && waited.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(100);
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        Assert.That(process.WaitForExit(TimeSpan.FromSeconds(30)), Is.True, "Ctrl-C did not stop the report");
        Assert.That(process.ExitCode, Is.EqualTo(1), error.Result);
        Assert.That(error.Result, Does.Contain("was not written"));
        Assert.That(File.Exists(target), Is.False);
    }
}
