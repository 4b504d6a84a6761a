using System.Text.Json;
using MemScript.Cli.Commands;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>The command-line contract of LANGUAGE.md: exit codes, formats, and what goes where.</summary>
public class CommandLineTests
{
    private static string Example(string name) => Path.Combine(Paths.Examples, name);

    private static string TempScript(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"memscript-cli-{Guid.NewGuid():N}.memscript");
        File.WriteAllText(path, text);
        return path;
    }

    private static (int Code, string Out, string Err) Run(string file, string? mode = null, bool trace = false, string format = "text", long maxAccesses = 0)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = RunCommand.Execute(new RunCommand.Settings(file, mode, trace, format, maxAccesses, false), output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Test]
    public void Json_has_the_documented_shape_and_counter_names()
    {
        var (code, output, _) = Run(Example("01-demo-page.memscript"), "ept", format: "json");
        Assert.That(code, Is.Zero);
        using var doc = JsonDocument.Parse(output);
        var run = doc.RootElement.GetProperty("runs")[0];
        Assert.That(run.GetProperty("mode").GetString(), Is.EqualTo("ept"));
        var counters = run.GetProperty("counters").EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(counters, Is.EqualTo(new[]
        {
            "accesses", "cycles", "tlb.hits", "tlb.misses", "walk.refs", "hv.refs", "faults.guest", "faults.host", "faults.segv",
            "exits", "mmio", "pages.guest-pt", "pages.shadow", "pages.ept", "pages.host",
            "dirty.logged", "dirty.collected", "shadow.unsync", "shadow.synced", "shadow.prefetched", "shadow.zapped", "exits.EPT_VIOLATION",
        }));
        Assert.That(run.GetProperty("counters").GetProperty("cycles").GetInt64(), Is.EqualTo(20272));
        Assert.That(run.GetProperty("expects").GetArrayLength(), Is.EqualTo(5), "the ept and unconditional expects");
    }

    [Test]
    public void Mode_all_runs_four_fresh_machines_in_order()
    {
        var (code, output, _) = Run(Example("01-demo-page.memscript"), "all", format: "json");
        Assert.That(code, Is.Zero);
        using var doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("mode").GetString()),
            Is.EqualTo(new[] { "native", "software", "shadow", "ept" }));
    }

    [Test]
    public void Text_comparison_shows_slowdown_against_native()
    {
        var (code, output, _) = Run(Example("01-demo-page.memscript"), "all");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("slowdown vs native").And.Contain("91.32x").And.Contain("61.09x"));
    }

    [Test]
    public void Failed_expect_exits_1_and_names_its_position()
    {
        var file = TempScript("slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { map 0x1000 to 0x1000 r }\nrun p {\n  read 0x1000\n  expect walk.refs == 5 in native\n}\n");
        var (code, output, _) = Run(file, "native");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.Contain(":5:3: error MS0701: expectation failed in native: walk.refs == 5, but it is 4"));
    }

    [Test]
    public void Run_time_error_exits_1_with_its_position()
    {
        var file = TempScript("slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { map 0x1000 to 0x1000 r }\nrun p {\n  repeat 2 as i { read 0x1000 - i * 0x2000 }\n}\n");
        var (code, output, _) = Run(file, "ept");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.Contain(":4:24: error MS0503: subtraction goes below zero"));
    }

    [Test]
    public void Syntax_error_exits_2_with_the_diagnostic_on_stderr()
    {
        var file = TempScript("run {\n");
        var (code, output, error) = Run(file);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(output, Is.Empty);
        Assert.That(error, Does.Contain("error MS0001"));
    }

    [Test]
    public void Missing_file_exits_2()
    {
        var (code, _, error) = Run(Path.Combine(Path.GetTempPath(), "no-such-file.memscript"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain("no-such-file.memscript: error MS0901: no such file"));
    }

    [Test]
    public void Access_limit_stops_the_run_with_an_error()
    {
        var (code, output, _) = Run(Example("06-streaming.memscript"), "native", maxAccesses: 1000);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.Contain("MS0606").And.Contain("1000 accesses"));
    }

    [Test]
    public void Trace_goes_to_stdout_in_text_and_to_stderr_with_json()
    {
        var text = Run(Example("01-demo-page.memscript"), "ept", trace: true);
        Assert.That(text.Out, Does.Contain("EPT_VIOLATION(48)"));
        var json = Run(Example("01-demo-page.memscript"), "ept", trace: true, format: "json");
        Assert.That(json.Err, Does.Contain("EPT_VIOLATION(48)"));
        Assert.DoesNotThrow(() => JsonDocument.Parse(json.Out));
    }

    [Test]
    public void Csv_has_a_column_per_mode()
    {
        var (_, output, _) = Run(Example("01-demo-page.memscript"), "all", format: "csv");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("counter,native,software,shadow,ept"));
        Assert.That(lines, Does.Contain("walk.refs,4,0,5,19"));
    }

    [Test]
    public void Check_reports_every_file()
    {
        var bad = TempScript("mmu fast\n");
        var output = new StringWriter();
        var error = new StringWriter();
        var code = CheckCommand.Execute([Example("01-demo-page.memscript"), bad], output, error);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(output.ToString(), Does.Contain("01-demo-page.memscript: ok"));
        Assert.That(error.ToString(), Does.Contain("MS0001"));
    }

    [Test]
    public void The_program_answers_help_and_usage_errors()
    {
        var cli = typeof(RunCommand).Assembly.Location;
        static (int, string) Exec(string dll, params string[] args)
        {
            var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(dll);
            foreach (var a in args) start.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(start)!;
            var text = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, text);
        }
        var (helpCode, help) = Exec(cli, "run", "--help");
        Assert.That(helpCode, Is.Zero);
        Assert.That(help, Does.Contain("--mode").And.Contain("--trace").And.Contain("--format"));
        var (badCode, bad) = Exec(cli, "run", Example("01-demo-page.memscript"), "--mode", "vmware");
        Assert.That(badCode, Is.EqualTo(2));
        Assert.That(bad, Does.Contain("vmware"));
    }
}
