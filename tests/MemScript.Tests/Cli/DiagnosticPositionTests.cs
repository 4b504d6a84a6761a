using MemScript.Language.Diagnostics;

namespace MemScript.Tests.Cli;

/// <summary>
/// Where a diagnostic points: lines end at \n, \r\n or a lone \r; a column is one text element (an emoji,
/// a letter with its accents); the caret sits under the token as a terminal draws the line.
/// </summary>
public class DiagnosticPositionTests
{
    [Test]
    public void Lines_end_at_lf_crlf_and_a_lone_cr()
    {
        var source = new SourceText("t", "a\rb\r\nc\nd");
        Assert.That(source.GetLineColumn(0), Is.EqualTo((1, 1)));
        Assert.That(source.GetLineColumn(2), Is.EqualTo((2, 1)));
        Assert.That(source.GetLineColumn(5), Is.EqualTo((3, 1)));
        Assert.That(source.GetLineColumn(7), Is.EqualTo((4, 1)));
        Assert.That(new[] { 1, 2, 3, 4 }.Select(source.GetLine), Is.EqualTo(new[] { "a", "b", "c", "d" }));
    }

    [TestCase("\U0001F642x", 2, 2)]
    [TestCase("e\u0301x", 2, 2)]
    [TestCase("e\u0301x", 1, 1)]
    [TestCase("\u6f22\u5b57 x", 3, 4)]
    [TestCase("\tx", 1, 2)]
    public void A_column_is_a_text_element(string line, int offset, int column)
    {
        Assert.That(new SourceText("t", line).GetLineColumn(offset), Is.EqualTo((1, column)));
    }

    private static string[] Format(string text, int start, int end) =>
        DiagnosticFormatter.Format(new SourceText("t", text), new Diagnostic("MS0001", Severity.Error, "m", new TextSpan(start, end))).Split('\n');

    [Test]
    public void The_caret_counts_wide_characters_as_two_cells()
    {
        var lines = Format("\U0001F642x", 2, 3);
        Assert.That(lines[0], Is.EqualTo("t:1:2: error MS0001: m"));
        Assert.That(lines[2], Is.EqualTo("      ^"));
        lines = Format("\u6f22\u5b57 x", 3, 4);
        Assert.That(lines[2], Is.EqualTo("         ^"));
        lines = Format("e\u0301 x", 3, 4);
        Assert.That(lines[2], Is.EqualTo("      ^"), "a letter and its combining accent are one cell");
    }

    [Test]
    public void An_emoji_is_underlined_whole()
    {
        var lines = Format("\U0001F642x", 0, 1);
        Assert.That(lines[0], Is.EqualTo("t:1:1: error MS0001: m"));
        Assert.That(lines[2], Is.EqualTo("    ^~"));
    }

    [Test]
    public void A_long_line_is_windowed_between_characters_never_inside_one()
    {
        var text = string.Concat(Enumerable.Repeat("\U0001F642", 150)) + "x";
        var lines = Format(text, 300, 301);
        Assert.That(lines[0], Is.EqualTo("t:1:151: error MS0001: m"));
        var shown = lines[1];
        for (var i = 0; i < shown.Length; i++)
            if (char.IsHighSurrogate(shown[i])) Assert.That(i + 1 < shown.Length && char.IsLowSurrogate(shown[++i]), Is.True, "a split emoji");
            else Assert.That(char.IsLowSurrogate(shown[i]), Is.False, "a split emoji");
        Assert.That(shown, Does.StartWith("    ...\U0001F642").And.EndWith("x"));
        // 3 for "...", then 99 emoji of two cells each before the x.
        Assert.That(lines[2], Is.EqualTo("    " + new string(' ', 3 + 99 * 2) + "^"));
    }
}
