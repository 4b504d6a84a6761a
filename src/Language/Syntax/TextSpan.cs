namespace MemScript.Language.Syntax;

/// <summary>A half-open range of character offsets into a source file.</summary>
public readonly record struct TextSpan(int Start, int End)
{
    public int Length => End - Start;

    public static TextSpan Between(TextSpan first, TextSpan last) => new(first.Start, last.End);

    public bool Contains(TextSpan other) => other.Start >= Start && other.End <= End;

    public override string ToString() => $"[{Start}..{End})";
}
