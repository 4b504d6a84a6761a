using MemScript.Cli.Commands;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>
/// Where <c>memscript report</c> writes: the target is checked before anything runs, the scenario and
/// directories are never overwritten, and the file is replaced whole or not at all.
/// </summary>
public class ReportOutputTests
{
    private string _directory = "";

    [SetUp]
    public void NewDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"memscript-report-out-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
        File.Copy(Path.Combine(Paths.Examples, "01-demo-page.memscript"), Scenario);
    }

    [TearDown]
    public void RemoveDirectory() => Directory.Delete(_directory, recursive: true);

    private string Scenario => Path.Combine(_directory, "demo.memscript");

    private static (int Code, string Out, string Err) Report(string file, string output)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        var code = ReportCommand.Execute(new ReportCommand.Settings(file, output, "native", null), o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Test]
    public void An_empty_output_name_is_refused_before_the_scenario_is_read()
    {
        // The scenario does not exist: had it been read (and run) first, its error would come instead.
        var (code, _, error) = Report(Path.Combine(_directory, "absent.memscript"), "");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain("error MS0906: the output file name is empty"));
    }

    [Test]
    public void The_scenario_itself_is_never_overwritten()
    {
        var before = File.ReadAllBytes(Scenario);
        var link = Path.Combine(_directory, "link.html");
        File.CreateSymbolicLink(link, Scenario);
        foreach (var output in new[] { Scenario, Path.Combine(_directory, "..", Path.GetFileName(_directory), "demo.memscript"), link })
        {
            var (code, _, error) = Report(Scenario, output);
            Assert.That(code, Is.EqualTo(2), output);
            Assert.That(error, Does.Contain("error MS0907: the output would overwrite the scenario itself").And.Contain("demo.html"), output);
        }
        Assert.That(File.ReadAllBytes(Scenario), Is.EqualTo(before));
    }

    [Test]
    public void A_directory_or_a_missing_directory_is_refused()
    {
        var (code, _, error) = Report(Scenario, _directory);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain("error MS0908: the output is a directory"));
        (code, _, error) = Report(Scenario, Path.Combine(_directory, "nowhere", "r.html"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain("error MS0912: there is no directory"));
    }

    [Test]
    public void A_report_replaces_the_old_one_and_leaves_no_temporary_file()
    {
        var target = Path.Combine(_directory, "r.html");
        File.WriteAllText(target, "old");
        var (code, output, _) = Report(Scenario, target);
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("wrote"));
        Assert.That(File.ReadAllText(target), Does.StartWith("<!DOCTYPE html>"));
        Assert.That(Directory.GetFiles(_directory).Select(Path.GetFileName), Is.EquivalentTo(new[] { "demo.memscript", "r.html" }));
    }

    [Test]
    public void A_file_size_limit_leaves_the_old_report_and_exits_3()
    {
        Assume.That(OperatingSystem.IsLinux(), "ulimit -f");
        var target = Path.Combine(_directory, "r.html");
        File.WriteAllText(target, "old");
        // 8 KiB: the runtime starts (without its double-mapped code pages, which a size limit breaks)
        // and the report (about 30 KB) does not fit.
        var (code, _, error) = CliProcess.Bash("ulimit -f 8; exec $MEMSCRIPT \"$@\"", ["report", Scenario, "-o", target],
            new Dictionary<string, string> { ["DOTNET_EnableWriteXorExecute"] = "0" });
        Assert.That(code, Is.EqualTo(3), error);
        Assert.That(error, Does.Contain("error MS0909: cannot write").And.Contain("ulimit -f").And.Contain("unchanged"));
        CliProcess.AssertNoStackTrace(error);
        Assert.That(File.ReadAllText(target), Is.EqualTo("old"));
        Assert.That(Directory.GetFiles(_directory).Select(Path.GetFileName), Is.EquivalentTo(new[] { "demo.memscript", "r.html" }));
    }
}
