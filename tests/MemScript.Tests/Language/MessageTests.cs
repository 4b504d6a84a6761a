using System.Text;
using MemScript.Language.Checking;
using MemScript.Language.Parsing;

namespace MemScript.Tests.Language;

/// <summary>Issue 17's message slips, each pinned: limits that agree with their message, units, true TLB messages, hostile text.</summary>
public class MessageTests
{
    private static string Chain(int operators) => "let x = " + string.Join(" + ", Enumerable.Repeat("1", operators + 1));

    [Test]
    public void A_lone_surrogate_in_a_label_is_shown_not_thrown()
    {
        // A file cut inside a character: the run's error line holds half an emoji. (The fuzz property found this.)
        var text = "slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { map 0x1000 to 0x1000 r }\nrun p { mark \"\ud83d\" read 0x5000 }\n";
        var source = new MemScript.Language.Syntax.SourceText("cut.memscript", text);
        var diagnostic = MemScript.Language.Diagnostics.Errors.RunTime(new MemScript.Language.Syntax.TextSpan(text.IndexOf("read", StringComparison.Ordinal), text.IndexOf(" }\n", StringComparison.Ordinal)), "MS0601", "x");
        var formatted = MemScript.Language.Diagnostics.DiagnosticFormatter.Format(source, diagnostic);
        Assert.That(formatted, Does.StartWith("cut.memscript:3:18: error MS0601: x\n"));
    }

    [Test]
    public void An_expression_of_256_operators_passes_and_257_is_reported_as_more_than_256()
    {
        Assert.That(ScriptParser.Parse(Chain(256)).Diagnostics, Is.Empty);
        var deep = ScriptParser.Parse(Chain(257)).Diagnostics.Single();
        Assert.That((deep.Code, deep.Message), Is.EqualTo(("MS0002", "expression nests more than 256 operators inside one another: split it with a let")));
        Assert.That(ScriptParser.Parse("let x = " + new string('~', 256) + "0").Diagnostics, Is.Empty);
        Assert.That(ScriptParser.Parse("let x = " + new string('~', 257) + "0").Diagnostics.Single().Code, Is.EqualTo("MS0002"));
    }

    [TestCase("tlb 0", "tlb of 0 entries: a TLB needs at least one entry")]
    [TestCase("tlb 64 ways 0", "tlb of 0 ways: a set needs at least one way")]
    [TestCase("tlb 1 ways 2", "tlb of 1 entry cannot have 2 ways: entries must be a multiple of ways")]
    [TestCase("tlb1g 0", "tlb1g of 0 entries: a TLB needs at least one entry")]
    public void Tlb_shape_messages_say_something_true(string text, string message) =>
        Assert.That(Checker.CheckText(text).Diagnostics.Single().Message, Is.EqualTo(message));

    [TestCase("clock 3", "no unit")]
    [TestCase("clock 3 GHz", "without a space: 3GHz")]
    [TestCase("clock 3 ghz", "without a space: 3ghz")]
    [TestCase("clock 3ghz", "the unit is written GHz")]
    [TestCase("clock 0MHz", "the frequency is zero")]
    public void Every_clock_unit_mistake_gets_its_own_message(string text, string part)
    {
        var d = Checker.CheckText(text).Diagnostics.Single();
        Assert.That((d.Code, d.Message), Is.EqualTo(("MS0005", d.Message)));
        Assert.That(d.Message, Does.Contain(part));
    }

    [Test]
    public void A_unit_on_the_next_line_is_not_taken_by_clock()
    {
        var result = ScriptParser.Parse("clock 3GHz\nlet GHz = 3");
        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(result.Script!.Items, Has.Length.EqualTo(2));
    }

    [Test]
    public void A_huge_token_is_never_quoted_whole()
    {
        var token = new string('x', 10_000_000);
        foreach (var text in new[] { token, "let a = 1" + token, "process p { }\nrun q" + token + " { }", "let a = 9" + new string('9', 1_000_000) })
        {
            var diagnostics = Checker.CheckText(text).Diagnostics;
            Assert.That(diagnostics, Is.Not.Empty);
            Assert.That(diagnostics.Max(d => d.Message.Length), Is.LessThan(400), text[..12]);
        }
    }

    [Test]
    public void Control_characters_of_a_label_are_escaped_in_messages()
    {
        var d = Checker.CheckText("slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { }\nrun p { mark \"a\u001b]0;x\u0007\" expect accesses == 0 since \"b\u001b[2J\" }").Diagnostics.Single();
        Assert.That(d.Code, Is.EqualTo("MS0407"));
        Assert.That(d.Message.Any(char.IsControl), Is.False);
        Assert.That(d.Message, Does.Contain("\\u001b"));
    }

    [Test]
    public void Invalid_utf8_is_an_error_at_its_character()
    {
        var bytes = Encoding.UTF8.GetBytes("let a = 1\n# caf").Concat(new byte[] { 0xE9 }).Concat(Encoding.UTF8.GetBytes("\nlet b = 2")).ToArray();
        var (text, problem) = ScenarioBytes.Decode(bytes);
        Assert.That(problem!.Code, Is.EqualTo("MS0007"));
        Assert.That(problem.Span.Start, Is.EqualTo(text.IndexOf('\uFFFD')));
        Assert.That(problem.Message, Does.Contain("0xe9"));
        Assert.That(ScenarioBytes.Decode([0xEF, 0xBB, 0xBF, (byte)'m']), Is.EqualTo(("m", (MemScript.Language.Diagnostics.Diagnostic?)null)));
        Assert.That(ScenarioBytes.Decode([0xFF, 0xFE, (byte)'m', 0]).Problem!.Message, Does.Contain("UTF-16"));
    }

    [Test]
    public void The_loader_refuses_a_file_that_is_not_utf8()
    {
        var path = Path.Combine(Path.GetTempPath(), $"memscript-utf8-{Guid.NewGuid():N}.memscript");
        File.WriteAllBytes(path, [.. Encoding.UTF8.GetBytes("process p { }\n# "), 0xC3, 0x28]);
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.That(MemScript.Cli.Commands.CheckCommand.Execute([path], output, error), Is.EqualTo(2));
        Assert.That(error.ToString(), Does.Contain(":2:3: error MS0007: the file is not UTF-8 text"));
    }
}
