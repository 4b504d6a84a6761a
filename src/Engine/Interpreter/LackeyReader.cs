using System.Globalization;
using MemScript.Language.Syntax;

namespace MemScript.Engine.Interpreter;

/// <summary>A malformed or unreadable trace file, with the file and line.</summary>
public sealed class TraceFormatException(string message) : Exception(message);

/// <summary>
/// Streams valgrind lackey traces (<c>--trace-mem=yes</c>) line by line, never holding the file:
/// <c>I  ADDR,SIZE</c> fetch, <c> L</c> load, <c> S</c> store, <c> M</c> modify (a load then a store).
/// </summary>
public static class LackeyReader
{
    /// <summary>Reads a trace, calling <paramref name="access"/> for each access in order.</summary>
    public static long Read(string path, string displayName, Action<ulong, AccessKind> access, CancellationToken cancel = default)
    {
        if (!File.Exists(path)) throw new TraceFormatException($"{displayName}: file not found");
        using var reader = new StreamReader(path, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16);
        long lineNumber = 0, count = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if ((lineNumber & 0xffff) == 0) cancel.ThrowIfCancellationRequested();
            if (line.Length == 0 || line.StartsWith("==", StringComparison.Ordinal) || string.IsNullOrWhiteSpace(line)) continue;
            if (!TryParse(line, out var kind, out var address))
                throw new TraceFormatException($"{displayName}:{lineNumber}: not a lackey line: '{Shorten(line)}' (expected 'I  ADDR,SIZE' or ' L|S|M ADDR,SIZE')");
            if (kind == 'M')
            {
                access(address, AccessKind.Read);
                access(address, AccessKind.Write);
                count += 2;
            }
            else
            {
                access(address, kind switch { 'I' => AccessKind.Exec, 'L' => AccessKind.Read, _ => AccessKind.Write });
                count++;
            }
        }
        if (count == 0) throw new TraceFormatException($"{displayName}: the trace holds no accesses");
        return count;
    }

    private static string Shorten(string line)
    {
        var printable = new string(line.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return printable.Length > 40 ? printable[..40] + "..." : printable;
    }

    internal static bool TryParse(ReadOnlySpan<char> line, out char kind, out ulong address)
    {
        kind = '\0';
        address = 0;
        if (line.Length < 4) return false;
        int rest;
        if (line[0] == 'I' && line[1] == ' ' && line[2] == ' ') { kind = 'I'; rest = 3; }
        else if (line[0] == ' ' && line[1] is 'L' or 'S' or 'M' && line[2] == ' ') { kind = line[1]; rest = 3; }
        else return false;
        var body = line[rest..].TrimStart(' ');
        var comma = body.IndexOf(',');
        if (comma <= 0 || comma > 16) return false;
        if (!ulong.TryParse(body[..comma], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out address)) return false;
        var size = body[(comma + 1)..].TrimEnd();
        return size.Length > 0 && uint.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out _);
    }
}
