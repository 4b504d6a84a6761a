using System.Text.RegularExpressions;
using MemScript.Tests.Support;

namespace MemScript.Tests.Engine;

/// <summary>
/// docs/semantics.md carries the contract's text word for word (sections 1 to 11 and 13) around the
/// project's own section 12, so a reader never has to guess which sentences are the contract's.
/// </summary>
public class SemanticsCopyTests
{
    private static string Contract => File.ReadAllText(Path.Combine(Paths.Shared, "spec", "SEMANTICS.md"));
    private static string Copy => File.ReadAllText(Path.Combine(Paths.RepositoryRoot, "docs", "semantics.md"));

    /// <summary>The text of the numbered sections whose number is in <paramref name="numbers"/>, headings included.</summary>
    private static string Sections(string text, Func<int, bool> numbers)
    {
        var kept = new List<string>();
        var keep = false;
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
        {
            var heading = Regex.Match(line, @"^## (\d+)\.");
            if (heading.Success) keep = numbers(int.Parse(heading.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            if (keep) kept.Add(line);
        }
        return string.Join("\n", kept).TrimEnd();
    }

    [Test]
    public void Sections_1_to_11_are_the_contracts_words() =>
        Assert.That(Sections(Copy, n => n <= 11), Is.EqualTo(Sections(Contract, n => n <= 11)));

    [Test]
    public void Section_13_is_the_contracts_words_followed_only_by_the_projects_worked_examples()
    {
        var contract = Sections(Contract, n => n == 13);
        var copy = Sections(Copy, n => n == 13);
        Assert.That(copy, Does.StartWith(contract));
        // What follows the contract's last paragraph may only be the project's own subsections of 13.
        var rest = copy[contract.Length..];
        Assert.That(Regex.Matches(rest, @"^## ", RegexOptions.Multiline), Is.Empty);
    }

    [Test]
    public void Section_12_is_the_projects_and_the_contract_leaves_it_open()
    {
        Assert.That(Sections(Contract, n => n == 12), Is.Empty);
        Assert.That(Sections(Copy, n => n == 12), Does.Contain("### The modern profile"));
    }
}
