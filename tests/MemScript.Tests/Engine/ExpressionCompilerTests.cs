using System.Text;
using FsCheck;
using FsCheck.Fluent;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;
using MemScript.Language;
using MemScript.Language.Checking;
using MemScript.Language.Syntax;
using MemScript.Tests.Support;

namespace MemScript.Tests.Engine;

/// <summary>
/// The interpreter's compiled expressions against a plain recursive evaluation of the same tree with the
/// language's arithmetic: random expressions over variables must give the same value, or fail at the
/// same operator, both as a statement's value and as a <c>repeat</c> loop's access address (which is
/// compiled as a function of the loop's counter).
/// </summary>
public class ExpressionCompilerTests
{
    private static readonly ulong[] Interesting =
        [0, 1, 2, 3, 7, 8, 63, 64, 65, 4096, 0xffff_ffff, 0x1_0000_0000, 1UL << 62, 1UL << 63, ulong.MaxValue - 1, ulong.MaxValue];

    public sealed record Case(string Expression, ulong A, ulong B)
    {
        public override string ToString() => $"a={A:x} b={B:x}: {Expression}";
    }

    public static class Cases
    {
        private static readonly string[] Operators = ["|", "^", "&", "<<", ">>", "+", "-", "*", "/", "%"];

        private static Gen<ulong> Number() => Gen.OneOf(Gen.Elements(Interesting), Gen.Choose(0, 300).Select(n => (ulong)n));

        private static Gen<string> Tree(int depth) => depth == 0
            ? Gen.OneOf(Gen.Elements("a", "b", "i"), Number().Select(n => n < 1000 ? n.ToString() : $"0x{n:x}"))
            : Gen.Frequency(
                (1, Tree(0)),
                (1, Tree(depth - 1).Select(t => $"~({t})")),
                (5, from l in Tree(depth - 1)
                    from op in Gen.Elements(Operators)
                    from r in Tree(depth - 1)
                    select $"({l} {op} {r})"));

        public static Arbitrary<Case> All() =>
            (from text in Tree(4)
             from a in Number()
             from b in Number()
             select new Case(text, a, b)).ToArbitrary();
    }

    private static string Script(Case c, string statement) => new StringBuilder()
        .AppendLine("slot 0 gpa 0x0 size 16M hva 0x7f0000000000")
        .AppendLine("process p { map 0x40000000 size 4K to 0x100000 r }")
        .AppendLine("run p {")
        .AppendLine("  repeat 1 as j {")
        .AppendLine($"    let a = j + {c.A}")
        .AppendLine($"    let b = j + {c.B}")
        .AppendLine($"    repeat 1 as i {{ {statement} }}")
        .AppendLine("  }")
        .AppendLine("}")
        .ToString();

    /// <summary>The value of an expression, or the span of the operand or operator that fails first.</summary>
    private static (ulong Value, TextSpan? Failure) Reference(Expr expr, IReadOnlyDictionary<string, ulong> names)
    {
        switch (expr)
        {
            case NumberExpr n: return (n.Value!.Value, null);
            case NameExpr n: return (names[n.Name], null);
            case UnaryExpr u:
            {
                var (v, failure) = Reference(u.Operand, names);
                return (~v, failure);
            }
            case BinaryExpr b:
            {
                var (l, lf) = Reference(b.Left, names);
                if (lf is not null) return (0, lf);
                var (r, rf) = Reference(b.Right, names);
                if (rf is not null) return (0, rf);
                var error = Arithmetic.Apply(b.Op, l, r, out var result);
                if (error == ArithmeticError.None) return (result, null);
                return (0, Checker.ArithmeticDiagnostic(error, b, l, r).Span);
            }
            default:
                throw new InvalidOperationException(expr.GetType().Name);
        }
    }

    /// <summary>The expression as parsed inside the innermost loop of <see cref="Script"/>.</summary>
    private static Expr Parsed(CheckedScript script) =>
        script.Syntax.Items.OfType<RunBlock>().Single().Body.OfType<RepeatStmt>().Single()
            .Body.OfType<RepeatStmt>().Single().Body.Single() switch
        {
            ExpectStmt e => e.Value,
            AccessStmt a => a.Address,
            var s => throw new InvalidOperationException(s.GetType().Name),
        };

    [FsCheck.NUnit.Property(MaxTest = 400, Arbitrary = [typeof(Cases)], QuietOnSuccess = true, Replay = "20261201,5")]
    public bool Compiled_expressions_match_the_reference_evaluation(Case c)
    {
        var names = new Dictionary<string, ulong> { ["a"] = c.A, ["b"] = c.B, ["i"] = 0, ["j"] = 0 };
        foreach (var statement in new[] { $"expect accesses == {c.Expression}", $"read {c.Expression}" })
        {
            var text = Script(c, statement);
            var check = Checker.CheckText(text);
            // A constant part that fails is the checker's to report; only run-time evaluation is under test.
            if (!check.Success) return true;
            var (value, failure) = Reference(Parsed(check.Script!), names);
            var run = Scenario.RunAllowingErrors(text, MmuMode.Native, trace: true);
            if (failure is { } span)
            {
                if (run.Error?.Span != span)
                    throw new AssertionException($"{statement}: expected a failure at {span}, got {run.Error?.Code} at {run.Error?.Span}: {run.Error?.Message}");
                continue;
            }
            if (run.Error is { } e) throw new AssertionException($"{statement}: expected {value:x}, got {e.Code}: {e.Message}");
            var got = statement.StartsWith("expect", StringComparison.Ordinal)
                ? run.Expects.Single().Expected
                : run.Trace.Select(Address).First(x => x is not null)!.Value;
            if (got != value) throw new AssertionException($"{statement}: expected {value:x}, got {got:x}");
        }
        return true;
    }

    private static ulong? Address(TraceEvent e) => e switch
    {
        TlbMissEvent t => t.Address.Value,
        GuestFaultEvent g => g.Address.Value,
        NonCanonicalEvent n => n.Address.Value,
        _ => null,
    };
}
