using System.Text;

namespace MemScript.Cli;

/// <summary>A write to a console stream failed; says which stream, so the message can name it.</summary>
public sealed class OutputFailedException(string stream, Exception inner) : IOException($"cannot write to {stream}: {FatalErrors.WriteFailure(inner)}", inner)
{
    public string Stream { get; } = stream;
}

/// <summary>
/// A console stream that names itself when a write to it fails, so that "No space left on device"
/// says whether the report or the diagnostics were lost.
/// </summary>
public sealed class NamedOutput(TextWriter inner, string name) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;
    public override IFormatProvider FormatProvider => inner.FormatProvider;

    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override string NewLine
    {
        get => inner.NewLine;
        set => inner.NewLine = value;
    }

    public override void Write(char value)
    {
        try { inner.Write(value); }
        catch (Exception e) when (FatalErrors.IsWriteFailure(e)) { throw new OutputFailedException(name, e); }
    }

    public override void Write(string? value)
    {
        try { inner.Write(value); }
        catch (Exception e) when (FatalErrors.IsWriteFailure(e)) { throw new OutputFailedException(name, e); }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        try { inner.Write(buffer, index, count); }
        catch (Exception e) when (FatalErrors.IsWriteFailure(e)) { throw new OutputFailedException(name, e); }
    }

    public override void Write(ReadOnlySpan<char> buffer)
    {
        try { inner.Write(buffer); }
        catch (Exception e) when (FatalErrors.IsWriteFailure(e)) { throw new OutputFailedException(name, e); }
    }

    public override void WriteLine(string? value)
    {
        try { inner.WriteLine(value); }
        catch (Exception e) when (FatalErrors.IsWriteFailure(e)) { throw new OutputFailedException(name, e); }
    }

    public override void Flush()
    {
        try { inner.Flush(); }
        catch (Exception e) when (FatalErrors.IsWriteFailure(e)) { throw new OutputFailedException(name, e); }
    }
}
