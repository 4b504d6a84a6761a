using System.Text;
using System.Text.RegularExpressions;
using MemScript.Tests.Support;

namespace MemScript.Tests.Language;

/// <summary>
/// docs/errors.md is generated from the test cases, so it cannot drift: every code the factory
/// declares, its meaning (from the factory method's name) and one real example with its message.
/// </summary>
public class ErrorCatalogTests
{
    private static string Humanize(string name) =>
        Regex.Replace(name, "(?<=[a-z0-9])([A-Z])", " $1").ToLowerInvariant();

    public static string Generate()
    {
        var factory = File.ReadAllText(Path.Combine(Paths.RepositoryRoot, "src", "Language", "Diagnostics", "Errors.cs"))
                      + File.ReadAllText(Path.Combine(Paths.RepositoryRoot, "src", "Engine", "EngineException.cs"));
        var meanings = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(factory, @"public static (?:Diagnostic|EngineException) (\w+)\([^)]*\)\s*=>\s*(?:new\(|Error\()""(MS\d{4})"""))
            Add(meanings, m.Groups[2].Value, Humanize(m.Groups[1].Value));

        var examples = new Dictionary<string, (string Case, string Text)>();
        foreach (var folder in new[] { "syntax", "run" })
        {
            foreach (var expected in Directory.GetFiles(Path.Combine(Paths.Cases, folder), "*.expected").Order(StringComparer.Ordinal))
            {
                var lines = File.ReadAllText(expected).Split('\n');
                for (var i = 0; i < lines.Length; i++)
                {
                    var m = Regex.Match(lines[i], @": error (MS\d{4}): ");
                    if (!m.Success || examples.ContainsKey(m.Groups[1].Value) || i + 2 >= lines.Length) continue;
                    if (lines[i + 1].Length > 110) continue; // prefer a short example when one exists
                    examples[m.Groups[1].Value] = ($"tests/cases/{folder}/{Path.GetFileNameWithoutExtension(expected)}.memscript",
                        string.Join("\n", lines[i], lines[i + 1], lines[i + 2]));
                }
            }
        }

        var sb = new StringBuilder();
        sb.Append("# Diagnostics\n\n");
        sb.Append("Every problem MemScript reports has a stable code. Codes MS00xx are syntax, MS01xx memslots, MS02xx names\n");
        sb.Append("and processes, MS03xx mappings and addresses, MS04xx configuration, MS05xx constant expressions (all found\n");
        sb.Append("by `memscript check`, before anything runs), MS06xx run-time errors and MS0701 failed expectations (found\n");
        sb.Append("by `memscript run`, exit code 1). Each example below is a real test case's output.\n\n");
        sb.Append("This file is generated from tests/cases by ErrorCatalogTests (`MEMSCRIPT_ACCEPT=1 dotnet test` rewrites it).\n\n");
        sb.Append("| code | meaning |\n|---|---|\n");
        foreach (var (code, meaning) in meanings) sb.Append($"| [{code}](#{code.ToLowerInvariant()}) | {string.Join("; ", meaning)} |\n");
        foreach (var (code, meaning) in meanings)
        {
            sb.Append($"\n## {code}\n\n{char.ToUpperInvariant(meaning[0][0])}{meaning[0][1..]}.\n\n");
            if (examples.TryGetValue(code, out var example))
                sb.Append($"From `{example.Case}`:\n\n```\n{example.Text}\n```\n");
            else
                sb.Append("No input reaches this error through the language today; it guards the engine.\n");
        }
        return sb.ToString();
    }

    private static void Add(SortedDictionary<string, List<string>> meanings, string code, string meaning)
    {
        if (!meanings.TryGetValue(code, out var list)) meanings[code] = list = new List<string>();
        if (!list.Contains(meaning)) list.Add(meaning);
    }

    [Test]
    public void Docs_errors_md_is_current()
    {
        var path = Path.Combine(Paths.RepositoryRoot, "docs", "errors.md");
        var generated = Generate();
        if (Environment.GetEnvironmentVariable("MEMSCRIPT_ACCEPT") == "1") File.WriteAllText(path, generated);
        Assert.That(File.Exists(path), "docs/errors.md is missing: run MEMSCRIPT_ACCEPT=1 dotnet test");
        Assert.That(File.ReadAllText(path).Replace("\r\n", "\n"), Is.EqualTo(generated), "docs/errors.md is stale: run MEMSCRIPT_ACCEPT=1 dotnet test and review the diff");
    }
}
