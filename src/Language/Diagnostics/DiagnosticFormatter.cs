using System.Text;
using MemScript.Language.Syntax;

namespace MemScript.Language.Diagnostics;

/// <summary>Prints diagnostics as <c>file:line:col: error MSxxxx: message</c>, the source line and a caret under the span.</summary>
public static class DiagnosticFormatter
{
    private const int MaxShown = 100;

    public static string Format(SourceText source, Diagnostic diagnostic)
    {
        var (line, column) = source.GetLineColumn(diagnostic.Span.Start);
        var severity = diagnostic.Severity == Severity.Error ? "error" : "warning";
        var sb = new StringBuilder();
        sb.Append(source.Path).Append(':').Append(line).Append(':').Append(column).Append(": ")
          .Append(severity).Append(' ').Append(diagnostic.Code).Append(": ").Append(diagnostic.Message).Append('\n');

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

    // Control characters other than tab would garble a terminal; show them as '?'.
    private static string Printable(string line)
    {
        var chars = line.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
            if (char.IsControl(chars[i]) && chars[i] != '\t') chars[i] = '?';
        return new string(chars);
    }
}
