using System.CommandLine;
using MemScript.Cli.Commands;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>The command line says what it means in words: counts, limits, clamping and costs.</summary>
public class MessageTests
{
    private static string Demo => Path.Combine(Paths.Examples, "01-demo-page.memscript");

    private static IReadOnlyList<string> ParseErrors(params string[] args) =>
        new RootCommand { RunCommand.Create(), ExplainCommand.Create(), ReportCommand.Create() }.Parse(args).Errors.Select(e => e.Message).ToList();

    [TestCase("run", "--max-accesses", "-1", "--max-accesses takes a number of accesses, 0 or more (0: no limit), not '-1'")]
    [TestCase("run", "--max-accesses", "many", "--max-accesses takes a number of accesses, 0 or more (0: no limit), not 'many'")]
    [TestCase("explain", "--after", "-5", "--after takes a number of accesses, 0 or more (0: right after set-up), not '-5'")]
    [TestCase("explain", "--after", "label", "--after takes a number of accesses, 0 or more (0: right after set-up), not 'label'")]
    public void A_count_that_is_negative_or_a_word_is_a_usage_error_in_words(string command, string option, string value, string message)
    {
        string[] args = command == "explain" ? [command, Demo, "--at", "0x400010", option, value] : [command, Demo, option, value];
        var errors = ParseErrors(args);
        Assert.That(errors, Is.EqualTo(new[] { message }));
    }

    [Test]
    public void Counts_accept_zero_and_digit_separators()
    {
        Assert.That(ParseErrors("run", Demo, "--max-accesses", "0"), Is.Empty);
        Assert.That(ParseErrors("run", Demo, "--max-accesses", "1_000"), Is.Empty);
    }

    private static string Explain(string at, long? after = null, string mode = "ept")
    {
        var output = new StringWriter();
        var code = ExplainCommand.Execute(new ExplainCommand.Settings(Demo, at, null, mode, after), output, TextWriter.Null);
        Assert.That(code, Is.Zero);
        return output.ToString();
    }

    [Test]
    public void Explain_after_past_the_end_says_so()
    {
        Assert.That(Explain("0x400010", after: 100), Does.Contain("after 2 accesses, the end of the timeline (--after 100 asked for more);"));
        Assert.That(Explain("0x400010", after: 2), Does.Contain("after 2 accesses;"));
    }

    [Test]
    public void One_access_is_singular()
    {
        Assert.That(Explain("0x400010", after: 1), Does.Contain("after 1 access;"));
    }

    [TestCase("native")]
    [TestCase("software")]
    [TestCase("shadow")]
    [TestCase("ept")]
    public void A_non_canonical_address_has_no_cost_per_reference(string mode)
    {
        var text = Explain("0x8000000000000000", mode: mode);
        Assert.That(text, Does.Contain("a TLB miss here makes no walk reference and costs 0 cycles (see the outcome above)"));
        Assert.That(text, Does.Not.Contain("walk-ref 0").And.Not.Contain("MMU_TRAP exit and 0"));
    }

    [Test]
    public void A_segment_without_accesses_has_no_bandwidth()
    {
        var file = FatalErrorTests.TempFile("slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { map 0x1000 to 0x1000 rw }\n" +
            "run p {\n  read 0x1000\n  mark \"a\"\n  flush tlb\n  map 0x5000 to 0x5000 rw\n  mark \"b\"\n  read 0x1000\n}\n");
        foreach (var mode in new[] { "shadow", "all" })
        {
            var output = new StringWriter();
            RunCommand.Execute(new RunCommand.Settings(file, mode, false, "text", 0, false), output, TextWriter.Null);
            // The segment opened by mark "a" has no access: in the bandwidth column (the last), "-".
            var rows = output.ToString().Split('\n').Where(l => l.StartsWith("| 1 a ", StringComparison.Ordinal)).ToList();
            var bandwidth = mode == "all" ? rows[^1] : rows.Single();
            Assert.That(bandwidth, Does.Not.Contain("MB/s"), mode);
            Assert.That(bandwidth.TrimEnd().TrimEnd('|').TrimEnd(), Does.EndWith("-"), mode);
        }
    }
}
