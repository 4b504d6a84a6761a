using System.Globalization;
using MemScript.Language.Syntax;

namespace MemScript.Engine.Interpreter;

/// <summary>A malformed or unreadable trace file, with the file and line.</summary>
public sealed class TraceFormatException(string message) : Exception(message);

/// <summary>
/// Streams valgrind lackey traces (<c>--trace-mem=yes</c>) line by line, never holding the file:
/// <c>I  ADDR,SIZE</c> fetch, <c> L</c> load, <c> S</c> store, <c> M</c> modify (a load then a store).
/// The reader hands out accesses in batches, so that the engine's replay loop runs them without a
/// call per access.
/// </summary>
public sealed class LackeyReader : IDisposable
{
    private readonly FileStream _stream;
    private readonly string _displayName;
    private readonly CancellationToken _cancel;
    // Lines are parsed from a byte buffer: no string per line, so replay runs at the speed of the disk.
    private readonly byte[] _buffer = new byte[1 << 20];
    private int _start, _end;
    private bool _eof, _done;
    private long _lineNumber, _count;
    // A malformed line found while filling a batch: the accesses before it run first, as they would
    // one by one, and the error is thrown by the next call.
    private TraceFormatException? _pending;

    private LackeyReader(FileStream stream, string displayName, CancellationToken cancel) =>
        (_stream, _displayName, _cancel) = (stream, displayName, cancel);

    /// <summary>Opens a trace; <paramref name="displayName"/> is how errors name it.</summary>
    public static LackeyReader Open(string path, string displayName, CancellationToken cancel = default)
    {
        if (!File.Exists(path)) throw new TraceFormatException($"{displayName}: file not found");
        return new LackeyReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan), displayName, cancel);
    }

    public void Dispose() => _stream.Dispose();

    /// <summary>
    /// Fills the spans with the next accesses in order (at least two places); returns how many, 0 at
    /// the end of the trace. Throws <see cref="TraceFormatException"/> for a malformed line, after
    /// returning the accesses before it, and at the end of a trace that held no access.
    /// </summary>
    public int Read(Span<ulong> addresses, Span<AccessKind> kinds)
    {
        if (_pending is { } error) throw error;
        if (_done) return 0;
        var filled = 0;
        // A modify line gives two accesses: stop while there is room for it.
        while (filled <= addresses.Length - 2)
        {
            var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            ReadOnlySpan<byte> line;
            if (newline >= 0)
            {
                line = _buffer.AsSpan(_start, newline);
                _start += newline + 1;
            }
            else if (!_eof)
            {
                try
                {
                    Refill();
                }
                catch (TraceFormatException e)
                {
                    _pending = e;
                    break;
                }
                continue;
            }
            else if (_end > _start)
            {
                line = _buffer.AsSpan(_start, _end - _start);
                _start = _end;
            }
            else
            {
                _done = true;
                if (_count + filled == 0) _pending = new TraceFormatException($"{_displayName}: the trace holds no accesses");
                break;
            }
            _lineNumber++;
            var added = Line(line, addresses[filled..], kinds[filled..]);
            if (added < 0)
            {
                _pending = new TraceFormatException($"{_displayName}:{_lineNumber}: not a lackey line: '{Shorten(System.Text.Encoding.UTF8.GetString(line))}' (expected 'I  ADDR,SIZE' or ' L|S|M ADDR,SIZE')");
                break;
            }
            filled += added;
        }
        if (filled == 0 && _pending is { } found) throw found;
        _count += filled;
        return filled;
    }

    private void Refill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) throw new TraceFormatException($"{_displayName}:{_lineNumber + 1}: line longer than {_buffer.Length} bytes");
        var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0) _eof = true;
        _end += read;
        _cancel.ThrowIfCancellationRequested();
    }

    /// <summary>The accesses of one line (0 for a blank or header line), or -1 when it is not a lackey line.</summary>
    private static int Line(ReadOnlySpan<byte> line, Span<ulong> addresses, Span<AccessKind> kinds)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        if (!TryParse(line, out var kind, out var address))
        {
            // Only a line that is not an access pays for the tests of the lines that carry none.
            return line.Length == 0 || line.StartsWith("=="u8) || line.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0 ? 0 : -1;
        }
        addresses[0] = address;
        if (kind == 'M')
        {
            kinds[0] = AccessKind.Read;
            addresses[1] = address;
            kinds[1] = AccessKind.Write;
            return 2;
        }
        kinds[0] = kind switch { 'I' => AccessKind.Exec, 'L' => AccessKind.Read, _ => AccessKind.Write };
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
