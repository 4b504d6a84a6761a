using System.Collections.Immutable;
using MemScript.Engine.Accounting;
using MemScript.Engine.Tracing;
using MemScript.Language;
using MemScript.Language.Checking;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MemScript.Engine.Interpreter;

/// <summary>
/// Runs a checked scenario's timeline against a fresh <see cref="Machine"/>. The engine throws
/// location-free errors; the interpreter attaches the span of the statement that was running.
/// </summary>
public sealed class ScriptInterpreter
{
    private readonly CheckedScript _script;
    private readonly RunOptions _options;
    private readonly Machine _machine;
    private readonly ListTraceSink? _sink;
    private readonly ILogger _logger;
    private readonly List<(string Name, ulong Value)> _names = new();
    private readonly ImmutableArray<MarkRecord>.Builder _marks = ImmutableArray.CreateBuilder<MarkRecord>();
    private readonly ImmutableArray<ExpectRecord>.Builder _expects = ImmutableArray.CreateBuilder<ExpectRecord>();
    private long _nextProgress;

    private ScriptInterpreter(CheckedScript script, RunOptions options, ILogger? logger)
    {
        _script = script;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        var mode = options.Mode ?? script.Machine.Mode;
        var machineOptions = MachineOptions.From(script.Machine, mode) with { MaxAccesses = options.MaxAccesses };
        if (options.MaxTablePages is { } tables) machineOptions = machineOptions with { MaxTablePages = tables };
        if (options.MaxHostPages is { } hosts) machineOptions = machineOptions with { MaxHostPages = hosts };
        _sink = options.Trace ? new ListTraceSink(options.TraceLimit) : null;
        _machine = new Machine(machineOptions, script, _sink, _logger);
    }

    public Machine Machine => _machine;

    /// <summary>Runs the whole timeline in one mode on a fresh machine.</summary>
    public static RunResult Run(CheckedScript script, RunOptions options, ILogger? logger = null) =>
        new ScriptInterpreter(script, options, logger).Execute();

    /// <summary>Runs until <paramref name="stopAfter"/> accesses (or the end), leaving the machine for inspection.</summary>
    public static (RunResult Result, Machine Machine) RunAndKeep(CheckedScript script, RunOptions options, long? stopAfter = null)
    {
        var interpreter = new ScriptInterpreter(script, stopAfter is { } n ? options with { MaxAccesses = n } : options, null);
        var result = interpreter.Execute(stopAtLimit: stopAfter is not null);
        return (result, interpreter._machine);
    }

    private RunResult Execute(bool stopAtLimit = false)
    {
        Diagnostic? error = null;
        var interrupted = false;
        _logger.LogDebug("running in {Mode}", _machine.Mode);
        try
        {
            foreach (var process in _script.Processes) Run(process.Span, () => _machine.SetUp(process));
            _machine.StartClock();
            foreach (var item in _script.Syntax.Items)
            {
                switch (item)
                {
                    case LetItem l:
                        _names.Add((l.Let.Name.Text, Evaluate(l.Let.Value)));
                        break;
                    case RunBlock r:
                        var mark = _names.Count;
                        Run(r.Process.Span, () => _machine.SwitchTo(r.Process.Text));
                        ExecuteBody(r.Body);
                        _names.RemoveRange(mark, _names.Count - mark);
                        break;
                }
            }
        }
        catch (ScriptError e) when (stopAtLimit && e.Diagnostic.Code == "MS0606")
        {
            // explain --after N: stopping at the limit is the point, not an error.
        }
        catch (ScriptError e)
        {
            error = e.Diagnostic;
        }
        catch (OperationCanceledException)
        {
            interrupted = true;
        }
        return new RunResult(_machine.Mode, _machine.Options, _machine.Counters.Snapshot(), _marks.ToImmutable(), _expects.ToImmutable(),
            error, interrupted, (IReadOnlyList<TraceEvent>?)_sink?.Events ?? [], _sink?.Dropped ?? 0);
    }

    /// <summary>A run-time error with its source position.</summary>
    private sealed class ScriptError(Diagnostic diagnostic) : Exception(diagnostic.Message)
    {
        public Diagnostic Diagnostic { get; } = diagnostic;
    }

    private static void Run(TextSpan span, Action action)
    {
        try
        {
            action();
        }
        catch (EngineException e)
        {
            throw new ScriptError(Errors.RunTime(span, e.Code, e.Message));
        }
        catch (TraceFormatException e)
        {
            throw new ScriptError(Errors.ReplayFailed(span, e.Message));
        }
    }

    private void Tick()
    {
        var done = _machine.Counters.Accesses;
        if (done < _nextProgress) return;
        _nextProgress = done + 1_000_000;
        _options.Cancel.ThrowIfCancellationRequested();
        _options.Progress?.Invoke(done);
    }

