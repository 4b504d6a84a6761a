using System.Collections.Immutable;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Language.Parsing;

/// <summary>
/// After a successful parse: reports invalid integer literals, and expressions nested so deep (long
/// operator chains) that recursive evaluation would be unsafe. Walks expressions with an explicit stack;
/// it finds them through <see cref="SyntaxWalker"/>, so it needs no change for a new statement.
/// </summary>
internal static class LiteralCheck
{
    public static void Collect(Script script, ImmutableArray<Diagnostic>.Builder diagnostics, int maxDepth)
    {
        foreach (var node in SyntaxWalker.Expressions(script))
            CheckExpression(node, diagnostics, maxDepth * 4);
        foreach (var stmt in SyntaxWalker.Statements(script))
            foreach (var label in stmt.Labels())
                if (label.Problem is { } problem) diagnostics.Add(problem);
    }

    /// <summary>Reports an expression nested deeper than <paramref name="maxDepth"/> (only that, not its literals).</summary>
    internal static void CheckDepth(Expr root, ImmutableArray<Diagnostic>.Builder diagnostics, int maxDepth)
    {
        var literals = ImmutableArray.CreateBuilder<Diagnostic>();
        CheckExpression(root, literals, maxDepth);
        foreach (var d in literals) if (d.Code == "MS0002") diagnostics.Add(d);
    }

    internal static void CheckExpression(Expr root, ImmutableArray<Diagnostic>.Builder diagnostics, int maxDepth)
    {
        // Depth counts operators on the way down from the root (a literal or a name adds none), so the
        // limit and the message agree: 256 nested operators pass, 257 are reported.
        static int Operators(Expr e) => e is UnaryExpr or BinaryExpr ? 1 : 0;
        var stack = new Stack<(Expr Expr, int Depth)>();
        stack.Push((root, Operators(root)));
        while (stack.Count > 0)
        {
            var (expr, depth) = stack.Pop();
            if (depth > maxDepth)
            {
                diagnostics.Add(Errors.ExpressionTooDeep(root.Span, maxDepth));
                return;
            }
            switch (expr)
            {
                case NumberExpr { Value: null } n:
                    diagnostics.Add(n.Problem == "overflow" ? Errors.NumberTooLarge(n.Span, n.Text) : Errors.BadNumber(n.Span, n.Text, n.Problem!));
                    break;
                case UnaryExpr u:
                    stack.Push((u.Operand, depth + Operators(u.Operand)));
                    break;
                case BinaryExpr b:
                    stack.Push((b.Right, depth + Operators(b.Right)));
                    stack.Push((b.Left, depth + Operators(b.Left)));
                    break;
            }
        }
    }
}
