using System.Text.Json;
using MemScript.Cli.Commands;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>
/// Failed expectations and run-time errors are never lost: every format carries their file, line,
/// column, code and message, and stderr has them whatever the format.
/// </summary>
public class FormatDiagnosticsTests
{
    private static string Case(string name) => Path.Combine(Paths.Cases, "run", name);

    private static (int Code, string Out, string Err) Run(string file, string mode, string format)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var code = RunCommand.Execute(new RunCommand.Settings(file, mode, false, format, 0, false), output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static string Expect(string mode, int actual) =>
        $"{Case("error-expect-fails.memscript")}:5:3: error MS0701: expectation failed in {mode}: walk.refs == 24, but it is {actual}";

    private static string Replay => $"{Case("error-replay-malformed.memscript")}:3:9: error MS0604: malformed.lackey:3: not a lackey line";

    [TestCase("text")]
    [TestCase("json")]
    [TestCase("csv")]
    public void Every_format_puts_the_diagnostics_on_stderr(string format)
    {
        var (code, _, error) = Run(Case("error-expect-fails.memscript"), "all", format);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain(Expect("native", 4)).And.Contain(Expect("shadow", 5)).And.Contain(Expect("ept", 19)));
        Assert.That(error, Does.Contain("      expect walk.refs == 24 in native shadow ept\n      ^~~"), "with the source line and the caret");
        (code, _, error) = Run(Case("error-replay-malformed.memscript"), "all", format);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("run-time error in software:\n" + Replay));
    }

    [Test]
    public void Csv_has_a_row_per_failed_expectation_and_one_for_errors()
    {
        var (_, output, _) = Run(Case("error-expect-fails.memscript"), "all", "csv");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("counter,native,software,shadow,ept"));
        Assert.That(lines[^1], Is.EqualTo($"failed expect,\"{Expect("native", 4)}\",,\"{Expect("shadow", 5)}\",\"{Expect("ept", 19)}\""));
        Assert.That(lines.Count(l => l.StartsWith("failed expect,", StringComparison.Ordinal)), Is.EqualTo(1), "the other expectation held");

        (_, output, _) = Run(Case("error-replay-malformed.memscript"), "all", "csv");
        var error = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.That(error, Does.StartWith("error,\"" + Replay));
        Assert.That(error.Split("\",\"").Length, Is.EqualTo(4), "one cell per mode");
    }

    [Test]
    public void The_html_report_lists_each_problem_with_its_position()
    {
        string Html(string file)
        {
            var target = Path.Combine(Path.GetTempPath(), $"memscript-problems-{Guid.NewGuid():N}.html");
            ReportCommand.Execute(new ReportCommand.Settings(file, target, "all", null), TextWriter.Null, TextWriter.Null);
            return File.ReadAllText(target);
        }
        var html = Html(Case("error-expect-fails.memscript"));
        Assert.That(html, Does.Contain("<li class=\"problem\">ept: " + Expect("ept", 19) + "</li>"));
        Assert.That(System.Text.RegularExpressions.Regex.Matches(html, "<li class=\"problem\">").Count, Is.EqualTo(3));
        Assert.That(Html(Case("error-replay-malformed.memscript")), Does.Contain("<li class=\"problem\">native: " + Replay));
    }

    [Test]
    public void Csv_of_a_clean_run_is_the_counters_alone()
    {
        var (code, output, error) = Run(Path.Combine(Paths.Examples, "01-demo-page.memscript"), "all", "csv");
        Assert.That(code, Is.Zero);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Some.StartsWith("exits.EPT_VIOLATION,"));
        Assert.That(lines.Where(l => l.StartsWith("failed expect,", StringComparison.Ordinal) || l.StartsWith("error,", StringComparison.Ordinal)), Is.Empty);
        Assert.That(error, Is.Empty);
    }

    [Test]
    public void Json_errors_and_failed_expectations_carry_file_line_column_code_and_message()
    {
        var (_, output, _) = Run(Case("error-expect-fails.memscript"), "shadow", "json");
        using (var doc = JsonDocument.Parse(output))
        {
            var expects = doc.RootElement.GetProperty("runs")[0].GetProperty("expects");
            var failed = expects.EnumerateArray().Single(e => !e.GetProperty("passed").GetBoolean());
            Assert.That(failed.GetProperty("file").GetString(), Is.EqualTo(Case("error-expect-fails.memscript")));
            Assert.That((failed.GetProperty("line").GetInt32(), failed.GetProperty("column").GetInt32()), Is.EqualTo((5, 3)));
            Assert.That(failed.GetProperty("code").GetString(), Is.EqualTo("MS0701"));
            Assert.That(failed.GetProperty("message").GetString(), Is.EqualTo("expectation failed in shadow: walk.refs == 24, but it is 5"));
            var passed = expects.EnumerateArray().Single(e => e.GetProperty("passed").GetBoolean());
            Assert.That((passed.GetProperty("line").GetInt32(), passed.GetProperty("column").GetInt32()), Is.EqualTo((6, 3)));
        }

        (_, output, _) = Run(Case("error-replay-malformed.memscript"), "ept", "json");
        using (var doc = JsonDocument.Parse(output))
        {
            var error = doc.RootElement.GetProperty("runs")[0].GetProperty("error");
            Assert.That(error.GetProperty("file").GetString(), Is.EqualTo(Case("error-replay-malformed.memscript")));
            Assert.That((error.GetProperty("line").GetInt32(), error.GetProperty("column").GetInt32()), Is.EqualTo((3, 9)));
            Assert.That(error.GetProperty("code").GetString(), Is.EqualTo("MS0604"));
            Assert.That(error.GetProperty("message").GetString(), Does.StartWith("malformed.lackey:3: not a lackey line"));
        }
    }
}
