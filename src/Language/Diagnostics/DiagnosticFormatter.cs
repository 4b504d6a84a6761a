using System.Globalization;
using System.Text;
using MemScript.Language.Syntax;

namespace MemScript.Language.Diagnostics;

/// <summary>Prints diagnostics as <c>file:line:col: error MSxxxx: message</c>, the source line and a caret under the span.</summary>
public static class DiagnosticFormatter
{
    private const int MaxShown = 100;

    /// <summary>The first line alone, <c>file:line:col: error MSxxxx: message</c>, without its line break.</summary>
    public static string Headline(SourceText source, Diagnostic diagnostic)
    {
        var (line, column) = source.GetLineColumn(diagnostic.Span.Start);
        var severity = diagnostic.Severity == Severity.Error ? "error" : "warning";
        // The path and the message carry user text (labels, replay paths): it must not act on the terminal.
        return $"{Escape(source.Path)}:{line}:{column}: {severity} {diagnostic.Code}: {Escape(diagnostic.Message)}";
    }

    public static string Format(SourceText source, Diagnostic diagnostic)
    {
        var start = Math.Clamp(diagnostic.Span.Start, 0, source.Text.Length);
        var (line, _) = source.GetLineColumn(start);
        var sb = new StringBuilder();
        sb.Append(Headline(source, diagnostic)).Append('\n');

        // The line as text elements (what a reader sees as characters: an emoji, a letter and its
        // accents), so that neither the window nor the caret splits one.
        var text = source.GetLine(line);
        var lineStart = source.LineStart(line);
        var elements = Elements(text);
        var count = elements.Length - 1;
        var caret = ElementAt(elements, start - lineStart);
        var end = ElementAt(elements, Math.Min(diagnostic.Span.End - lineStart, text.Length) - 1) + 1;
        var width = Math.Max(1, end - caret);

        // A very long line is shown as a window around the span, so the caret stays on screen.
        var (from, shown, prefix, suffix) = (0, count, "", "");
        if (count > MaxShown)
        {
            from = Math.Max(0, Math.Min(caret - MaxShown / 2, count - MaxShown));
            shown = MaxShown;
            prefix = from > 0 ? "..." : "";
            suffix = from + MaxShown < count ? "..." : "";
            width = Math.Min(width, prefix.Length + shown + suffix.Length - (caret - from + prefix.Length));
        }
        var window = text[elements[from]..elements[from + shown]];
        sb.Append("    ").Append(prefix).Append(Printable(window)).Append(suffix).Append('\n');

        // The caret line repeats the source line's tabs, so the caret stays under the token in any tab
        // width, and a wide character (CJK, most emoji) takes two cells, as a terminal draws it.
        var pad = new StringBuilder(new string(' ', prefix.Length));
        for (var e = from; e < caret && e < from + shown; e++)
        {
            var element = text[elements[e]..elements[e + 1]];
            pad.Append(element == "\t" ? "\t" : new string(' ', Cells(element)));
        }
        var underline = 0;
        for (var e = caret; e < caret + width; e++) underline += e < count ? Math.Max(1, text[elements[e]] == '\t' ? 1 : Cells(text[elements[e]..elements[e + 1]])) : 1;
        sb.Append("    ").Append(pad).Append('^').Append(new string('~', Math.Max(0, underline - 1))).Append('\n');
        return sb.ToString();
    }

    /// <summary>Where each text element of <paramref name="text"/> starts, then the text's length.</summary>
    private static int[] Elements(string text)
    {
        var starts = new List<int>(text.Length + 1);
        for (var i = 0; i < text.Length; i += Math.Max(1, StringInfo.GetNextTextElementLength(text, i))) starts.Add(i);
        starts.Add(text.Length);
        return [.. starts];
    }

    /// <summary>The index of the element holding the UTF-16 <paramref name="index"/>; the element count at or past the end.</summary>
    private static int ElementAt(int[] elements, int index)
    {
        if (index < 0) return 0;
        var found = Array.BinarySearch(elements, index);
        return found >= 0 ? Math.Min(found, elements.Length - 1) : ~found - 1;
    }

    /// <summary>
    /// Terminal cells of one text element: 2 for East Asian wide and fullwidth characters and emoji, 0
    /// for a lone combining or format character, else 1. A table of the main ranges, not all of
    /// Unicode's: it only places a caret, and this assembly takes no dependency for it.
    /// </summary>
    private static int Cells(string element)
    {
        // A lone surrogate (a file cut inside a character) decodes as U+FFFD, one cell, like the
        // replacement the line shows for it; never an exception.
        Rune.DecodeFromUtf16(element, out var rune, out _);
        if (element.Contains('\uFE0F')) return 2; // emoji presentation
        var category = Rune.GetUnicodeCategory(rune);
        if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format) return 0;
        return rune.Value switch
        {
            >= 0x1100 and <= 0x115F or >= 0x2E80 and <= 0x303E or >= 0x3041 and <= 0x33FF or >= 0x3400 and <= 0x4DBF
                or >= 0x4E00 and <= 0x9FFF or >= 0xA000 and <= 0xA4CF or >= 0xAC00 and <= 0xD7A3 or >= 0xF900 and <= 0xFAFF
                or >= 0xFE30 and <= 0xFE4F or >= 0xFF00 and <= 0xFF60 or >= 0xFFE0 and <= 0xFFE6
                or >= 0x1F300 and <= 0x1F64F or >= 0x1F680 and <= 0x1F6FF or >= 0x1F900 and <= 0x1F9FF or >= 0x1FA70 and <= 0x1FAFF
                or >= 0x20000 and <= 0x3FFFD => 2,
            _ => 1,
        };
    }

    public static string FormatAll(SourceText source, IEnumerable<Diagnostic> diagnostics)
    {
        var sb = new StringBuilder();
        foreach (var d in diagnostics) sb.Append(Format(source, d));
        return sb.ToString();
    }

    // In the quoted source line each unsafe character becomes one '?', so that the caret below stays in place.
    private static string Printable(string line)
    {
        var chars = line.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
            if (chars[i] != '\t' && IsUnsafe(chars[i])) chars[i] = '?';
        return new string(chars);
    }

    /// <summary>
    /// Whether a character printed as it is could act on a terminal or break a line: C0 and C1 controls
    /// and DEL (ESC starts escape sequences, BEL rings, CR rewrites the line, U+0085 is a line break),
    /// the line and paragraph separators U+2028 and U+2029, and the bidirectional marks and overrides
    /// that reorder what is shown.
    /// </summary>
    public static bool IsUnsafe(char c) =>
        char.IsControl(c) || c is '\u2028' or '\u2029' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');

    /// <summary>
    /// User text made safe to print: each unsafe character (<see cref="IsUnsafe"/>) is written as an
    /// escape, <c>\x1B</c> below U+0100 and <c>\u2028</c> above; tabs too unless <paramref name="keepTabs"/>.
    /// </summary>
    public static string Escape(string text, bool keepTabs = false)
    {
        var first = 0;
        while (first < text.Length && !(IsUnsafe(text[first]) && !(keepTabs && text[first] == '\t'))) first++;
        if (first == text.Length) return text;
        var sb = new StringBuilder(text.Length + 8).Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (!IsUnsafe(c) || (keepTabs && c == '\t')) sb.Append(c);
            else if (c < '\u0100') sb.Append("\\x").Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            else sb.Append("\\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
