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
    private readonly ExpressionCompiler _compiler = new();
    private readonly ImmutableArray<MarkRecord>.Builder _marks = ImmutableArray.CreateBuilder<MarkRecord>();
    private readonly ImmutableArray<ExpectRecord>.Builder _expects = ImmutableArray.CreateBuilder<ExpectRecord>();
    private long _nextProgress;

    // The latest mark of each label, for `since` (a label can repeat: the latest one counts).
    private readonly Dictionary<string, MarkRecord> _latestMark = new(StringComparer.Ordinal);

    // Loop iterations that made no access, against the limit that stops a loop with no access.
    private long _idleIterations;
    private readonly long _idleLimit;

    private ScriptInterpreter(CheckedScript script, RunOptions options, ILogger? logger)
    {
        _script = script;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        var mode = options.Mode ?? script.Machine.Mode;
        var machineOptions = MachineOptions.From(script.Machine, mode) with { MaxAccesses = options.MaxAccesses };
        _idleLimit = options.MaxAccesses > 0 ? Math.Max(options.MaxAccesses, RunOptions.IdleIterationFloor) : long.MaxValue;
        if (options.MaxTablePages is { } tables) machineOptions = machineOptions with { MaxTablePages = tables };
        if (options.MaxHostPages is { } hosts) machineOptions = machineOptions with { MaxHostPages = hosts };
        machineOptions = machineOptions with { Accelerate = options.Accelerate };
        _sink = options.Trace && options.TraceSink is null ? new ListTraceSink(options.TraceLimit) : null;
        // The machine takes its sink when it is built; a sink made from the machine is handed over after.
        var late = options.TraceSink is null ? null : new LateSink();
        _machine = new Machine(machineOptions, script, (ITraceSink?)late ?? _sink, _logger);
        if (late is not null) late.Target = options.TraceSink!(_machine);
    }

    /// <summary>Forwards to the sink of <see cref="RunOptions.TraceSink"/>, which can only be made once the machine exists.</summary>
    private sealed class LateSink : ITraceSink
    {
        public ITraceSink? Target;

        public void Emit(TraceEvent traceEvent) => Target?.Emit(traceEvent);
    }

    public Machine Machine => _machine;

    /// <summary>Runs the whole timeline in one mode on a fresh machine.</summary>
    public static RunResult Run(CheckedScript script, RunOptions options, ILogger? logger = null) =>
        new ScriptInterpreter(script, options, logger).Execute();

    /// <summary>Runs until <paramref name="stopAfter"/> accesses (or the end), leaving the machine for inspection.</summary>
    public static (RunResult Result, Machine Machine) RunAndKeep(CheckedScript script, RunOptions options, long? stopAfter = null)
    {
        var interpreter = new ScriptInterpreter(script, stopAfter is > 0 ? options with { MaxAccesses = stopAfter.Value } : options, null);
        var result = interpreter.Execute(stopAtLimit: stopAfter is not null, setUpOnly: stopAfter == 0);
        return (result, interpreter._machine);
    }

    private RunResult Execute(bool stopAtLimit = false, bool setUpOnly = false)
    {
        Diagnostic? error = null;
        var interrupted = false;
        _logger.LogDebug("running in {Mode}", _machine.Mode);
        try
        {
            foreach (var process in _script.Processes) Guard(process.Span, () => _machine.SetUp(process));
            _machine.StartClock();
            var items = new ItemRunner(this);
            foreach (var item in setUpOnly ? [] : _script.Syntax.Items) item.Accept(items);
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

    /// <summary>The timeline's top level: parameters and run blocks execute in file order; declarations were applied at set-up.</summary>
    private sealed class ItemRunner(ScriptInterpreter interpreter) : IItemVisitor<bool>
    {
        public bool Visit(LetItem l)
        {
            interpreter.CompileStatement(l.Let)();
            return true;
        }

        public bool Visit(RunBlock r)
        {
            var compiler = interpreter._compiler;
            var mark = compiler.ScopeMark;
            // The block's CR3 load belongs to the segment its first statement is in: marks that open the
            // block are taken before it.
            var opening = r.Body.TakeWhile(s => s is MarkStmt).Count();
            interpreter.CompileBody(r.Body[..opening])();
            Guard(r.Process.Span, () => interpreter._machine.SwitchTo(r.Process.Text));
            // A block's statements run once, in order: each is compiled just before it runs and then
            // dropped, so a file of millions of statements never holds millions of closures (per mode,
            // with the modes running side by side). Names are declared in the same order either way,
            // and compiling raises no error of the file's (arithmetic fails when evaluated).
            foreach (var statement in r.Body[opening..]) interpreter.CompileStatement(statement)();
            compiler.PopScope(mark);
            return true;
        }

        public bool Visit(MmuDecl d) => true;
        public bool Visit(PagingDecl d) => true;
        public bool Visit(TlbDecl d) => true;
        public bool Visit(PwcDecl d) => true;
        public bool Visit(TaggingDecl d) => true;
        public bool Visit(CostDecl d) => true;
        public bool Visit(ClockDecl d) => true;
        public bool Visit(SlotDecl d) => true;
        public bool Visit(ProcessDecl d) => true;
        public bool Visit(ProfileDecl d) => true;
        public bool Visit(Tlb1GDecl d) => true;
        public bool Visit(ShadowUnsyncDecl d) => true;
        public bool Visit(ShadowPrefetchDecl d) => true;
        public bool Visit(ShadowFloodDecl d) => true;
        public bool Visit(EptAdDecl d) => true;
        public bool Visit(DirtyTrackDecl d) => true;
    }

    /// <summary>Runs engine work for a statement, giving the engine's location-free errors that statement's span.</summary>
    private static void Guard(TextSpan span, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is EngineException or TraceFormatException)
        {
            throw Located(span, e);
        }
    }

    /// <summary>Bulk loops count many accesses at once: after one, the total must still fit (SEMANTICS: counts are exact).</summary>
    private static void CheckCycles(Machine machine, TextSpan span)
    {
        if (machine.Counters.CyclesOverflow) throw Located(span, EngineException.CounterOverflow("cycle"));
    }

    private static ScriptError Located(TextSpan span, Exception e) => e switch
    {
        EngineException engine => new ScriptError(Errors.RunTime(span, engine.Code, engine.Message)),
        _ => new ScriptError(Errors.ReplayFailed(span, e.Message)),
    };

    /// <summary>After an access: poll for Ctrl-C and report progress as the engine's generators do (Tick limits itself further).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private void AfterAccess()
    {
        if (_machine.PollDue) Tick();
    }

    private void Tick()
    {
        _options.Cancel.ThrowIfCancellationRequested();
        if (_machine.Counters.CyclesOverflow) throw EngineException.CounterOverflow("cycle");
        var done = _machine.Counters.Accesses;
        if (done < _nextProgress) return;
        _nextProgress = done + 1_000_000;
        _options.Progress?.Invoke(done);
    }

    /// <summary>
    /// Every 65,536 iterations of a loop: Ctrl-C, the progress line, and the limit on iterations that
    /// made no access (a loop of flushes or marks must not run forever past --max-accesses).
    /// </summary>
    private long LoopTick(TextSpan span, long accessesBefore, long iterations)
    {
        Guard(span, Tick);
        var now = _machine.Counters.Accesses;
        if (now == accessesBefore && (_idleIterations += iterations) >= _idleLimit)
            throw Located(span, EngineException.IdleLimit(_idleLimit));
        return now;
    }

    // ------------------------------------------------------------ compiling statements

    /// <summary>Compiles a block; names it declares stay in scope until the caller pops them.</summary>
    private Action CompileBody(ImmutableArray<Stmt> body)
    {
        var actions = body.Select(CompileStatement).ToArray();
        return actions.Length switch
        {
            0 => () => { },
            1 => actions[0],
            _ => () => { foreach (var action in actions) action(); },
        };
    }

    private Action CompileStatement(Stmt stmt) => stmt.Accept(_statements ??= new StatementCompiler(this));

    private StatementCompiler? _statements;

    /// <summary>
    /// Compiles each kind of statement into an action over the machine: names are resolved and
    /// expressions compiled once, here, and the actions only evaluate and call the engine.
    /// </summary>
    private sealed class StatementCompiler(ScriptInterpreter interpreter) : IStmtVisitor<Action>
    {
        private readonly Machine _machine = interpreter._machine;
        private readonly ExpressionCompiler _compiler = interpreter._compiler;
        private Action Poll => interpreter.Tick;

        private Func<ulong> Compile(Expr expr) => _compiler.Compile(expr).Evaluate;

            public Action Visit(AccessStmt a)
        {
            var machine = _machine;
            var address = Compile(a.Address);
            var (kind, kernel, span) = (a.Kind, a.Kernel, a.Span);
            return () =>
            {
                var x = address();
                try
                {
                    machine.Access(x, kind, kernel);
                    if (machine.Counters.CyclesOverflow) throw EngineException.CounterOverflow("cycle");
                }
                catch (EngineException e)
                {
                    throw Located(span, e);
                }
                interpreter.AfterAccess();
            };
        }

        public Action Visit(SweepStmt s)
        {
            var (machine, poll) = (_machine, Poll);
            var (fromF, sizeF, strideF) = (Compile(s.From), Compile(s.Size), Compile(s.Stride));
            var timesF = s.Times is null ? () => 1UL : Compile(s.Times);
            return () =>
            {
                var (from, size, stride, times) = (fromF(), sizeF(), strideF(), timesF());
                if (stride == 0) throw new ScriptError(Errors.ZeroNotAllowed(s.Stride.Span, "sweep stride"));
                // The last address may be 2^64 - 1: only a range that passes 2^64 wraps.
                if (size != 0 && from + (size - 1) < from) throw new ScriptError(Errors.RunTimeOverflow(s.Span, "the sweep's end address"));
                Guard(s.Span, () => machine.Sweep(from, size, stride, times, s.Kind, s.Kernel, poll));
                CheckCycles(machine, s.Span);
            };
        }

        public Action Visit(RandomStmt r)
        {
            var (machine, poll) = (_machine, Poll);
            var (countF, fromF, sizeF) = (Compile(r.Count), Compile(r.From), Compile(r.Size));
            var alignF = r.Align is null ? () => 8UL : Compile(r.Align);
            var seedF = r.Seed is null ? () => 1UL : Compile(r.Seed);
            return () =>
            {
                var (count, from, size, align, seed) = (countF(), fromF(), sizeF(), alignF(), seedF());
                if (align == 0) throw new ScriptError(Errors.ZeroNotAllowed(r.Align!.Span, "random align"));
                var slots = size / align;
                if (slots == 0) throw new ScriptError(Errors.ValueOutOfRange(r.Size.Span, "random size", size, "at least the alignment"));
                if (from + (slots - 1) * align < from) throw new ScriptError(Errors.RunTimeOverflow(r.Span, "the random range's end address"));
                Guard(r.Span, () => machine.Random(count, from, slots, align, seed, r.Kind, r.Kernel, poll));
                CheckCycles(machine, r.Span);
            };
        }

        public Action Visit(RepeatStmt r)
        {
            var (machine, poll) = (_machine, Poll);
            var countF = Compile(r.Count);
            var mark = _compiler.ScopeMark;
            var slot = r.Variable is { } v ? _compiler.Declare(v.Text, null) : -1;
            if (r.Body is [AccessStmt access])
            {
                // The commonest loop, one access at an address computed from the counter, runs as an
                // engine loop over one compiled function of the counter.
                var address = _compiler.CompileOver(access.Address, slot);
                var affine = slot >= 0 ? _compiler.Affine(access.Address, slot) : null;
                _compiler.PopScope(mark);
                return () =>
                {
                    var count = countF();
                    // base + step * i for i below count, none of it wrapping, is exactly a sweep of count
                    // accesses, which counts the ones that stay on a page together; anything else (and
                    // an address that would overflow, which must fail at its own iteration) runs as is.
                    if (affine is { Step: > 0 } a && count > 0 && Math.BigMul(a.Step, count - 1, out var span) == 0 && span < ulong.MaxValue && a.Base + span >= a.Base)
                        Guard(access.Span, () => machine.Sweep(a.Base, span + 1, a.Step, 1, access.Kind, access.Kernel, poll));
                    else
                        Guard(access.Span, () => machine.Repeat(count, address, access.Kind, access.Kernel, poll));
                    CheckCycles(machine, access.Span);
                };
            }
            var body = interpreter.CompileBody(r.Body);
            _compiler.PopScope(mark);
            var compiler = _compiler;
            return () =>
            {
                var count = countF();
                var frame = compiler.Frame;
                var seen = machine.Counters.Accesses;
                for (var i = 0UL; i < count; i++)
                {
                    if (slot >= 0) frame[slot] = i;
                    body();
                    if ((i & 0xffff) == 0xffff) seen = interpreter.LoopTick(r.Span, seen, 0x10000);
                }
            };
        }

        public Action Visit(LetStmt l)
        {
            var value = _compiler.Compile(l.Value);
            if (value.Constant is { } c)
            {
                _compiler.Declare(l.Name.Text, c);
                return () => { };
            }
            var slot = _compiler.Declare(l.Name.Text, null);
            var compiler = _compiler;
            var f = value.Evaluate;
            return () => compiler.Frame[slot] = f();
        }

        public Action Visit(SwitchStmt s)
        {
            var machine = _machine;
            return () => Guard(s.Span, () => machine.SwitchTo(s.Process.Text));
        }

        public Action Visit(InvlpgStmt i)
        {
            var machine = _machine;
            var address = Compile(i.Address);
            return () => { var x = address(); Guard(i.Span, () => machine.Invlpg(x)); };
        }

        public Action Visit(FlushTlbStmt f)
        {
            var machine = _machine;
            return () => Guard(f.Span, machine.FlushTlb);
        }

        public Action Visit(MapStmt m)
        {
            var machine = _machine;
            var pageF = PageSizeOf(m.Page);
            var (gvaF, gpaF) = (Compile(m.Gva), Compile(m.Gpa));
            var sizeF = m.Size is null ? null : Compile(m.Size);
            return () =>
            {
                var gva = gvaF();
                var size = sizeF?.Invoke();
                var page = pageF();
                var gpa = gpaF();
                var bytes = size ?? page.Bytes();
                interpreter.CheckRuntimeRegion(m.Span, gva, bytes, page, gpa);
                Guard(m.Span, () => machine.Map(gva, bytes, page, gpa, m.Perms));
            };
        }

        public Action Visit(DemandStmt d)
        {
            var machine = _machine;
            if (d.Gva is null) return () => machine.DemandAll(d.Perms);
            var pageF = PageSizeOf(d.Page);
            var (gvaF, sizeF) = (Compile(d.Gva), Compile(d.Size!));
            return () =>
            {
                var (gva, size, page) = (gvaF(), sizeF(), pageF());
                interpreter.CheckRuntimeRegion(d.Span, gva, size, page, 0);
                Guard(d.Span, () => machine.Demand(gva, size, page, d.Perms));
            };
        }

        /// <summary>
        /// A page-size expression: folded when constant (the checker has vouched for it), else checked
        /// each time it is evaluated, with the checker's message at the expression.
        /// </summary>
        private Func<PageSize> PageSizeOf(Expr? expr)
        {
            if (expr is null) return () => PageSize.Size4K;
            var compiled = _compiler.Compile(expr);
            if (compiled.Constant is { } c && PageSizes.OfBytes(c) is { } constant) return () => constant;
            var evaluate = compiled.Evaluate;
            return () =>
            {
                var bytes = evaluate();
                return PageSizes.OfBytes(bytes) ?? throw new ScriptError(Errors.BadPageSize(expr.Span, "page size", bytes));
            };
        }

        public Action Visit(UnmapStmt u)
        {
            var machine = _machine;
            var gvaF = Compile(u.Gva);
            var sizeF = u.Size is null ? () => 4096UL : Compile(u.Size);
            return () =>
            {
                var (gva, size) = (gvaF(), sizeF());
                interpreter.CheckRuntimeRegion(u.Span, gva, size, PageSize.Size4K, 0);
                Guard(u.Span, () => machine.Unmap(gva, size));
            };
        }

        public Action Visit(ProtectStmt p)
        {
            var machine = _machine;
            var gvaF = Compile(p.Gva);
            var sizeF = p.Size is null ? () => 4096UL : Compile(p.Size);
            return () =>
            {
                var (gva, size) = (gvaF(), sizeF());
                interpreter.CheckRuntimeRegion(p.Span, gva, size, PageSize.Size4K, 0);
                Guard(p.Span, () => machine.Protect(gva, size, p.Perms));
            };
        }

        public Action Visit(ReplayStmt r)
        {
            var (machine, poll) = (_machine, Poll);
            var options = interpreter._options;
            var path = Path.IsPathRooted(r.Path) ? r.Path : Path.Combine(options.BaseDirectory, r.Path);
            return () =>
            {
                Guard(r.Span, () =>
                {
                    using var trace = LackeyReader.Open(path, r.Path, options.Cancel);
                    machine.Replay(trace, poll);
                });
                CheckCycles(machine, r.Span);
            };
        }

        public Action Visit(MarkStmt m)
        {
            var machine = _machine;
            var label = Render(m.Label);
            return () =>
            {
                var text = label();
                if (interpreter._marks.Count >= RunOptions.MarkLimit) throw Located(m.Span, EngineException.RecordLimit("marks", RunOptions.MarkLimit));
                if (machine.Counters.CyclesOverflow) throw Located(m.Span, EngineException.CounterOverflow("cycle"));
                var counters = machine.Counters.Snapshot();
                var record = new MarkRecord(text, counters, m.Span);
                interpreter._marks.Add(record);
                interpreter._latestMark[text] = record;
                interpreter._sink?.Emit(new MarkEvent(counters.Cycles, counters.Accesses, text));
            };
        }

        /// <summary>A label's text as the statement executes it: each interpolation in decimal; a literal label once.</summary>
        private Func<string> Render(MarkLabel label)
        {
            if (label.LiteralText is { } literal) return () => literal;
            var parts = label.Parts.Select(p => p.Expr is { } e ? Compile(e) : null).ToArray();
            var texts = label.Parts.Select(p => p.Text).ToArray();
            return () =>
            {
                var sb = new System.Text.StringBuilder();
                for (var i = 0; i < parts.Length; i++)
                    sb.Append(parts[i] is { } f ? f().ToString(System.Globalization.CultureInfo.InvariantCulture) : texts[i]);
                return sb.ToString();
            };
        }

        public Action Visit(CollectDirtyStmt c)
        {
            var machine = _machine;
            return () => Guard(c.Span, machine.CollectDirty);
        }

        public Action Visit(ExpectStmt e)
        {
            var value = Compile(e.Value);
            var since = e.Since is null ? null : Render(e.Since);
            return () => interpreter.Expect(e, value, since);
        }
    }

    private void CheckRuntimeRegion(TextSpan span, ulong gva, ulong size, PageSize page, ulong gpa)
    {
        var bytes = page.Bytes();
        if (size == 0 || size % bytes != 0) throw new ScriptError(Errors.MappingSize(span, size, page.Text()));
        if (gva % bytes != 0) throw new ScriptError(Errors.HugeGvaNotAligned(span, gva, page.Text()));
        if (gpa % bytes != 0) throw new ScriptError(Errors.HugeGpaNotAligned(span, gpa, page.Text()));
        var bits = _machine.Options.GuestLevels == 5 ? 57 : 48;
        if (gva + (size - 1) < gva || !Canonical.IsCanonical(gva, bits) || !Canonical.IsCanonical(gva + size - 1, bits) || (gva >> 63) != ((gva + size - 1) >> 63))
            throw new ScriptError(Errors.NonCanonical(span, gva, bits));
    }

    /// <summary>Evaluates an expectation; with <c>since</c>, against the latest mark whose label, as it executed, is the since label as it executes now.</summary>
    private void Expect(ExpectStmt e, Func<ulong> value, Func<string>? sinceLabel)
    {
        if (!e.Modes.IsEmpty && !e.Modes.Any(m => Vocabulary.ParseMode(m.Text) == _machine.Mode)) return;
        var expected = value();
        if (_expects.Count >= RunOptions.ExpectLimit) throw Located(e.Span, EngineException.RecordLimit("expectation results", RunOptions.ExpectLimit));
        if (_machine.Counters.CyclesOverflow) throw Located(e.Span, EngineException.CounterOverflow("cycle"));
        var counters = _machine.Counters.Snapshot();
        var actual = counters.Get(e.Counter.Text);
        var since = sinceLabel?.Invoke();
        if (since is not null)
        {
            var mark = _latestMark.GetValueOrDefault(since)
                ?? throw new ScriptError(Errors.SinceBeforeMark(e.Since!.Span, since));
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
        _expects.Add(new ExpectRecord(e.Counter.Text, e.Op, expected, actual, passed, e.Span, since));
        if (!passed)
            _sink?.Emit(new ExpectFailedEvent(counters.Cycles, counters.Accesses,
                $"{e.Counter.Text}{(since is null ? "" : $" since \"{since}\"")} {AstPrinter.CompareText(e.Op)} {expected}, but it is {actual}", 0));
    }

    /// <summary>The failure message of an expectation, as reports print it.</summary>
    public static string Describe(ExpectRecord e, MmuMode mode) =>
        $"expectation failed in {Vocabulary.ModeName(mode)}: {e.Counter}{(e.Since is null ? "" : $" since \"{e.Since}\"")} {AstPrinter.CompareText(e.Op)} {e.Expected}, but it is {e.Actual}";
}
