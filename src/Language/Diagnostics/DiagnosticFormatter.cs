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
        var (line, column) = source.GetLineColumn(diagnostic.Span.Start);
        var sb = new StringBuilder();
        sb.Append(Headline(source, diagnostic)).Append('\n');

        var text = source.GetLine(line);
        var lineStart = diagnostic.Span.Start - (column - 1);
        var spanEndOnLine = Math.Min(diagnostic.Span.End, lineStart + text.Length);
        var width = Math.Max(1, spanEndOnLine - diagnostic.Span.Start);

        // A very long line is shown as a window around the span, so the caret stays on screen.
        var caretColumn = column - 1;
        if (text.Length > MaxShown)
        {
            var from = Math.Max(0, Math.Min(caretColumn - MaxShown / 2, text.Length - MaxShown));
            var prefix = from > 0 ? "..." : "";
            var suffix = from + MaxShown < text.Length ? "..." : "";
            text = prefix + text.Substring(from, Math.Min(MaxShown, text.Length - from)) + suffix;
            caretColumn = caretColumn - from + prefix.Length;
            width = Math.Min(width, text.Length - caretColumn);
        }

        // The caret line repeats the source line's tabs so the caret stays under the token in any tab width.
        sb.Append("    ").Append(Printable(text)).Append('\n');
        var pad = new StringBuilder();
        for (var i = 0; i < caretColumn && i < text.Length; i++) pad.Append(text[i] == '\t' ? '\t' : ' ');
        sb.Append("    ").Append(pad).Append('^').Append(new string('~', Math.Max(0, width - 1))).Append('\n');
        return sb.ToString();
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
