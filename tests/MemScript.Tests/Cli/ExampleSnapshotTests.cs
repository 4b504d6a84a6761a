using MemScript.Cli.Reports;
using MemScript.Engine.Interpreter;
using MemScript.Engine.Tracing;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>
/// Every example in every mode: its expectations hold, its trace (cut at a fixed length) and text report
/// are approved snapshots, and a second run gives the same bytes.
/// </summary>
public class ExampleSnapshotTests
{
    private const int TraceLines = 200;

    public static IEnumerable<TestCaseData> ExamplesAndModes() =>
        from file in Examples()
        from mode in Vocabulary.AllModes
        select new TestCaseData(file, mode).SetName($"example {Path.GetFileNameWithoutExtension(file)} in {Vocabulary.ModeName(mode)}");

    public static IEnumerable<TestCaseData> ExampleFiles() =>
        Examples().Select(f => new TestCaseData(f).SetName($"example {Path.GetFileNameWithoutExtension(f)} in all modes (json)"));

    private static IEnumerable<string> Examples() =>
        Directory.GetFiles(Paths.Examples, "*.memscript").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    private static (string Report, string Trace, RunResult Result) Run(string file, MmuMode mode)
    {
        var path = Path.Combine(Paths.Examples, file);
        var source = new SourceText("examples/" + file, File.ReadAllText(path));
        var script = Support.Scenario.CheckAsShipped(source.Text, source.Path);
        var result = ScriptInterpreter.Run(script, new RunOptions { Mode = mode, Trace = true, TraceLimit = TraceLines, BaseDirectory = Paths.Examples });
        var report = TextReport.RenderPlain(new ReportContext(source.Path, source, [result]));
        var trace = new StringWriter { NewLine = "\n" };
        TraceFormatter.WriteAll(trace, result.Trace, result.TraceDropped);
        return (report, trace.ToString(), result);
    }

    /// <summary>tests/snapshots/examples/NAME: one folder per example, one file per mode and kind.</summary>
    private static string Folder(string file) => Path.Combine(Snapshot.Examples, Path.GetFileNameWithoutExtension(file));

    [Test, TestCaseSource(nameof(ExamplesAndModes))]
    public void Expectations_hold(string file, MmuMode mode)
    {
        var (_, _, result) = Run(file, mode);
        Assert.That(result.Error, Is.Null, () => $"{file} in {mode}: {result.Error!.Message}");
        Assert.That(result.Expects.Where(e => !e.Passed).Select(e => ScriptInterpreter.Describe(e, mode)), Is.Empty, file);
    }

    [Test, TestCaseSource(nameof(ExamplesAndModes))]
    public void Report_snapshot(string file, MmuMode mode)
    {
        Snapshot.Verify(Folder(file), $"{Vocabulary.ModeName(mode)}.report", Run(file, mode).Report);
    }

    [Test, TestCaseSource(nameof(ExamplesAndModes))]
    public void Trace_snapshot(string file, MmuMode mode)
    {
        Snapshot.Verify(Folder(file), $"{Vocabulary.ModeName(mode)}.trace", Run(file, mode).Trace);
    }

    [Test, TestCaseSource(nameof(ExampleFiles))]
    public void Json_of_all_modes_snapshot(string file)
    {
        var path = Path.Combine(Paths.Examples, file);
        var source = new SourceText("examples/" + file, File.ReadAllText(path));
        var script = Support.Scenario.CheckAsShipped(source.Text, source.Path);
        var runs = Vocabulary.AllModes.Select(m => ScriptInterpreter.Run(script, new RunOptions { Mode = m, BaseDirectory = Paths.Examples })).ToList();
        Snapshot.Verify(Folder(file), "all.json", JsonReport.Render(new ReportContext(source.Path, source, runs)));
    }

    [Test, TestCaseSource(nameof(ExamplesAndModes))]
    public void Same_bytes_on_a_second_run(string file, MmuMode mode)
    {
        var first = Run(file, mode);
        var second = Run(file, mode);
        Assert.That(second.Report, Is.EqualTo(first.Report));
        Assert.That(second.Trace, Is.EqualTo(first.Trace));
    }
}
