using MemScript.Engine.Interpreter;
using MemScript.Language.Parsing;
using MemScript.Tests.Support;

namespace MemScript.Tests.Language;

/// <summary>Interpolated labels: read by the parser with the file's spans, rendered by the interpreter when the statement executes.</summary>
public class InterpolationTests
{
    [Test]
    public void Marks_render_each_interpolation_in_decimal_when_they_execute_and_since_matches_the_rendered_label()
    {
        var text = File.ReadAllText(Path.Combine(Paths.Cases, "syntax", "good-interpolated-labels.memscript"));
        foreach (var mode in Vocabulary.AllModes)
        {
            var run = Scenario.Run(text, mode);
            Assert.That(run.Marks.Select(m => m.Label), Is.EqualTo(new[] { "ws=4M", "pass 0 of {2}", "pass 1 of {2}" }));
            Assert.That(run.Expects.Select(e => (e.Since, e.Passed)), Is.EqualTo(new (string?, bool)[]
            {
                ("pass 0 of {2}", true), ("pass 1 of {2}", true), ("ws=4M", true), ("pass 1 of {2}", true),
            }));
        }
    }

    [Test]
    public void A_since_label_that_no_mark_has_produced_yet_fails_at_run_time_with_the_rendered_text()
    {
        var text = "slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { map 0x1000 to 0x1000 rw }\n" +
                   "run p { repeat 2 as i { expect accesses == 0 since \"m{i + 1}\" mark \"m{i}\" } }";
        var run = Scenario.RunAllowingErrors(text, MmuMode.Native);
        Assert.That(run.Error?.Code, Is.EqualTo("MS0608"));
        Assert.That(run.Error!.Message, Does.Contain("\"m1\""));
    }

    [Test]
    public void Interpolations_carry_spans_into_the_file_even_after_escapes()
    {
        var text = "process p { }\nrun p { mark \"a\\\"{1 + 2}\" }";
        var mark = (MarkStmt)((RunBlock)ScriptParser.Parse(text).Script!.Items[1]).Body[0];
        var expr = mark.Label.Parts[1].Expr!;
        Assert.That(text[expr.Span.Start..expr.Span.End], Is.EqualTo("1 + 2"));
        Assert.That(mark.Label.Parts[0].Text, Is.EqualTo("a\""));
    }

    [TestCase("\"{((((1))))}\"")]
    [TestCase("\"{1 + 1 + 1}\"")]
    public void Nested_and_chained_interpolations_parse(string label) =>
        Assert.That(ScriptParser.Parse($"process p {{ }}\nrun p {{ mark {label} }}").Diagnostics, Is.Empty);

    [Test]
    public void Hostile_interpolations_are_diagnostics_not_crashes()
    {
        var deep = "\"{" + new string('(', 10_000) + "1" + new string(')', 10_000) + "}\"";
        var chain = "\"{" + string.Join("+", Enumerable.Repeat("1", 100_000)) + "}\"";
        foreach (var label in new[] { deep, chain })
            Assert.That(ScriptParser.Parse($"process p {{ }}\nrun p {{ mark {label} }}").Diagnostics.Select(d => d.Code), Is.EqualTo(new[] { "MS0002" }));
    }
}
