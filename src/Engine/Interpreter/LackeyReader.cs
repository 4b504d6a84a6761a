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
    private bool _interrupted;

    private LackeyReader(FileStream stream, string displayName, CancellationToken cancel) =>
        (_stream, _displayName, _cancel, _seekable) = (stream, displayName, cancel, stream.CanSeek);

    // A file on disk is read directly; a pipe (a FIFO, a process substitution) may wait for its writer
    // without end, so its reads are waited on in a way that Ctrl-C ends.
    private readonly bool _seekable;

    /// <summary>Opens a trace; <paramref name="displayName"/> is how errors name it.</summary>
    public static LackeyReader Open(string path, string displayName, CancellationToken cancel = default)
    {
        if (Directory.Exists(path)) throw new TraceFormatException($"{displayName}: this is a directory; replay names a lackey trace file");
        if (!File.Exists(path)) throw new TraceFormatException($"{displayName}: file not found (a relative path starts from the scenario's directory)");
        // A FIFO blocks in open() until a writer comes, forever if none does: it is opened on another
        // thread, so that Ctrl-C still stops the run (the abandoned open ends with the process).
        var opening = Task.Run(() => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan));
        try
        {
            opening.Wait(cancel);
            return new LackeyReader(opening.Result, displayName, cancel);
        }
        catch (OperationCanceledException)
        {
            opening.ContinueWith(t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
        catch (AggregateException e) when (e.InnerException is UnauthorizedAccessException)
        {
            throw new TraceFormatException($"{displayName}: permission denied: this user may not read the trace");
        }
        catch (AggregateException e) when (e.InnerException is IOException io)
        {
            throw new TraceFormatException($"{displayName}: cannot read the trace: {io.Message}");
        }
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
        if (_interrupted) _cancel.ThrowIfCancellationRequested();
        if (_done) return 0;
        var filled = 0;
        // A modify line gives two accesses: stop while there is room for it.
        while (filled <= addresses.Length - 2)
        {
            var rest = _buffer.AsSpan(_start, _end - _start);
            if (Canonical(rest, out var canonicalKind, out var canonicalAddress) is var length and > 0)
            {
                _start += length;
                _lineNumber++;
                addresses[filled] = canonicalAddress;
                if (canonicalKind == (byte)'M')
                {
                    kinds[filled] = AccessKind.Read;
                    addresses[filled + 1] = canonicalAddress;
                    kinds[filled + 1] = AccessKind.Write;
                    filled += 2;
                }
                else
                {
                    kinds[filled++] = KindOf(canonicalKind);
                }
                continue;
            }
            var newline = rest.IndexOf((byte)'\n');
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
                catch (OperationCanceledException) when (filled > 0)
                {
                    // Ctrl-C while a pipe waited: the accesses already read run first, as with an error.
                    _interrupted = true;
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
                // The file and line locate the error; the line itself is not quoted, since a replay path may name
                // any file (a key, /etc/passwd) and the message reaches reports that are shared.
                _pending = new TraceFormatException($"{_displayName}:{_lineNumber}: not a lackey line (expected 'I  ADDR,SIZE' or ' L|S|M ADDR,SIZE')");
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
        int read;
        try
        {
            if (_seekable)
            {
                read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            }
            else
            {
                var reading = _stream.ReadAsync(_buffer, _end, _buffer.Length - _end, CancellationToken.None);
                reading.Wait(_cancel);
                read = reading.Result;
            }
        }
        catch (AggregateException e) when (e.InnerException is IOException io)
        {
            throw new TraceFormatException($"{_displayName}:{_lineNumber + 1}: cannot read the trace: {io.Message}");
        }
        catch (IOException e)
        {
            // The engine reports trace errors at the replay statement; any other exception would end the process.
            throw new TraceFormatException($"{_displayName}:{_lineNumber + 1}: cannot read the trace: {e.Message}");
        }
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
        if (kind == (byte)'M')
        {
            kinds[0] = AccessKind.Read;
            addresses[1] = address;
            kinds[1] = AccessKind.Write;
            return 2;
        }
        kinds[0] = KindOf(kind);
        return 1;
    }

    private static AccessKind KindOf(byte kind) => kind switch { (byte)'I' => AccessKind.Exec, (byte)'L' => AccessKind.Read, _ => AccessKind.Write };

    /// <summary>
    /// The length, newline included, of the line at the start of <paramref name="text"/> when it is in
    /// the form valgrind writes (nothing after the size but the newline), with its kind and address; 0
    /// for anything else, which <see cref="Line"/> then reads (carriage returns, trailing blanks,
    /// headers, errors, a last line without a newline). Nearly every line of a trace is in this form,
    /// and it is read in one pass, without a search for the newline first.
    /// </summary>
    private static int Canonical(ReadOnlySpan<byte> text, out byte kind, out ulong address)
    {
        var end = Access(text, out kind, out address);
        return end > 0 && end < text.Length && text[end] == (byte)'\n' ? end + 1 : 0;
    }

    private static bool TryParse(ReadOnlySpan<byte> line, out byte kind, out ulong address)
    {
        var end = Access(line, out kind, out address);
        return end > 0 && line[end..].IndexOfAnyExcept((byte)' ', (byte)'\t') < 0;
    }

    // The value of each byte as a hexadecimal digit, or -1.
    private static readonly sbyte[] HexDigit = Enumerable.Range(0, 256)
        .Select(c => (sbyte)(c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'f' ? c - 'a' + 10 : c is >= 'A' and <= 'F' ? c - 'A' + 10 : -1))
        .ToArray();

    /// <summary>
    /// Where the access at the start of <paramref name="text"/> ends (<c>I  ADDR,SIZE</c> or
    /// <c> K ADDR,SIZE</c>: up to 16 hexadecimal digits, up to 9 decimal ones), or 0 when there is none.
    /// </summary>
    private static int Access(ReadOnlySpan<byte> text, out byte kind, out ulong address)
    {
        kind = 0;
        address = 0;
        if (text.Length < 6 || text[2] != (byte)' ') return 0;
        if (text[0] == (byte)'I' && text[1] == (byte)' ') kind = (byte)'I';
        else if (text[0] == (byte)' ' && text[1] is (byte)'L' or (byte)'S' or (byte)'M') kind = text[1];
        else return 0;
        var i = 3;
        while (i < text.Length && text[i] == (byte)' ') i++;
        var first = i;
        var digits = HexDigit;
        for (; i < text.Length && digits[text[i]] is var d and >= 0; i++) address = (address << 4) | (byte)d;
        if (i == first || i - first > 16 || i >= text.Length || text[i] != (byte)',') return 0;
        var size = ++i;
        while (i < text.Length && (uint)(text[i] - '0') <= 9) i++;
        return i == size || i - size > 9 ? 0 : i;
    }
}
