namespace MemScript.Language.Syntax;

/// <summary>A source file's path and text, with line starts computed once for printing positions.</summary>
public sealed class SourceText
{
    private int[]? _lineStarts;

    public SourceText(string path, string text)
    {
        Path = path;
        Text = text;
    }

    public string Path { get; }
    public string Text { get; }

    public static SourceText FromFile(string path) => new(path, File.ReadAllText(path));

    /// <summary>One-based line and column of an offset; a tab counts as one column, as editors report it.</summary>
    public (int Line, int Column) GetLineColumn(int offset)
    {
        var starts = LineStarts();
        offset = Math.Clamp(offset, 0, Text.Length);
        var index = Array.BinarySearch(starts, offset);
        if (index < 0) index = ~index - 1;
        return (index + 1, offset - starts[index] + 1);
    }

    /// <summary>The text of a one-based line, without its line break.</summary>
    public string GetLine(int line)
    {
        var starts = LineStarts();
        var start = starts[line - 1];
        var end = line < starts.Length ? starts[line] : Text.Length;
        while (end > start && (Text[end - 1] == '\n' || Text[end - 1] == '\r')) end--;
        return Text[start..end];
    }

    private int[] LineStarts()
    {
        if (_lineStarts is not null) return _lineStarts;
        var starts = new List<int> { 0 };
        for (var i = 0; i < Text.Length; i++)
            if (Text[i] == '\n') starts.Add(i + 1);
        return _lineStarts = starts.ToArray();
    }
}