    private void ExecuteBody(ImmutableArray<Stmt> body)
    {
        foreach (var stmt in body) Execute(stmt);
    }

    private void Execute(Stmt stmt)
    {
        switch (stmt)
        {
            case AccessStmt a:
            {
                var address = Evaluate(a.Address);
                Run(a.Span, () => _machine.Access(address, a.Kind, a.Kernel));
                Tick();
                break;
            }
            case SweepStmt s:
            {
                var from = Evaluate(s.From);
                var size = Evaluate(s.Size);
                var stride = Evaluate(s.Stride);
                var times = s.Times is null ? 1 : Evaluate(s.Times);
                if (stride == 0) throw new ScriptError(Errors.ZeroNotAllowed(s.Stride.Span, "sweep stride"));
                if (from + size < from) throw new ScriptError(Errors.RunTimeOverflow(s.Span, "the sweep's end address"));
                Run(s.Span, () =>
                {
                    for (var t = 0UL; t < times; t++)
                    {
                        for (var offset = 0UL; offset < size; offset += stride)
                        {
                            _machine.Access(from + offset, s.Kind, s.Kernel);
                            if ((offset & 0xfffff) == 0) Tick();
                            if (offset + stride < offset) break;
                        }
                    }
                });
                break;
            }
            case RandomStmt r:
            {
                var count = Evaluate(r.Count);
                var from = Evaluate(r.From);
                var size = Evaluate(r.Size);
                var align = r.Align is null ? 8 : Evaluate(r.Align);
                var seed = r.Seed is null ? 1 : Evaluate(r.Seed);
                if (align == 0) throw new ScriptError(Errors.ZeroNotAllowed(r.Align!.Span, "random align"));
                var slots = size / align;
                if (slots == 0) throw new ScriptError(Errors.ValueOutOfRange(r.Size.Span, "random size", size, "at least the alignment"));
                if (from + (slots - 1) * align < from) throw new ScriptError(Errors.RunTimeOverflow(r.Span, "the random range's end address"));
                Run(r.Span, () =>
                {
                    var rng = new SplitMix64(seed);
                    for (var i = 0UL; i < count; i++)
                    {
                        _machine.Access(from + rng.Next() % slots * align, r.Kind, r.Kernel);
                        if ((i & 0xfffff) == 0) Tick();
                    }
                });
                break;
            }
            case RepeatStmt r:
            {
                var count = Evaluate(r.Count);
                var mark = _names.Count;
                for (var i = 0UL; i < count; i++)
                {
                    if (r.Variable is { } v)
                    {
                        if (_names.Count > mark) _names.RemoveRange(mark, _names.Count - mark);
                        _names.Add((v.Text, i));
                    }
                    ExecuteBody(r.Body);
                    _names.RemoveRange(mark, _names.Count - mark);
                    if ((i & 0xffff) == 0) Tick();
                }
                break;
            }
            case SwitchStmt s:
                Run(s.Span, () => _machine.SwitchTo(s.Process.Text));
                break;
            case InvlpgStmt i:
            {
                var address = Evaluate(i.Address);
                Run(i.Span, () => _machine.Invlpg(address));
                break;
            }
            case FlushTlbStmt f:
                Run(f.Span, _machine.FlushTlb);
                break;
            case MapStmt m:
            {
                var page = m.Page is null ? PageSize.Size4K : Vocabulary.ParsePageSize(m.Page.Text);
                var gva = Evaluate(m.Gva);
                var size = m.Size is null ? page.Bytes() : Evaluate(m.Size);
                var gpa = Evaluate(m.Gpa);
                CheckRuntimeRegion(m.Span, gva, size, page, gpa);
                Run(m.Span, () => _machine.Map(gva, size, page, gpa, m.Perms));
                break;
            }
            case DemandStmt { Gva: null } d:
                _machine.DemandAll(d.Perms);
                break;
            case DemandStmt d:
            {
                var page = d.Page is null ? PageSize.Size4K : Vocabulary.ParsePageSize(d.Page.Text);
                var gva = Evaluate(d.Gva!);
                var size = Evaluate(d.Size!);
                CheckRuntimeRegion(d.Span, gva, size, page, 0);
                Run(d.Span, () => _machine.Demand(gva, size, page, d.Perms));
                break;
            }
            case UnmapStmt u:
            {
                var gva = Evaluate(u.Gva);
                var size = u.Size is null ? 4096 : Evaluate(u.Size);
                CheckRuntimeRegion(u.Span, gva, size, PageSize.Size4K, 0);
                Run(u.Span, () => _machine.Unmap(gva, size));
                break;
            }
            case ProtectStmt p:
            {
                var gva = Evaluate(p.Gva);
                var size = p.Size is null ? 4096 : Evaluate(p.Size);
                CheckRuntimeRegion(p.Span, gva, size, PageSize.Size4K, 0);
                Run(p.Span, () => _machine.Protect(gva, size, p.Perms));
                break;
            }
            case ReplayStmt r:
            {
                var path = Path.IsPathRooted(r.Path) ? r.Path : Path.Combine(_options.BaseDirectory, r.Path);
                Run(r.Span, () => LackeyReader.Read(path, r.Path, (address, kind) =>
                {
                    _machine.Access(address, kind);
                    if ((_machine.Counters.Accesses & 0xfffff) == 0) Tick();
                }, _options.Cancel));
                break;
            }
            case MarkStmt m:
            {
                var counters = _machine.Counters.Snapshot();
                _marks.Add(new MarkRecord(m.Label, counters, m.Span));
                _sink?.Emit(new MarkEvent(counters.Cycles, counters.Accesses, m.Label));
                break;
            }
            case ExpectStmt e:
                Expect(e);
                break;
            case LetStmt l:
                _names.Add((l.Name.Text, Evaluate(l.Value)));
                break;
        }
    }

