using System.Linq.Expressions;
using System.Reflection;
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
/// Compiles expressions into delegates over a frame of slots: every <c>let</c> and loop variable gets a
/// slot when it is compiled, names are resolved once, and constant sub-expressions are folded. An
/// expression that reads a variable becomes one System.Linq.Expressions lambda, so a <c>repeat</c>
/// loop's address costs one delegate call per iteration however many operators it has (no Roslyn).
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
        var tree = Build(expr);
        if (tree is ConstantExpression { Value: ulong c }) return new Compiled(() => c, c);
        return new Compiled(Expression.Lambda<Func<ulong>>(tree).Compile(), null);
    }

    /// <summary>
    /// Compiles an expression as a function of the variable in <paramref name="slot"/>, which it reads
    /// from its argument instead of the frame (a loop's own counter).
    /// </summary>
    public Func<ulong, ulong> CompileOver(Expr expr, int slot)
    {
        _parameter = (Expression.Parameter(typeof(ulong), "i"), slot);
        try
        {
            return Expression.Lambda<Func<ulong, ulong>>(Build(expr), _parameter.Value.Variable).Compile();
        }
        finally
        {
            _parameter = null;
        }
    }

    private (ParameterExpression Variable, int Slot)? _parameter;

    /// <summary>
    /// When <paramref name="expr"/> is base + step * v of the variable in <paramref name="slot"/>, with
    /// every part a constant and no operator that can lose or wrap a value (+, - of a constant, * and
    /// &lt;&lt; by a constant), its base and step; otherwise null. Every intermediate value of such an
    /// expression grows with v, so if the last value fits in 64 bits none of them overflowed on the way.
    /// </summary>
    public (ulong Base, ulong Step)? Affine(Expr expr, int slot)
    {
        _parameter = (Expression.Parameter(typeof(ulong), "i"), slot);
        try
        {
            return AffineOf(expr);
        }
        finally
        {
            _parameter = null;
        }
    }

    private (ulong Base, ulong Step)? AffineOf(Expr expr)
    {
        var tree = Build(expr);
        if (tree is ConstantExpression { Value: ulong c }) return (c, 0);
        if (tree == _parameter!.Value.Variable) return (0, 1);
        if (expr is not BinaryExpr b || AffineOf(b.Left) is not { } l || AffineOf(b.Right) is not { } r) return null;
        switch (b.Op)
        {
            case BinaryOp.Add:
                return Checked(BinaryOp.Add, l.Base, r.Base) is { } sum && Checked(BinaryOp.Add, l.Step, r.Step) is { } step ? (sum, step) : null;
            case BinaryOp.Sub when r.Step == 0 && l.Base >= r.Base:
                return (l.Base - r.Base, l.Step);
            case BinaryOp.Mul when l.Step == 0 || r.Step == 0:
                var (k, f) = l.Step == 0 ? (l.Base, r) : (r.Base, l);
                return Checked(BinaryOp.Mul, k, f.Base) is { } mb && Checked(BinaryOp.Mul, k, f.Step) is { } ms ? (mb, ms) : null;
            case BinaryOp.Shl when r.Step == 0 && r.Base <= 63:
                var factor = 1UL << (int)r.Base;
                return Checked(BinaryOp.Mul, factor, l.Base) is { } sb && Checked(BinaryOp.Mul, factor, l.Step) is { } ss ? (sb, ss) : null;
            default:
                return null;
        }
    }

    private static ulong? Checked(BinaryOp op, ulong a, ulong b) => Arithmetic.Apply(op, a, b, out var result) == ArithmeticError.None ? result : null;

    private static readonly MethodInfo FailMethod = typeof(ExpressionCompiler).GetMethod(nameof(Fail), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo ApplyMethod = typeof(ExpressionCompiler).GetMethod(nameof(Apply), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly PropertyInfo FrameProperty = typeof(ExpressionCompiler).GetProperty(nameof(Frame))!;

    /// <summary>The expression's tree; a constant node when it does not read a variable (folded here).</summary>
    private Expression Build(Expr expr)
    {
        switch (expr)
        {
            case NumberExpr n:
                return Expression.Constant(n.Value!.Value);
            case NameExpr n:
            {
                for (var i = _scope.Count - 1; i >= 0; i--)
                {
                    if (_scope[i].Name != n.Name) continue;
                    if (_scope[i].Constant is { } c) return Expression.Constant(c);
                    if (_parameter is { } p && p.Slot == _scope[i].Slot) return p.Variable;
                    // The frame may grow while compiling; read it through the compiler on each evaluation.
                    return Expression.ArrayIndex(Expression.Property(Expression.Constant(this), FrameProperty), Expression.Constant(_scope[i].Slot));
                }
                throw new InvalidOperationException($"the checker let an unknown name through: {n.Name}");
            }
            case UnaryExpr u:
            {
                var operand = Build(u.Operand);
                return operand is ConstantExpression { Value: ulong c } ? Expression.Constant(~c) : Expression.OnesComplement(operand);
            }
            case BinaryExpr b:
                return BuildBinary(b);
            default:
                throw new InvalidOperationException("unknown expression");
        }
    }

    private Expression BuildBinary(BinaryExpr b)
    {
        var left = Build(b.Left);
        var right = Build(b.Right);
        if (left is ConstantExpression { Value: ulong lc } && right is ConstantExpression { Value: ulong rc })
        {
            var error = Arithmetic.Apply(b.Op, lc, rc, out var folded);
            // The checker reports constant errors, so only a run-time path gets here: fail when evaluated.
            return error == ArithmeticError.None ? Expression.Constant(folded) : FailWith(error, b, left, right);
        }
        var k = right is ConstantExpression { Value: ulong rk } ? rk : (ulong?)null;
        switch (b.Op)
        {
            case BinaryOp.Or: return Expression.Or(left, right);
            case BinaryOp.Xor: return Expression.ExclusiveOr(left, right);
            case BinaryOp.And: return Expression.And(left, right);
            case BinaryOp.Mod when k is { } m && m != 0 && (m & (m - 1)) == 0: return Expression.And(left, Expression.Constant(m - 1));
            case BinaryOp.Mod when k is not null and not 0: return Expression.Modulo(left, right);
            case BinaryOp.Div when k is not null and not 0: return Expression.Divide(left, right);
            case BinaryOp.Shr when k is { } s && s <= 63: return Expression.RightShift(left, Expression.Constant((int)s));
        }
        // The rest can fail on some operands: evaluate both once, then the operator or its error.
        var a = Expression.Variable(typeof(ulong), "a");
        var x = Expression.Variable(typeof(ulong), "x");
        Expression body;
        switch (b.Op)
        {
            case BinaryOp.Add:
            {
                var sum = Expression.Variable(typeof(ulong), "sum");
                return Expression.Block(typeof(ulong), [a, x, sum],
                    Expression.Assign(a, left), Expression.Assign(x, right), Expression.Assign(sum, Expression.Add(a, x)),
                    Expression.Condition(Expression.LessThan(sum, a), FailWith(ArithmeticError.Overflow, b, a, x), sum));
            }
            case BinaryOp.Sub:
                body = Expression.Condition(Expression.GreaterThan(x, a), FailWith(ArithmeticError.BelowZero, b, a, x), Expression.Subtract(a, x));
                break;
            case BinaryOp.Mul when k is { } f && f != 0:
                // a * f fits in 64 bits exactly when a <= floor(max / f).
                body = Expression.Condition(Expression.GreaterThan(a, Expression.Constant(ulong.MaxValue / f)),
                    FailWith(ArithmeticError.Overflow, b, a, x), Expression.Multiply(a, x));
                break;
            default:
                body = Expression.Call(ApplyMethod, Expression.Constant(b), a, x);
                break;
        }
        return Expression.Block(typeof(ulong), [a, x], Expression.Assign(a, left), Expression.Assign(x, right), body);
    }

    private static Expression FailWith(ArithmeticError error, BinaryExpr b, Expression left, Expression right) =>
        Expression.Call(FailMethod, Expression.Constant(error), Expression.Constant(b), left, right);

    /// <summary>An operator whose errors are not tested inline: the language's arithmetic, failing with the node's diagnostic.</summary>
    private static ulong Apply(BinaryExpr b, ulong left, ulong right)
    {
        var error = Arithmetic.Apply(b.Op, left, right, out var result);
        return error == ArithmeticError.None ? result : Fail(error, b, left, right);
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
