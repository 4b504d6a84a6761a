namespace MemScript.Language.Syntax;

/// <summary>Enumerates the nodes of a script in source order, for passes that look at every statement or expression.</summary>
public static class SyntaxWalker
{
    /// <summary>Every statement, including those nested in <c>repeat</c> bodies and process blocks.</summary>
    public static IEnumerable<Stmt> Statements(Script script)
    {
        foreach (var item in script.Items)
        {
            var body = item switch
            {
                ProcessDecl p => p.Mappings,
                RunBlock r => r.Body,
                LetItem l => [l.Let],
                _ => [],
            };
            foreach (var s in Flatten(body)) yield return s;
        }
    }

    public static IEnumerable<Stmt> Flatten(IEnumerable<Stmt> statements)
    {
        foreach (var s in statements)
        {
            yield return s;
            if (s is RepeatStmt r)
                foreach (var inner in Flatten(r.Body)) yield return inner;
        }
    }

    /// <summary>The top-level expressions of every item and statement (not their sub-expressions).</summary>
    public static IEnumerable<Expr> Expressions(Script script)
    {
        foreach (var item in script.Items)
        {
            switch (item)
            {
                case TlbDecl t: yield return t.Entries; if (t.Ways is not null) yield return t.Ways; break;
                case PwcDecl { Entries: { } e }: yield return e; break;
                case CostDecl c: yield return c.Value; break;
                case SlotDecl s: yield return s.Id; yield return s.Gpa; yield return s.Size; yield return s.Hva; break;
            }
        }
        foreach (var stmt in Statements(script))
            foreach (var e in Expressions(stmt))
                yield return e;
    }

    public static IEnumerable<Expr> Expressions(Stmt stmt)
    {
        Expr?[] list = stmt switch
        {
            AccessStmt a => [a.Address],
            SweepStmt s => [s.From, s.Size, s.Stride, s.Times],
            RandomStmt r => [r.Count, r.From, r.Size, r.Align, r.Seed],
            RepeatStmt r => [r.Count],
            InvlpgStmt i => [i.Address],
            MapStmt m => [m.Gva, m.Size, m.Gpa],
            DemandStmt d => [d.Gva, d.Size],
            UnmapStmt u => [u.Gva, u.Size],
            ProtectStmt p => [p.Gva, p.Size],
            ExpectStmt e => [e.Value],
            LetStmt l => [l.Value],
            _ => [],
        };
        foreach (var e in list) if (e is not null) yield return e;
    }
}
