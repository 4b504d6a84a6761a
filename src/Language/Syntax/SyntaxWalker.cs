namespace MemScript.Language.Syntax;

/// <summary>
/// Enumerates the nodes of a script in source order, for passes that look at every statement or
/// expression. It reads only the parts every node declares (its sub-expressions, nested and held
/// statements), so a new statement or declaration needs no change here.
/// </summary>
public static class SyntaxWalker
{
    /// <summary>Every statement, including those nested in <c>repeat</c> bodies and process blocks.</summary>
    public static IEnumerable<Stmt> Statements(Script script)
    {
        foreach (var item in script.Items)
            foreach (var s in Flatten(item.Statements)) yield return s;
    }

    public static IEnumerable<Stmt> Flatten(IEnumerable<Stmt> statements)
    {
        foreach (var s in statements)
        {
            yield return s;
            foreach (var inner in Flatten(s.Nested)) yield return inner;
        }
    }

    /// <summary>The top-level expressions of every item and statement (not their sub-expressions): declarations first, then statements.</summary>
    public static IEnumerable<Expr> Expressions(Script script)
    {
        foreach (var item in script.Items)
            foreach (var e in item.SubExpressions())
                if (e is not null) yield return e;
        foreach (var stmt in Statements(script))
            foreach (var e in Expressions(stmt))
                yield return e;
    }

    public static IEnumerable<Expr> Expressions(Stmt stmt)
    {
        foreach (var e in stmt.SubExpressions()) if (e is not null) yield return e;
    }
}
