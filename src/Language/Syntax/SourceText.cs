using System.Globalization;

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

    /// <summary>
    /// One-based line and column of an offset. Lines end at "\n", "\r\n" or a lone "\r" (old Mac files),
    /// and a column counts text elements, what a reader sees as one character: an emoji, or a letter with
    /// its accents, is one column, as is a tab (as editors report it).
    /// </summary>
    public (int Line, int Column) GetLineColumn(int offset)
    {
        var starts = LineStarts();
        offset = Math.Clamp(offset, 0, Text.Length);
        var index = Array.BinarySearch(starts, offset);
        if (index < 0) index = ~index - 1;
        return (index + 1, Column(starts[index], offset));
    }

    /// <summary>The offset where a one-based line starts.</summary>
    public int LineStart(int line) => LineStarts()[line - 1];

    /// <summary>The text of a one-based line, without its line break.</summary>
    public string GetLine(int line)
    {
        var starts = LineStarts();
        var start = starts[line - 1];
        var end = line < starts.Length ? starts[line] : Text.Length;
        while (end > start && (Text[end - 1] == '\n' || Text[end - 1] == '\r')) end--;
        return Text[start..end];
    }

    /// <summary>The column of <paramref name="offset"/> on the line starting at <paramref name="start"/>; inside a text element, that element's.</summary>
    private int Column(int start, int offset)
    {
        // ASCII is one element per character, unless an accent follows the last one (checked with the
        // character at the offset): the common case needs no segmentation.
        if (System.Text.Ascii.IsValid(Text.AsSpan(start, Math.Min(offset + 1, Text.Length) - start))) return offset - start + 1;
        var column = 1;
        for (var i = start; i < offset; column++)
        {
            var next = i + Math.Max(1, StringInfo.GetNextTextElementLength(Text, i));
            if (next > offset) break;
            i = next;
        }
        return column;
    }

    private int[] LineStarts()
    {
        if (_lineStarts is not null) return _lineStarts;
        var starts = new List<int> { 0 };
        for (var i = 0; i < Text.Length; i++)
        {
            if (Text[i] == '\n') starts.Add(i + 1);
            else if (Text[i] == '\r' && (i + 1 == Text.Length || Text[i + 1] != '\n')) starts.Add(i + 1);
        }
        return _lineStarts = starts.ToArray();
    }
}
