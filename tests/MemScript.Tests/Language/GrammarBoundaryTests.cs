using FsCheck;
using FsCheck.Fluent;
using MemScript.Language.Parsing;

namespace MemScript.Tests.Language;

/// <summary>
/// No optional part of a form can swallow the next line (issue 17's grammar trap): for every form of
/// every declaration and statement, with and without its optional parts, any other valid line after it
/// parses as exactly two items, each the one it parses as alone.
/// </summary>
public class GrammarBoundaryTests
{
    public static readonly string[] Declarations =
    [
        "profile classic", "profile modern", "mmu native", "mmu shadow", "mmu ept", "guest paging 4-level", "host paging 5-level",
        "tlb 64", "tlb 64 ways 4", "tlb1g 16", "tlb1g 16 ways 4", "tlb1g off", "pwc on", "pwc on 16", "pwc on n", "pwc on (shadow)", "pwc off",
        "vpid on", "vpid off", "pcid on", "shadow unsync on", "shadow unsync off", "shadow prefetch 8", "shadow flood n", "eptad on", "eptad off",
        "dirty-track pml", "dirty-track wp", "dirty-track free", "cost vm-exit 1500", "clock 3GHz", "clock 2.4GHz",
        "slot 0 gpa 0x0 size 1M hva 0x7f0000000000", "slot 1 gpa 1M size 1M hva base backing 2M readonly dirty-log prealloc",
        "slot 2 gpa g size s hva h prealloc", "process p { }", "process p { map 0x1000 to 0x1000 rw demand all r }",
        "let n = 4", "let n = base + 1 * 2", "run p { }", "run p { read 0x1000 }",
    ];

    public static readonly string[] Statements =
    [
        "read 0x1000", "read x as kernel", "write x + 8", "exec x", "sweep read x size 4K stride 64", "sweep write x size s stride n times 2 as kernel",
        "random read 10 in x size 4K", "random exec n in x size s align 8 seed 3 as kernel", "repeat 2 { read x }", "repeat n as i { }",
        "switch p", "invlpg x", "flush tlb", "map x to 0x1000 rw", "map x size 8K page 4K to y rw kernel", "demand x size 4K rw",
        "demand x size s page 2M rwx kernel", "demand all rw", "unmap x", "unmap x size 8K", "protect x r", "protect x size 8K rw",
        "replay \"t.lackey\"", "replay \"t.lackey\" format lackey", "mark \"m\"", "expect accesses == 1", "expect accesses >= n since \"m\" in ept shadow",
        "let y = 4", "collect dirty",
    ];

    public static readonly string[] Mappings =
    [
        "map x to 0x1000 rw", "map x size 8K page 2M to y rwx kernel", "demand x size 4K rw", "demand all r kernel", "unmap x", "unmap x size 8K",
        "protect x r", "protect x size s rw",
    ];

    private static readonly string[] Separators = ["\n", " ", "\n\n  ", " # a comment\n", "\t"];

    /// <summary>A script of one or two top-level items; a statement or mapping is wrapped in a run or process block.</summary>
    private static (string Text, Func<Script, IReadOnlyList<string>> Lines) Wrap(string place, string body) => place switch
    {
        "top" => (body, s => s.Items.Select(i => i.Describe() ?? string.Join(";", i.Statements.Select(x => x.Describe()))).ToList()),
        "run" => ($"run p {{\n{body}\n}}", s => ((RunBlock)s.Items.Single()).Body.Select(x => x.Describe()).ToList()),
        _ => ($"process p {{\n{body}\n}}", s => ((ProcessDecl)s.Items.Single()).Mappings.Select(x => x.Describe()).ToList()),
    };

    private static IReadOnlyList<string>? Parse(string place, string body)
    {
        var (text, lines) = Wrap(place, body);
        var result = ScriptParser.Parse(text);
        return result.Script is null ? null : lines(result.Script);
    }

    public sealed record Pair(string Place, string First, string Second, string Separator)
    {
        public override string ToString() => $"{Place}: [{First}]{Separator.Replace("\n", "\\n", StringComparison.Ordinal)}[{Second}]";
    }

    public static class Pairs
    {
        public static Arbitrary<Pair> Arbitrary() =>
            (from place in Gen.Elements("top", "run", "process")
             let forms = place switch { "top" => Declarations, "run" => Statements, _ => Mappings }
             from first in Gen.Elements(forms)
             from second in Gen.Elements(forms)
             from separator in Gen.Elements(Separators)
             select new Pair(place, first, second, separator)).ToArbitrary();
    }

    [FsCheck.NUnit.Property(MaxTest = 3000, Arbitrary = [typeof(Pairs)], QuietOnSuccess = true)]
    public bool Any_valid_line_after_any_form_parses_as_two_items(Pair pair)
    {
        var alone1 = Parse(pair.Place, pair.First);
        var alone2 = Parse(pair.Place, pair.Second);
        var both = Parse(pair.Place, pair.First + pair.Separator + pair.Second);
        return alone1 is [_] && alone2 is [_] && both is [var a, var b] && a == alone1[0] && b == alone2[0];
    }

    [Test]
    public void The_forms_cover_every_leading_word_of_the_keyword_table()
    {
        var first = (string[] forms) => forms.Select(f => f.Split(' ')[0]).ToHashSet();
        Assert.Multiple(() =>
        {
            Assert.That(Keywords.Beginning(KeywordPlace.TopLevel), Is.SubsetOf(first(Declarations)));
            Assert.That(Keywords.Beginning(KeywordPlace.RunBlock), Is.SubsetOf(first(Statements)));
            Assert.That(Keywords.Beginning(KeywordPlace.ProcessBlock), Is.SubsetOf(first(Mappings)));
        });
    }

    [Test]
    public void Every_form_parses_alone()
    {
        foreach (var (place, forms) in new[] { ("top", Declarations), ("run", Statements), ("process", Mappings) })
            foreach (var form in forms)
                Assert.That(Parse(place, form), Has.Count.EqualTo(1), form);
    }

    [Test]
    public void The_issue_example_pwc_on_alone_then_a_slot()
    {
        var result = ScriptParser.Parse("pwc on\nslot 0 gpa 0x0 size 1M hva 0x7f0000000000\n");
        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(result.Script!.Items.Select(i => i.Describe()), Is.EqualTo(new[] { "pwc on", "slot 0 gpa 0x0 size 1M hva 0x7f0000000000" }));
    }

    [Test]
    public void A_name_that_is_not_a_leading_word_is_still_read_after_pwc_on()
    {
        var result = ScriptParser.Parse("let size = 16\npwc on size\npwc on (profile)");
        Assert.That(result.Script!.Items.Select(i => i.Describe()), Is.EqualTo(new[] { null, "pwc on entries size", "pwc on entries profile" }));
    }
}