    private void CheckRuntimeRegion(TextSpan span, ulong gva, ulong size, PageSize page, ulong gpa)
    {
        var bytes = page.Bytes();
        if (size == 0 || size % bytes != 0) throw new ScriptError(Errors.MappingSize(span, size, page.Text()));
        if (gva % bytes != 0) throw new ScriptError(Errors.HugeGvaNotAligned(span, gva, page.Text()));
        if (gpa % bytes != 0) throw new ScriptError(Errors.HugeGpaNotAligned(span, gpa, page.Text()));
        var bits = _machine.Options.GuestLevels == 5 ? 57 : 48;
        if (gva + size < gva || !Canonical.IsCanonical(gva, bits) || !Canonical.IsCanonical(gva + size - 1, bits) || (gva >> 63) != ((gva + size - 1) >> 63))
            throw new ScriptError(Errors.NonCanonical(span, gva, bits));
    }

    private void Expect(ExpectStmt e)
    {
        if (!e.Modes.IsEmpty && !e.Modes.Any(m => Vocabulary.ParseMode(m.Text) == _machine.Mode)) return;
        var expected = Evaluate(e.Value);
        var counters = _machine.Counters.Snapshot();
        var actual = counters.Get(e.Counter.Text);
        if (e.Since is { } since)
        {
            var mark = _marks.LastOrDefault(m => m.Label == since.Text)
                ?? throw new ScriptError(Errors.SinceBeforeMark(since.Span, since.Text));
            actual -= mark.Counters.Get(e.Counter.Text);
        }
        var passed = e.Op switch
        {
            CompareOp.Eq => (ulong)actual == expected,
            CompareOp.Ne => (ulong)actual != expected,
            CompareOp.Lt => (ulong)actual < expected,
            CompareOp.Le => (ulong)actual <= expected,
            CompareOp.Gt => (ulong)actual > expected,
            _ => (ulong)actual >= expected,
        };
        _expects.Add(new ExpectRecord(e.Counter.Text, e.Op, expected, actual, passed, e.Span, e.Since?.Text));
        if (!passed)
            _sink?.Emit(new ExpectFailedEvent(counters.Cycles, counters.Accesses,
                $"{e.Counter.Text}{(e.Since is null ? "" : $" since \"{e.Since.Text}\"")} {AstPrinter.CompareText(e.Op)} {expected}, but it is {actual}", 0));
    }

    /// <summary>The failure message of an expectation, as reports print it.</summary>
    public static string Describe(ExpectRecord e, MmuMode mode) =>
        $"expectation failed in {Vocabulary.ModeName(mode)}: {e.Counter}{(e.Since is null ? "" : $" since \"{e.Since}\"")} {AstPrinter.CompareText(e.Op)} {e.Expected}, but it is {e.Actual}";

    // ------------------------------------------------------------ expressions

    private ulong Evaluate(Expr expr)
    {
        switch (expr)
        {
            case NumberExpr n:
                return n.Value!.Value;
            case NameExpr n:
                for (var i = _names.Count - 1; i >= 0; i--)
                    if (_names[i].Name == n.Name) return _names[i].Value;
                throw new InvalidOperationException($"checker let an unknown name through: {n.Name}");
            case UnaryExpr u:
                return ~Evaluate(u.Operand);
            case BinaryExpr b:
            {
                var left = Evaluate(b.Left);
                var right = Evaluate(b.Right);
                var error = Arithmetic.Apply(b.Op, left, right, out var result);
                if (error != ArithmeticError.None)
                {
                    var d = Checker.ArithmeticDiagnostic(error, b, left, right);
                    throw new ScriptError(error == ArithmeticError.Overflow ? Errors.RunTimeOverflow(d.Span, d.Message[..d.Message.IndexOf(" does not fit", StringComparison.Ordinal)]) : d);
                }
                return result;
            }
            default:
                throw new InvalidOperationException("unknown expression");
        }
    }
}
