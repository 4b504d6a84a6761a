using System.Text.RegularExpressions;
using MemScript.Tests.Support;

namespace MemScript.Tests.Language;

/// <summary>docs/language.md prints the keyword table the parser reads, and keeps the contract's text above its decisions.</summary>
public class LanguageDocTests
{
    private static string DocPath => Path.Combine(Paths.RepositoryRoot, "docs", "language.md");

    private static readonly Regex KeywordBlock = new("(<!-- keywords:[^\n]*-->\n)(.*?)(<!-- /keywords -->)", RegexOptions.Singleline);

    [Test]
    public void The_keyword_table_in_the_docs_is_the_parser_s()
    {
        var doc = File.ReadAllText(DocPath).Replace("\r\n", "\n");
        Assert.That(KeywordBlock.IsMatch(doc), "docs/language.md has no keyword block");
        var generated = KeywordBlock.Replace(doc, m => m.Groups[1].Value + "\n" + Keywords.MarkdownTable() + "\n" + m.Groups[3].Value, 1);
        if (Environment.GetEnvironmentVariable("MEMSCRIPT_ACCEPT") == "1") File.WriteAllText(DocPath, generated);
        Assert.That(doc, Is.EqualTo(generated), "docs/language.md's keyword table is stale: run MEMSCRIPT_ACCEPT=1 dotnet test");
    }

    [Test]
    public void The_contract_is_copied_above_the_decisions()
    {
        var doc = File.ReadAllText(DocPath).Replace("\r\n", "\n");
        var contract = File.ReadAllText(Path.Combine(Paths.Shared, "spec", "LANGUAGE.md")).Replace("\r\n", "\n");
        var body = doc[..doc.IndexOf("## This project's decisions", StringComparison.Ordinal)];
        // The copy is the contract with the project's note after its title.
        var note = body.IndexOf("\n> This is the project's copy", StringComparison.Ordinal);
        var noteEnd = body.IndexOf("\n\n", note + 1, StringComparison.Ordinal);
        Assert.That(note, Is.GreaterThan(0), "the project's note after the title is missing");
        Assert.That((body[..note] + body[(noteEnd + 1)..]).TrimEnd(), Is.EqualTo(contract.TrimEnd()));
    }
}
