using System.Text;

namespace MemScript.Language.Syntax;

/// <summary>
/// Prints a syntax tree as indented text with line:column positions; the expected output of syntax
/// tests. Each node gives its own canonical line (<c>Describe</c>), so this printer does not change
/// when a statement or declaration is added.
/// </summary>
public static class AstPrinter
{
    public static string Print(Script script, SourceText source)
    {
        var sb = new StringBuilder();
        foreach (var item in script.Items)
        {
            var line = item.Describe();
            if (line is not null) sb.AppendLine($"{line} {At(item.Span, source)}");
            foreach (var s in item.Statements) PrintStmt(sb, s, source, line is null ? 0 : 1);
        }
        return sb.ToString();
    }

    public static string ExprText(Expr expr) => expr.Canonical();

    private static string At(TextSpan span, SourceText source)
    {
        var (l1, c1) = source.GetLineColumn(span.Start);
        var (l2, c2) = source.GetLineColumn(span.End);
        return $"@{l1}:{c1}-{l2}:{c2}";
    }

    private static void PrintStmt(StringBuilder sb, Stmt stmt, SourceText source, int depth)
    {
        sb.Append(' ', depth * 2).AppendLine($"{stmt.Describe()} {At(stmt.Span, source)}");
        foreach (var s in stmt.Nested) PrintStmt(sb, s, source, depth + 1);
    }

    public static string CompareText(CompareOp op) => op switch
    {
        CompareOp.Eq => "==", CompareOp.Ne => "!=", CompareOp.Lt => "<", CompareOp.Le => "<=", CompareOp.Gt => ">", _ => ">=",
    };
}
