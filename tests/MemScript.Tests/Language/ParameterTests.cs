using System.Collections.Immutable;
using MemScript.Cli.Commands;
using MemScript.Engine.Interpreter;
using MemScript.Language.Checking;
using MemScript.Tests.Support;

namespace MemScript.Tests.Language;

/// <summary>Parameters: --set NAME=EXPR replaces a top-level let's expression before anything is evaluated.</summary>
public class ParameterTests
{
    private const string Study = """
        let ws = 4M
        let pages = ws / 4K
        slot 0 gpa 0x0 size 64M hva 0x7f0000000000
        process p { demand 0x40000000 size 32M rw }
        run p {
          sweep read 0x40000000 size ws stride 4K
          mark "ws={ws / 1M}M"
          expect accesses == pages
        }
        """;

    private static CheckResult Check(params (string, string)[] sets) =>
        Checker.CheckText(Study, new CheckOptions { Parameters = [.. sets] });

    [Test]
    public void A_set_replaces_the_expression_and_later_lets_use_it()
    {
        var result = Check(("ws", "8M"));
        Assert.That(result.Diagnostics, Is.Empty);
        var run = ScriptInterpreter.Run(result.Script!, new RunOptions { Mode = MmuMode.Native });
        Assert.That(run.Counters.Accesses, Is.EqualTo(2048));
        Assert.That(run.Expects.Single().Passed, "pages follows ws");
        Assert.That(run.Marks.Single().Label, Is.EqualTo("ws=8M"));
        var let = (LetItem)result.Script!.Syntax.Items[0];
        Assert.That(let.Let.Value.Canonical(), Is.EqualTo("8M"), "the checked tree carries the overridden expression");
    }

    [Test]
    public void A_set_expression_may_use_the_parameters_above_it()
    {
        var result = Check(("pages", "ws / 4K * 2"));
        var run = ScriptInterpreter.Run(result.Script!, new RunOptions { Mode = MmuMode.Native });
        Assert.That(run.Expects.Single().Passed, Is.False);
        Assert.That(run.Expects.Single().Expected, Is.EqualTo(2048UL));
    }

    [Test]
    public void An_unknown_name_is_a_usage_error_with_a_suggestion()
    {
        var result = Check(("wss", "8M"));
        Assert.That(result.Success, Is.False);
        var d = result.OptionDiagnostics.Single();
        Assert.That((d.Option, d.Argument, d.Diagnostic.Code), Is.EqualTo(("--set", "wss=8M", "MS0207")));
        Assert.That(d.Diagnostic.Message, Does.Contain("did you mean 'ws'?"));
        Assert.That(d.Format(), Does.StartWith("--set wss=8M: error MS0207: ").And.Contains("\n    --set wss=8M\n          ^~~\n"));
    }

    [Test]
    public void The_same_name_twice_is_a_usage_error()
    {
        var result = Check(("ws", "8M"), ("ws", "16M"));
        Assert.That(result.OptionDiagnostics.Select(d => d.Diagnostic.Code), Is.EqualTo(new[] { "MS0208" }));
    }

    [TestCase("8Q", "MS0003", 3)]
    [TestCase("(1 +", "MS0001", 7)]
    [TestCase("1 / 0", "MS0502", 3)]
    [TestCase("nope", "MS0203", 3)]
    [TestCase("1 2", "MS0001", 5)]
    public void Errors_in_the_expression_point_into_the_option(string expression, string code, int column)
    {
        var result = Check(("ws", expression));
        Assert.That(result.Success, Is.False);
        var d = result.OptionDiagnostics.Single();
        Assert.That(d.Diagnostic.Code, Is.EqualTo(code));
        Assert.That(d.Diagnostic.Span.Start, Is.EqualTo(column), "offset into 'ws=EXPR'");
        Assert.That(result.Diagnostics, Is.Empty, "the file itself has no error");
    }

    [Test]
    public void The_command_line_splits_name_and_expression_at_the_first_equals()
    {
        var options = CheckOptions.FromCommandLine(["ws=1 << 20", " n =3"], "modern", out var problems);
        Assert.That(problems, Is.Empty);
        Assert.That(options.Parameters, Is.EqualTo(new[] { ("ws", "1 << 20"), ("n", "3") }));
        Assert.That(options.Profile, Is.EqualTo(Profile.Modern));
        CheckOptions.FromCommandLine(["ws"], null, out problems);
        Assert.That(problems.Single().Diagnostic.Code, Is.EqualTo("MS0209"));
    }

    private static string TempScript(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"memscript-param-{Guid.NewGuid():N}.memscript");
        File.WriteAllText(path, text);
        return path;
    }

    [Test]
    public void Run_check_explain_and_report_take_the_options_and_exit_2_on_a_usage_error()
    {
        var file = TempScript(Study);
        var bad = new CheckOptions { Parameters = [("wss", "1")] };
        var good = new CheckOptions { Parameters = [("ws", "8M")], Profile = Profile.Classic };
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.That(RunCommand.Execute(new RunCommand.Settings(file, "native", false, "json", 0, false, Check: good), output, error), Is.Zero);
        Assert.That(output.ToString(), Does.Contain("\"accesses\": 2048").Or.Contains("\"accesses\":2048"));
        Assert.That(RunCommand.Execute(new RunCommand.Settings(file, "native", false, "text", 0, false, Check: bad), output, error), Is.EqualTo(2));
        Assert.That(error.ToString(), Does.Contain("--set wss=1: error MS0207"));
        Assert.That(CheckCommand.Execute([file], output, error, bad), Is.EqualTo(2));
        Assert.That(CheckCommand.Execute([file], output, error, good), Is.Zero);
        Assert.That(ExplainCommand.Execute(new ExplainCommand.Settings(file, "0x40000000", null, "native", null, bad), output, error), Is.EqualTo(2));
        Assert.That(ExplainCommand.Execute(new ExplainCommand.Settings(file, "0x40000000", null, "native", null, good), output, error), Is.Zero);
        var html = Path.ChangeExtension(file, ".html");
        Assert.That(ReportCommand.Execute(new ReportCommand.Settings(file, html, "native", null, bad), output, error), Is.EqualTo(2));
        Assert.That(ReportCommand.Execute(new ReportCommand.Settings(file, html, "native", null, good), output, error), Is.Zero);
    }

    [Test]
    public void The_profile_option_reaches_the_checked_machine()
    {
        var result = Checker.CheckText("profile classic\n" + Study, new CheckOptions { Profile = Profile.Modern });
        Assert.That(result.Script!.Machine.Profile, Is.EqualTo(Profile.Modern));
        Assert.That(ImmutableArray.Create(result.Script.Machine.Pwc), Is.EqualTo(new[] { true }));
    }
}
