using System.Text.RegularExpressions;
using MemScript.Cli.Commands;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>
/// The studies of examples/studies: each runs the <c>memscript grid</c> command its header documents,
/// every expectation holds, and its CSV is an approved snapshot.
/// </summary>
public class StudySnapshotTests
{
    /// <summary>
    /// Overrides that keep a study within a test's time: the TLB-reach study at 64K random reads per
    /// point instead of 1M (the same knees; the documented run is the README's chart).
    /// </summary>
    private static readonly Dictionary<string, string[]> Lighter = new()
    {
        ["tlb-reach.memscript"] = ["reads=64K"],
    };

    public static IEnumerable<TestCaseData> Studies() =>
        Directory.GetFiles(Path.Combine(Paths.Examples, "studies"), "*.memscript").Select(Path.GetFileName).Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(f).SetName($"study {Path.GetFileNameWithoutExtension(f)}"));

    /// <summary>The --set and --mode arguments of the grid command in a study's header comment (its lines joined at the backslashes).</summary>
    internal static (string[] Sets, string? Mode) DocumentedCommand(string path)
    {
        var header = string.Join(' ', File.ReadLines(path).TakeWhile(l => l.StartsWith('#')).Select(l => l.TrimStart('#').Trim().TrimEnd('\\')));
        var command = Regex.Match(header, @"memscript grid \S+(?<args>(\s+--\S+\s+\S+)+)");
        Assert.That(command.Success, $"{path} documents its memscript grid command in its header");
        var args = command.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var sets = new List<string>();
        string? mode = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "--set") sets.Add(args[i + 1]);
            else if (args[i] == "--mode") mode = args[i + 1];
        }
        Assert.That(sets, Is.Not.Empty);
        return ([.. sets], mode);
    }

    [Test, TestCaseSource(nameof(Studies))]
    public void Study_snapshot(string file)
    {
        var path = Path.Combine(Paths.Examples, "studies", file);
        var (sets, mode) = DocumentedCommand(path);
        var (output, error) = (new StringWriter { NewLine = "\n" }, new StringWriter { NewLine = "\n" });
        var code = GridCommand.Execute(new GridCommand.Settings(path, [.. sets, .. Lighter.GetValueOrDefault(file, [])], Mode: mode, Format: "csv"), output, error);
        Assert.That(code, Is.Zero, error.ToString());
        Assert.That(error.ToString(), Is.Empty, "no warning, no failure");
        Snapshot.Verify(Path.Combine(Snapshot.Studies, Path.GetFileNameWithoutExtension(file)), "csv", output.ToString());
    }
}
