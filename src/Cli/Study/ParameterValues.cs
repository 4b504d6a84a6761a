using System.Collections.Immutable;
using MemScript.Language.Checking;
using MemScript.Language.Syntax;

namespace MemScript.Cli.Study;

/// <summary>
/// The numbers a study's parameters took in one combination, for the chart's axis: its top-level lets
/// evaluated in file order, as the checker evaluated them. The checked script does not carry its
/// constants' values (only the tree with the replaced expressions), so they are evaluated again here
/// with the language's own arithmetic; a checked file cannot fail here.
/// </summary>
public static class ParameterValues
{
    /// <summary>Each named parameter's value in a checked script (null if it is not a top-level let).</summary>
    public static ImmutableArray<ulong?> Of(CheckedScript script, IReadOnlyList<string> names)
    {
        var scope = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var let in script.Syntax.Items.OfType<LetItem>().Select(l => l.Let))
            if (Evaluate(let.Value, scope) is { } value) scope[let.Name.Text] = value;
        return [.. names.Select(n => scope.TryGetValue(n, out var v) ? v : (ulong?)null)];
    }

    /// <summary>A value written on the command line, when it needs no name to be evaluated (<c>64K</c>, <c>1G * 4</c>); otherwise null.</summary>
    public static ulong? Standalone(string expression)
    {
        var parsed = MemScript.Language.Parsing.ScriptParser.ParseExpression(expression);
        return parsed.Success ? Evaluate(parsed.Expr!, new Dictionary<string, ulong>()) : null;
    }

    /// <summary>The value of a constant expression; null on an unknown name or an arithmetic error.</summary>
    public static ulong? Evaluate(Expr expr, IReadOnlyDictionary<string, ulong> scope)
    {
        switch (expr)
        {
            case NumberExpr n:
                return n.Value;
            case NameExpr name:
                return scope.TryGetValue(name.Name, out var v) ? v : null;
            case UnaryExpr { Op: UnaryOp.Not } u:
                return Evaluate(u.Operand, scope) is { } operand ? ~operand : null;
            case BinaryExpr b:
                if (Evaluate(b.Left, scope) is not { } left || Evaluate(b.Right, scope) is not { } right) return null;
                return Arithmetic.Apply(b.Op, left, right, out var result) == ArithmeticError.None ? result : null;
            default:
                return null;
        }
    }
}
