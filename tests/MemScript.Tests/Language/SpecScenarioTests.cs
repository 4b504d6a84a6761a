using System.Text.RegularExpressions;
using MemScript.Language.Checking;
using MemScript.Tests.Support;

namespace MemScript.Tests.Language;

/// <summary>Every scenario written in ../shared/spec checks clean: the language's examples and the worked examples.</summary>
public class SpecScenarioTests
{
    public static IEnumerable<TestCaseData> Scenarios()
    {
        var spec = Path.Combine(Paths.Shared, "spec");
        if (!Directory.Exists(spec))
        {
            yield return new TestCaseData("(missing)", "").SetName("spec folder is missing");
            yield break;
        }
        var language = File.ReadAllText(Path.Combine(spec, "LANGUAGE.md"));
        var n = 0;
        foreach (Match m in Regex.Matches(language, "```memscript\n(.*?)```", RegexOptions.Singleline))
            yield return new TestCaseData("LANGUAGE.md", m.Groups[1].Value).SetName($"LANGUAGE.md scenario {++n}");
        // SEMANTICS.md's worked examples are indented blocks after "Scenario W1:" and "Scenario W2"; W2 reuses W1's slot.
        var semantics = File.ReadAllText(Path.Combine(spec, "SEMANTICS.md"));
        var blocks = Regex.Matches(semantics, @"Scenario (W\d)[^\n]*\n\n((?:    [^\n]*\n)+)");
        string? slot = null;
        foreach (Match m in blocks)
        {
            var text = string.Join("\n", m.Groups[2].Value.Split('\n').Select(l => l.Length >= 4 ? l[4..] : l));
            slot ??= text.Split('\n').FirstOrDefault(l => l.StartsWith("slot ", StringComparison.Ordinal));
            if (!text.Contains("slot ", StringComparison.Ordinal)) text = slot + "\n" + text;
            yield return new TestCaseData("SEMANTICS.md", text).SetName($"SEMANTICS.md scenario {m.Groups[1].Value}");
        }
    }

    [Test, TestCaseSource(nameof(Scenarios))]
    public void Checks_clean(string file, string text)
    {
        Assert.That(Directory.Exists(Path.Combine(Paths.Shared, "spec")), $"{Paths.Shared}/spec must sit beside the repository");
        var result = Checker.CheckText(text);
        Assert.That(result.Diagnostics.Select(d => d.Message), Is.Empty, $"a scenario of {file} does not check:\n{text}");
    }

    [Test]
    public void Both_worked_examples_were_found() =>
        Assert.That(Scenarios().Count(c => c.TestName!.StartsWith("SEMANTICS.md", StringComparison.Ordinal)), Is.EqualTo(2));
}
