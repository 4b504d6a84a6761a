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

    /// <summary>Every code the factories declare, with the names of the methods that make it.</summary>
    public static SortedDictionary<string, List<string>> Meanings()
    {
        var factory = File.ReadAllText(Path.Combine(Paths.RepositoryRoot, "src", "Language", "Diagnostics", "Errors.cs"))
                      + File.ReadAllText(Path.Combine(Paths.RepositoryRoot, "src", "Engine", "EngineException.cs"));
        var meanings = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        // Each factory method and the first code after its name (expression- or block-bodied).
        var methods = Regex.Matches(factory, @"public static (?:Diagnostic|EngineException) (\w+)\(").ToList();
        for (var i = 0; i < methods.Count; i++)
        {
            var end = i + 1 < methods.Count ? methods[i + 1].Index : factory.Length;
            var code = Regex.Match(factory[methods[i].Index..end], "\"(MS\\d{4})\"");
            if (code.Success) Add(meanings, code.Groups[1].Value, Humanize(methods[i].Groups[1].Value));
        }
        return meanings;
    }

    public static string Generate()
    {
        var meanings = Meanings();
        var examples = new Dictionary<string, (string Case, string Text)>();
        foreach (var folder in new[] { "syntax", "run" })
        {
            foreach (var expected in Directory.GetFiles(Path.Combine(Paths.Cases, folder), "*.approved.txt").Order(StringComparer.Ordinal))
            {
                var lines = File.ReadAllText(expected).Split('\n');
                for (var i = 0; i < lines.Length; i++)
                {
                    var m = Regex.Match(lines[i], @": (?:error|warning) (MS\d{4}): ");
                    if (!m.Success || examples.ContainsKey(m.Groups[1].Value) || i + 2 >= lines.Length) continue;
                    if (lines[i + 1].Length > 110) continue; // prefer a short example when one exists
                    var name = Path.GetFileName(expected);
                    var input = name[..name.IndexOf('.', StringComparison.Ordinal)] + ".memscript";
                    examples[m.Groups[1].Value] = ($"tests/cases/{folder}/{input}", string.Join("\n", lines[i], lines[i + 1], lines[i + 2]));
                }
            }
        }

        var sb = new StringBuilder();
        sb.Append("# Diagnostics\n\n");
        sb.Append("Every problem MemScript reports has a stable code. Codes MS00xx are syntax, MS01xx memslots, MS02xx names,\n");
        sb.Append("processes and parameters (`--set`), MS03xx mappings and addresses, MS04xx configuration, MS05xx constant\n");
        sb.Append("expressions: all found by `memscript check`, before anything runs (exit code 2). MS06xx are run-time errors\n");
        sb.Append("and MS0701 failed expectations, found by `memscript run` (exit code 1). MS08xx are warnings: what is valid\n");
        sb.Append("but probably not meant. `check` prints them and `run` prints them before running (MS0804 after it); they\n");
        sb.Append("change no exit code unless `--warnings-as-errors` is given (then `check` and `run` exit 2 on a warning of\n");
        sb.Append("the file, and `run` exits 1 on MS0804). Each example below is a real test case's output, and each fix is\n");
        sb.Append("from the table in src/Language/Diagnostics/Fixes.cs.\n\n");
        sb.Append("This file is generated from tests/cases by ErrorCatalogTests (`MEMSCRIPT_ACCEPT=1 dotnet test` rewrites it).\n\n");
        sb.Append("| code | meaning |\n|---|---|\n");
        foreach (var (code, meaning) in meanings) sb.Append($"| [{code}](#{code.ToLowerInvariant()}) | {string.Join("; ", meaning)} |\n");
        foreach (var (code, meaning) in meanings)
        {
            sb.Append($"\n## {code}\n\n{char.ToUpperInvariant(meaning[0][0])}{meaning[0][1..]}.\n\n");
            if (examples.TryGetValue(code, out var example))
                sb.Append($"From `{example.Case}`:\n\n```\n{example.Text}\n```\n\n");
            else
                sb.Append("No input reaches this error through the language today; it guards the engine.\n\n");
            sb.Append($"**Fix:** {(MemScript.Language.Diagnostics.Fixes.ByCode.TryGetValue(code, out var fix) ? fix : "(none written)")}\n");
        }
        return sb.ToString();
    }

    private static void Add(SortedDictionary<string, List<string>> meanings, string code, string meaning)
    {
        if (!meanings.TryGetValue(code, out var list)) meanings[code] = list = new List<string>();
        if (!list.Contains(meaning)) list.Add(meaning);
    }

    [Test]
    public void Every_code_has_a_fix_and_every_fix_a_code()
    {
        var codes = Meanings().Keys.ToList();
        Assert.That(codes, Is.Not.Empty);
        Assert.That(codes.Except(MemScript.Language.Diagnostics.Fixes.ByCode.Keys), Is.Empty, "codes without a fix in Fixes.cs");
        Assert.That(MemScript.Language.Diagnostics.Fixes.ByCode.Keys.Except(codes), Is.Empty, "fixes for codes nobody makes");
    }

    [Test]
    public void Every_code_but_the_engine_guard_has_an_example()
    {
        var generated = Generate();
        var missing = Regex.Matches(generated, @"## (MS\d{4})\n\n[^\n]*\n\nNo input reaches").Select(m => m.Groups[1].Value);
        Assert.That(missing, Is.EqualTo(new[] { "MS0603" }), "only the livelock guard has no input that reaches it");
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
