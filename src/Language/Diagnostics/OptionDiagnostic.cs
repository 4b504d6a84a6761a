using System.Text;

namespace MemScript.Language.Diagnostics;

/// <summary>
/// A problem in a command-line option's text (<c>--set ws=4Q</c>) rather than in the file: the option,
/// its argument, and a diagnostic whose span is an offset into that argument.
/// </summary>
public sealed record OptionDiagnostic(string Option, string Argument, Diagnostic Diagnostic)
{
    /// <summary>Printed like a file's diagnostic, with the option as its source line and a caret under the span.</summary>
    public string Format()
    {
        var severity = Diagnostic.IsError ? "error" : "warning";
        var line = $"{Option} {Argument}";
        var start = Option.Length + 1 + Math.Clamp(Diagnostic.Span.Start, 0, Argument.Length);
        var width = Math.Max(1, Math.Min(Diagnostic.Span.End, Argument.Length) - Math.Clamp(Diagnostic.Span.Start, 0, Argument.Length));
        return new StringBuilder()
            .Append(Errors.Quote(line, 200)).Append(": ").Append(severity).Append(' ').Append(Diagnostic.Code).Append(": ").Append(Diagnostic.Message).Append('\n')
            .Append("    ").Append(Errors.Quote(line, 200)).Append('\n')
            .Append("    ").Append(new string(' ', Math.Min(start, 200))).Append('^').Append(new string('~', Math.Min(width - 1, 200))).Append('\n')
            .ToString();
    }
}
