using System.Text.Json;
using MemScript.Cli.Commands;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>
/// User text (mark and since labels, replay paths, file names) never reaches a terminal raw: every
/// format shows control characters as escapes and keeps each row on its line; JSON stays valid and
/// round-trips the text; no report quotes the content of a file that replay could not read.
/// </summary>
public class InjectionTests
{
    private const string Title = "\u001b]0;pwned\u0007\u001b[2J";
    private const string Escaped = @"\x1B]0;pwned\x07\x1B[2J";

    private static string Case(string name) => Path.Combine(Paths.Cases, "run", name);

    /// <summary>Characters a terminal obeys or breaks a line at; only the line feed may pass (and tabs in a quoted source line).</summary>
    private static void AssertPrintable(string text, string what)
    {
        var bad = text.Where(c => c != '\n' && c != '\t' && (c < ' ' || c is >= '\u007f' and <= '\u009f' || c is '\u2028' or '\u2029')).ToList();
        Assert.That(bad.Select(c => $"U+{(int)c:X4}"), Is.Empty, $"{what} holds raw control characters");
    }

    private static (int Code, string Out, string Err) Run(string file, string? mode, string format = "text", bool trace = false)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var code = RunCommand.Execute(new RunCommand.Settings(file, mode, trace, format, 0, false), output, error);
        return (code, output.ToString(), error.ToString());
    }

    [TestCase("all", "text", false)]
    [TestCase("ept", "text", false)]
    [TestCase("ept", "text", true)]
    [TestCase("all", "json", true)]
    [TestCase("all", "csv", false)]
    public void Labels_with_controls_are_shown_as_escapes(string mode, string format, bool trace)
    {
        var (code, output, error) = Run(Case("error-since-label-with-controls.memscript"), mode, format, trace);
        Assert.That(code, Is.EqualTo(1), "the since expectation fails");
        AssertPrintable(output, "stdout");
        AssertPrintable(error, "stderr");
        if (format == "text")
        {
            Assert.That(output, Does.Contain(Escaped));
            // The row of the segment whose label holds U+2028 and U+0085 stays one line, with its numbers.
            Assert.That(output.Split('\n').Where(l => l.Contains(@"two\u2028lines\x85here")).ToList(), Has.Count.GreaterThanOrEqualTo(1).And.All.Match(@"\d"));
        }
        if (trace) Assert.That(format == "text" ? output : error, Does.Contain($"mark           \"{Escaped}\""));
    }

    [Test]
    public void Json_stays_valid_and_gives_back_the_labels_as_written()
    {
        var (_, output, _) = Run(Case("error-since-label-with-controls.memscript"), "native", "json");
        Assert.That(output, Does.Contain(@"\u001B]0;pwned\u0007\u001B[2J"));
        using var doc = JsonDocument.Parse(output);
        var run = doc.RootElement.GetProperty("runs")[0];
        Assert.That(run.GetProperty("marks").EnumerateArray().Select(m => m.GetProperty("label").GetString()), Is.EqualTo(new[] { Title, "two\u2028lines\u0085here" }));
        Assert.That(run.GetProperty("expects")[0].GetProperty("since").GetString(), Is.EqualTo(Title));
    }

    [Test]
    public void The_html_report_shows_controls_as_escapes()
    {
        var target = Path.Combine(Path.GetTempPath(), $"memscript-inject-{Guid.NewGuid():N}.html");
        ReportCommand.Execute(new ReportCommand.Settings(Case("error-since-label-with-controls.memscript"), target, "all", null), TextWriter.Null, TextWriter.Null);
        var html = File.ReadAllText(target);
        AssertPrintable(html, "the page");
        Assert.That(html, Does.Contain(System.Net.WebUtility.HtmlEncode(Escaped)));
    }

    [Test]
    public void A_replay_path_with_controls_is_escaped_in_the_diagnostic()
    {
        var (code, output, error) = Run(Case("error-replay-control-path.memscript"), "native");
        Assert.That(code, Is.EqualTo(1));
        AssertPrintable(output + error, "the output");
        Assert.That(output, Does.Contain($"error MS0604: {Escaped}.lackey: file not found"));
    }

    [Test]
    public void A_file_name_with_controls_is_escaped_wherever_it_is_printed()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"memscript-inject-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, Title + ".memscript");
        File.Copy(Path.Combine(Paths.Examples, "01-demo-page.memscript"), file);
        var (_, text, _) = Run(file, "ept");
        AssertPrintable(text, "the report");
        Assert.That(text, Does.Contain(Escaped + ".memscript"));
        var explained = new StringWriter();
        ExplainCommand.Execute(new ExplainCommand.Settings(file, "0x400010", null, "ept", null), explained, TextWriter.Null);
        AssertPrintable(explained.ToString(), "explain");
        var error = new StringWriter();
        CheckCommand.Execute([file, Path.Combine(directory, Title)], error, error);
        AssertPrintable(error.ToString(), "check");
        Assert.That(error.ToString(), Does.Contain(Escaped + ": error MS0901"));
    }

    [TestCase("text")]
    [TestCase("json")]
    [TestCase("csv")]
    [TestCase("html")]
    public void A_file_that_is_not_a_trace_is_never_quoted(string format)
    {
        var file = Case("error-replay-not-lackey.memscript");
        string everything;
        if (format == "html")
        {
            var target = Path.Combine(Path.GetTempPath(), $"memscript-inject-{Guid.NewGuid():N}.html");
            var error = new StringWriter();
            ReportCommand.Execute(new ReportCommand.Settings(file, target, "all", null), TextWriter.Null, error);
            everything = File.ReadAllText(target) + error;
        }
        else
        {
            var (_, output, error) = Run(file, "all", format);
            everything = output + error;
        }
        Assert.That(everything, Does.Not.Contain("root:x"));
        Assert.That(everything, Does.Contain("secret.lackey:1: not a lackey line (expected"));
    }
}
