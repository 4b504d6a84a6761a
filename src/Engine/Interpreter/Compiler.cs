using System.Runtime.CompilerServices;
using MemScript.Language.Checking;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Engine.Interpreter;

/// <summary>A run-time error with the source position of the statement or expression that raised it.</summary>
internal sealed class ScriptError(Diagnostic diagnostic) : Exception(diagnostic.Message)
{
    public Diagnostic Diagnostic { get; } = diagnostic;
}

/// <summary>
/// Compiles expressions into a closure tree over a frame of slots: every <c>let</c> and loop variable
/// gets a slot when it is compiled, names are resolved once, and constant sub-expressions are folded.
/// No Roslyn and no string lookups at run time, which keeps a <c>repeat</c> loop's body to a few
/// delegate calls per iteration.
/// </summary>
internal sealed class ExpressionCompiler
{
    private readonly List<(string Name, int Slot, ulong? Constant)> _scope = new();
    private int _slots;

    /// <summary>The frame every compiled expression reads; sized as slots are handed out.</summary>
    public ulong[] Frame { get; private set; } = new ulong[16];

    public int ScopeMark => _scope.Count;

    public void PopScope(int mark) => _scope.RemoveRange(mark, _scope.Count - mark);

    /// <summary>Declares a name in the current scope; returns its slot. A known constant is folded into readers.</summary>
    public int Declare(string name, ulong? constant)
    {
        var slot = _slots++;
        if (slot >= Frame.Length)
        {
            var frame = Frame;
            Array.Resize(ref frame, Frame.Length * 2);
            Frame = frame;
        }
        if (constant is { } c) Frame[slot] = c;
        _scope.Add((name, slot, constant));
        return slot;
    }

    /// <summary>A compiled expression; <see cref="Constant"/> is set when it does not depend on a variable.</summary>
    public readonly record struct Compiled(Func<ulong> Evaluate, ulong? Constant);

    public Compiled Compile(Expr expr)
    {
        switch (expr)
        {
            case NumberExpr n:
            {
                var value = n.Value!.Value;
                return new Compiled(() => value, value);
            }
            case NameExpr n:
            {
                for (var i = _scope.Count - 1; i >= 0; i--)
                {
                    if (_scope[i].Name != n.Name) continue;
                    if (_scope[i].Constant is { } c) return new Compiled(() => c, c);
                    var slot = _scope[i].Slot;
                    var compiler = this;
                    // The frame may grow while compiling; read it through the compiler, once per call.
                    return new Compiled(() => compiler.Frame[slot], null);
                }
                throw new InvalidOperationException($"the checker let an unknown name through: {n.Name}");
            }
            case UnaryExpr u:
            {
                var operand = Compile(u.Operand);
                if (operand.Constant is { } c) return new Compiled(() => ~c, ~c);
                var f = operand.Evaluate;
                return new Compiled(() => ~f(), null);
            }
            case BinaryExpr b:
                return CompileBinary(b);
            default:
                throw new InvalidOperationException("unknown expression");
        }
    }

    private Compiled CompileBinary(BinaryExpr b)
    {
        var left = Compile(b.Left);
        var right = Compile(b.Right);
        if (left.Constant is { } lc && right.Constant is { } rc)
        {
            var error = Arithmetic.Apply(b.Op, lc, rc, out var folded);
            if (error == ArithmeticError.None) return new Compiled(() => folded, folded);
            // The checker reports constant errors, so only a run-time path gets here: fail when evaluated.
            return new Compiled(() => Fail(error, b, lc, rc), null);
        }
        var l = left.Evaluate;
        var r = right.Evaluate;
        var op = b.Op;
        // The common shapes of address arithmetic get closures without the generic dispatch.
        if (right.Constant is { } k)
        {
            switch (op)
            {
                case BinaryOp.Mul when k != 0 && k <= uint.MaxValue:
                    return new Compiled(() => { var a = l(); var p = (UInt128)a * k; return p > ulong.MaxValue ? Fail(ArithmeticError.Overflow, b, a, k) : (ulong)p; }, null);
                case BinaryOp.Mod when k != 0 && (k & (k - 1)) == 0:
                {
                    var mask = k - 1;
                    return new Compiled(() => l() & mask, null);
                }
                case BinaryOp.Mod when k != 0:
                    return new Compiled(() => l() % k, null);
                case BinaryOp.Add:
                    return new Compiled(() => { var a = l(); var s = a + k; return s < a ? Fail(ArithmeticError.Overflow, b, a, k) : s; }, null);
                case BinaryOp.And:
                    return new Compiled(() => l() & k, null);
            }
        }
        if (left.Constant is { } c && op == BinaryOp.Add)
            return new Compiled(() => { var a = r(); var s = a + c; return s < a ? Fail(ArithmeticError.Overflow, b, c, a) : s; }, null);
        return new Compiled(() =>
        {
            var a = l();
            var x = r();
            var error = Arithmetic.Apply(op, a, x, out var result);
            return error == ArithmeticError.None ? result : Fail(error, b, a, x);
        }, null);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong Fail(ArithmeticError error, BinaryExpr b, ulong left, ulong right)
    {
        var d = Checker.ArithmeticDiagnostic(error, b, left, right);
        throw new ScriptError(error == ArithmeticError.Overflow
            ? Errors.RunTimeOverflow(d.Span, d.Message[..d.Message.IndexOf(" does not fit", StringComparison.Ordinal)])
            : d);
    }
}
