using System.Globalization;
using System.Text.Json;
using MemScript.Cli.Reports;
using MemScript.Engine.Interpreter;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>
/// Tables never split a number: at any width every counter of the JSON report is whole in its own
/// cell of the text report, under its mode; a narrow width splits a table, never a cell.
/// </summary>
public class TableWidthTests
{
    private static readonly int[] Widths = [60, 80, 200];

    public static IEnumerable<TestCaseData> Examples() =>
        Directory.GetFiles(Paths.Examples, "*.memscript").Select(Path.GetFileName).Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(f).SetName($"tables of {Path.GetFileNameWithoutExtension(f)} at 60, 80 and 200 columns"));

    /// <summary>
    /// The cells of every plain table in a text report, by table title (without "(1 of 2)"), row name
    /// and column header. A wrapped row would show as a row without a name, which fails here.
    /// </summary>
    public static Dictionary<(string Table, string Row, string Column), string> Cells(string text)
    {
        var cells = new Dictionary<(string, string, string), string>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("+-", StringComparison.Ordinal) || i + 1 >= lines.Length || !lines[i + 1].StartsWith("| ", StringComparison.Ordinal)) continue;
            var title = System.Text.RegularExpressions.Regex.Replace(lines[i - 1].Trim(), @" \(\d+ of \d+\)$", "");
            var headers = Split(lines[i + 1]);
            for (i += 2; i < lines.Length && lines[i].StartsWith('|'); i++)
            {
                if (lines[i].StartsWith("|-", StringComparison.Ordinal)) continue;
                var row = Split(lines[i]);
                Assert.That(row[0], Is.Not.Empty, $"a row of '{title}' without a name: a wrapped cell\n{lines[i]}");
                for (var c = 1; c < row.Length; c++) Assert.That(cells.TryAdd((title, row[0], headers[c]), row[c]), Is.True, $"'{title}' has '{row[0]}' under '{headers[c]}' twice");
            }
        }
        return cells;
    }

    private static string[] Split(string line) => line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();

    [Test, TestCaseSource(nameof(Examples))]
    public void Every_counter_is_whole_under_its_mode(string file)
    {
        var path = Path.Combine(Paths.Examples, file);
        var source = new SourceText("examples/" + file, File.ReadAllText(path));
        var script = Scenario.CheckAsShipped(source.Text, source.Path);
        var runs = Vocabulary.AllModes.Select(m => ScriptInterpreter.Run(script, new RunOptions { Mode = m, BaseDirectory = Paths.Examples })).ToList();
        var all = new ReportContext(source.Path, source, runs);
        using var json = JsonDocument.Parse(JsonReport.Render(all));
        var counters = json.RootElement.GetProperty("runs").EnumerateArray()
            .Select(r => (Mode: r.GetProperty("mode").GetString()!, Counters: r.GetProperty("counters").EnumerateObject().Select(p => (p.Name, Value: p.Value.GetInt64().ToString("N0", CultureInfo.InvariantCulture))).ToList()))
            .ToList();
        Assert.That(counters.Sum(r => r.Counters.Count), Is.GreaterThan(4 * 15));
        foreach (var width in Widths)
        {
            var text = TextReport.RenderPlain(all, width);
            AssertFits(text, width);
            var cells = Cells(text);
            foreach (var (mode, values) in counters)
                foreach (var (name, value) in values)
                    Assert.That(cells.GetValueOrDefault(("Comparison", name, mode)), Is.EqualTo(value), $"{name} in {mode} at {width} columns");
            for (var m = 0; m < runs.Count; m++)
            {
                var single = TextReport.RenderPlain(new ReportContext(source.Path, source, [runs[m]]), width);
                AssertFits(single, width);
                var singleCells = Cells(single);
                foreach (var (name, value) in counters[m].Counters)
                    Assert.That(singleCells.GetValueOrDefault(("Counters", name, "value")), Is.EqualTo(value), $"{name} in {counters[m].Mode} alone at {width} columns");
            }
        }
    }

    private static void AssertFits(string text, int width)
    {
        Assert.That(text, Does.Not.Contain("…"), "a cut cell");
        var tableLines = text.Split('\n').Where(l => l.StartsWith('|') || l.StartsWith('+')).ToList();
        Assert.That(tableLines.Where(l => l.Length > width), Is.Empty, $"tables wider than {width} columns");
    }

    [Test]
    public void A_wide_table_is_split_with_its_row_names_in_each_part()
    {
        var text = RunText(60);
        Assert.That(text, Does.Contain("Comparison (1 of 2)").And.Contain("Comparison (2 of 2)"));
        var parts = text.Split("Comparison (2 of 2)");
        Assert.That(parts[0], Does.Contain("| counter ").And.Contain("native").And.Contain("software").And.Not.Contain("| ept"));
        Assert.That(parts[1].TrimStart(' '), Does.StartWith("\n+").And.Contain("| counter ").And.Contain("shadow").And.Contain("ept"));
    }

    private static string RunText(int? width)
    {
        var file = Path.Combine(Paths.Examples, "06-streaming.memscript");
        var source = new SourceText("examples/06-streaming.memscript", File.ReadAllText(file));
        var script = Scenario.CheckAsShipped(source.Text, source.Path);
        var runs = Vocabulary.AllModes.Select(m => ScriptInterpreter.Run(script, new RunOptions { Mode = m, BaseDirectory = Paths.Examples })).ToList();
        return TextReport.RenderPlain(new ReportContext(source.Path, source, runs), width);
    }

    [Test]
    public void Without_a_width_every_table_is_as_wide_as_its_content()
    {
        var text = RunText(null);
        Assert.That(text, Does.Not.Contain(" of 2)"));
        Assert.That(text.Split('\n').Max(l => l.Length), Is.GreaterThan(80));
    }

    [TestCase(null, null, null)]
    [TestCase("60", null, 60)]
    [TestCase("60", 200, 60)]
    [TestCase(null, 100, 100)]
    [TestCase("wide", 100, 100)]
    [TestCase("0", null, null)]
    [TestCase("-5", null, null)]
    public void Columns_sets_the_width_and_a_redirected_report_has_none(string? columns, int? terminal, int? expected)
    {
        Assert.That(TextReport.Width(columns, terminal), Is.EqualTo(expected));
    }

    [Test]
    public void The_command_reads_COLUMNS_when_its_output_is_redirected()
    {
        var example = Path.Combine(Paths.Examples, "06-streaming.memscript");
        var (code, narrow, _) = CliProcess.Bash("exec $MEMSCRIPT \"$@\"", ["run", example, "--mode", "all"], new Dictionary<string, string> { ["COLUMNS"] = "60" });
        Assert.That(code, Is.Zero);
        Assert.That(narrow, Does.Contain("Comparison (1 of 2)"));
        AssertFits(narrow, 60);
        var (_, whole, _) = CliProcess.Bash("exec $MEMSCRIPT \"$@\"", ["run", example, "--mode", "all"]);
        Assert.That(whole, Does.Not.Contain("(1 of 2)"));
    }
}
