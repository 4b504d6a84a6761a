using MemScript.Language.Diagnostics;

namespace MemScript.Cli;

/// <summary>
/// Writes text that holds user text (the event trace quotes mark labels) with every control character
/// made visible as an escape; only the line feed passes, so lines end in "\n" on every system.
/// </summary>
public sealed class PrintableWriter(TextWriter inner) : TextWriter
{
    public override System.Text.Encoding Encoding => inner.Encoding;
    public override IFormatProvider FormatProvider => inner.FormatProvider;

    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override string NewLine
    {
        get => "\n";
        set { }
    }

    public override void Write(char value)
    {
        if (value == '\n') inner.Write('\n');
        else inner.Write(DiagnosticFormatter.Escape(value.ToString()));
    }

    public override void Write(string? value)
    {
        if (value is null) return;
        var lines = value.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (i > 0) inner.Write('\n');
            inner.Write(DiagnosticFormatter.Escape(lines[i]));
        }
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void WriteLine() => inner.Write('\n');

    public override void WriteLine(string? value)
    {
        Write(value);
        inner.Write('\n');
    }

    public override void Flush() => inner.Flush();
}
