using System.Text.Json;
using MemScript.Tests.Support;

namespace MemScript.Tests.Engine;

/// <summary>Every scenario of ../shared/conformance gives exactly the counters its expected file lists, in every mode.</summary>
public class ConformanceTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        var folder = Path.Combine(Paths.Shared, "conformance");
        if (!Directory.Exists(folder))
        {
            yield return new TestCaseData("(missing)", "native").SetName("conformance folder is missing");
            yield break;
        }
        foreach (var file in Directory.GetFiles(folder, "*.memscript").Order(StringComparer.Ordinal))
        {
            using var expected = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(file, ".expected.json")));
            foreach (var run in expected.RootElement.GetProperty("runs").EnumerateArray())
            {
                var mode = run.GetProperty("mode").GetString()!;
                yield return new TestCaseData(Path.GetFileName(file), mode).SetName($"conformance {Path.GetFileNameWithoutExtension(file)} in {mode}");
            }
        }
    }

    [Test, TestCaseSource(nameof(Cases))]
    public void Matches_every_counter(string file, string mode)
    {
        var folder = Path.Combine(Paths.Shared, "conformance");
        Assert.That(Directory.Exists(folder), Is.True, $"{folder} must sit beside the repository");
        var path = Path.Combine(folder, file);
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(path, ".expected.json")));
        var run = expected.RootElement.GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("mode").GetString() == mode);
        var result = Scenario.Run(File.ReadAllText(path), Vocabulary.ParseMode(mode));

        var expectedCounters = run.GetProperty("counters").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        Assert.Multiple(() =>
        {
            foreach (var (name, value) in expectedCounters)
                Assert.That(result.Counters.Get(name), Is.EqualTo(value), $"{file} {mode}: {name}");
            // Every exit reason that occurred is listed, and none that did not.
            var reported = result.Counters.Named().Select(n => n.Name).Where(n => n.StartsWith("exits.", StringComparison.Ordinal));
            Assert.That(reported, Is.EquivalentTo(expectedCounters.Keys.Where(n => n.StartsWith("exits.", StringComparison.Ordinal))), $"{file} {mode}: exit reasons");
        });
    }
}
