using MemScript.Language.Checking;
using MemScript.Language.Diagnostics;
using MemScript.Tests.Support;

namespace MemScript.Tests.Language;

/// <summary>
/// tests/cases/syntax: each NAME.memscript beside NAME.approved.txt, the AST dump of a file that checks or
/// the exact diagnostics of one that does not.
/// </summary>
public class SyntaxCaseTests
{
    public static IEnumerable<TestCaseData> Cases() =>
        Directory.GetFiles(Path.Combine(Paths.Cases, "syntax"), "*.memscript").Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName("syntax case " + Path.GetFileNameWithoutExtension(f)));

    /// <summary>A case's command-line options, from a first line <c># options: --set a=1 --set b=2 --profile modern</c>.</summary>
    public static CheckOptions Options(string text, out string problems)
    {
        problems = "";
        var first = text.Split('\n')[0];
        const string prefix = "# options:";
        if (!first.StartsWith(prefix, StringComparison.Ordinal)) return CheckOptions.None;
        var sets = new List<string>();
        string? profile = null;
        foreach (var option in first[prefix.Length..].Split(" --", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var name = option.TrimStart('-');
            var value = name.Contains(' ') ? name[(name.IndexOf(' ') + 1)..] : "";
            if (name.StartsWith("set ", StringComparison.Ordinal)) sets.Add(value);
            else if (name.StartsWith("profile ", StringComparison.Ordinal)) profile = value;
            else throw new ArgumentException($"unknown option in a case's options line: {option}");
        }
        var options = CheckOptions.FromCommandLine(sets, profile, out var found);
        problems = string.Concat(found.Select(f => f.Format()));
        return options;
    }

    public static string Output(string path)
    {
        // Read as the command line reads a scenario: bytes that must be UTF-8.
        var (text, notUtf8) = ScenarioBytes.Decode(File.ReadAllBytes(path));
        var source = new SourceText(Path.GetFileName(path), text);
        if (notUtf8 is not null) return DiagnosticFormatter.Format(source, notUtf8);
        var options = Options(source.Text, out var optionProblems);
        // As at the command line: an option that is not NAME=EXPR stops before the file is read.
        if (optionProblems.Length > 0) return optionProblems;
        var result = Checker.CheckText(source.Text, options);
        var diagnostics = optionProblems + string.Concat(result.OptionDiagnostics.Select(o => o.Format())) + DiagnosticFormatter.FormatAll(source, result.Diagnostics);
        return result.Success ? diagnostics + AstPrinter.Print(result.Script!.Syntax, source) : diagnostics;
    }

    [Test, TestCaseSource(nameof(Cases))]
    public void Case(string file)
    {
        var path = Path.Combine(Paths.Cases, "syntax", file);
        var output = Output(path);
        // good-: checks clean; warn-: checks, with at least one warning; bad-: rejected.
        var good = file.StartsWith("good-", StringComparison.Ordinal);
        var warn = file.StartsWith("warn-", StringComparison.Ordinal);
        Assert.That(output.Contains(": error MS"), Is.EqualTo(!good && !warn), good || warn ? "a good or warn case must check" : "a bad case must be rejected");
        Assert.That(output.Contains(": warning MS"), Is.EqualTo(warn), warn ? "a warn case must warn" : "only a warn case may warn");
        Snapshot.Verify(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path), output);
    }

    [Test]
    public void Every_check_time_diagnostic_code_has_a_case()
    {
        var codes = typeof(Errors).GetMethods()
            .Where(m => m.ReturnType == typeof(Diagnostic) && m.GetParameters().All(p => p.ParameterType != typeof(string) || p.Name != "code"))
            .Select(m => m.Name).ToList();
        var seen = Directory.GetFiles(Path.Combine(Paths.Cases, "syntax"), "*.approved.txt")
            .SelectMany(f => System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(f), @"(?:error|warning) (MS0[0-58]\d\d)").Select(m => m.Groups[1].Value))
            .ToHashSet();
        // Check-time codes: MS00xx to MS05xx, and the warnings of MS08xx but MS0804, which only a run can give.
        var declared = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Path.Combine(Paths.RepositoryRoot, "src", "Language", "Diagnostics", "Errors.cs")),
            "\"(MS0[0-58]\\d\\d)\"").Select(m => m.Groups[1].Value).Where(c => c != "MS0804").ToHashSet();
        Assert.That(codes, Is.Not.Empty);
        Assert.That(declared.Except(seen), Is.Empty, "check-time codes without a case in tests/cases/syntax");
        Assert.That(Directory.GetFiles(Path.Combine(Paths.Cases, "syntax"), "bad-*.memscript").Length, Is.GreaterThanOrEqualTo(40));
    }
}
