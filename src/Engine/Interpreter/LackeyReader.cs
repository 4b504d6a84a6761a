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
        // Lines are parsed from a byte buffer: no string per line, so replay runs at the speed of the disk.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var buffer = new byte[1 << 20];
        int start = 0, end = 0;
        long lineNumber = 0, count = 0;
        var eof = false;
        while (true)
        {
            var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (newline < 0)
            {
                if (eof)
                {
                    if (end > start) count += Line(buffer.AsSpan(start, end - start), ++lineNumber, displayName, access);
                    break;
                }
                if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                if (end == buffer.Length) throw new TraceFormatException($"{displayName}:{lineNumber + 1}: line longer than {buffer.Length} bytes");
                var read = stream.Read(buffer, end, buffer.Length - end);
                if (read == 0) eof = true;
                end += read;
                cancel.ThrowIfCancellationRequested();
                continue;
            }
            count += Line(buffer.AsSpan(start, newline), ++lineNumber, displayName, access);
            start += newline + 1;
        }
        if (count == 0) throw new TraceFormatException($"{displayName}: the trace holds no accesses");
        return count;
    }

    private static int Line(ReadOnlySpan<byte> line, long lineNumber, string displayName, Action<ulong, AccessKind> access)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        if (line.Length == 0 || line.StartsWith("=="u8) || line.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0) return 0;
        if (!TryParse(line, out var kind, out var address))
            throw new TraceFormatException($"{displayName}:{lineNumber}: not a lackey line: '{Shorten(System.Text.Encoding.UTF8.GetString(line))}' (expected 'I  ADDR,SIZE' or ' L|S|M ADDR,SIZE')");
        if (kind == 'M')
        {
            access(address, AccessKind.Read);
            access(address, AccessKind.Write);
            return 2;
        }
        access(address, kind switch { 'I' => AccessKind.Exec, 'L' => AccessKind.Read, _ => AccessKind.Write });
        return 1;
    }

    private static string Shorten(string line)
    {
        var printable = new string(line.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return printable.Length > 40 ? printable[..40] + "..." : printable;
    }

    internal static bool TryParse(ReadOnlySpan<byte> line, out char kind, out ulong address)
    {
        kind = '\0';
        address = 0;
        if (line.Length < 4) return false;
        if (line[0] == (byte)'I' && line[1] == (byte)' ' && line[2] == (byte)' ') kind = 'I';
        else if (line[0] == (byte)' ' && line[1] is (byte)'L' or (byte)'S' or (byte)'M' && line[2] == (byte)' ') kind = (char)line[1];
        else return false;
        var i = 3;
        while (i < line.Length && line[i] == (byte)' ') i++;
        var digits = 0;
        for (; i < line.Length && line[i] != (byte)','; i++, digits++)
        {
            var c = line[i];
            int d = c is >= (byte)'0' and <= (byte)'9' ? c - '0' : c is >= (byte)'a' and <= (byte)'f' ? c - 'a' + 10 : c is >= (byte)'A' and <= (byte)'F' ? c - 'A' + 10 : -1;
            if (d < 0 || digits >= 16) return false;
            address = (address << 4) | (uint)d;
        }
        if (digits == 0 || i >= line.Length) return false;
        var sizeDigits = 0;
        for (i++; i < line.Length && line[i] != (byte)' ' && line[i] != (byte)'\t'; i++, sizeDigits++)
            if (line[i] is < (byte)'0' or > (byte)'9' || sizeDigits >= 9) return false;
        for (; i < line.Length; i++)
            if (line[i] != (byte)' ' && line[i] != (byte)'\t') return false;
        return sizeDigits > 0;
    }
}
