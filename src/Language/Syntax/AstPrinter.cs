using System.Text;

namespace MemScript.Language.Syntax;

/// <summary>Prints a syntax tree as indented text with line:column positions; the expected output of syntax tests.</summary>
public static class AstPrinter
{
    public static string Print(Script script, SourceText source)
    {
        var sb = new StringBuilder();
        foreach (var item in script.Items) PrintItem(sb, item, source);
        return sb.ToString();
    }

    public static string ExprText(Expr expr) => expr switch
    {
        NumberExpr n => n.Text,
        NameExpr n => n.Name,
        UnaryExpr u => "~" + ExprText(u.Operand),
        BinaryExpr b => $"({ExprText(b.Left)} {OpText(b.Op)} {ExprText(b.Right)})",
        _ => "?",
    };

    private static string OpText(BinaryOp op) => op switch
    {
        BinaryOp.Or => "|", BinaryOp.Xor => "^", BinaryOp.And => "&", BinaryOp.Shl => "<<", BinaryOp.Shr => ">>",
        BinaryOp.Add => "+", BinaryOp.Sub => "-", BinaryOp.Mul => "*", BinaryOp.Div => "/", _ => "%",
    };

    private static string At(TextSpan span, SourceText source)
    {
        var (l1, c1) = source.GetLineColumn(span.Start);
        var (l2, c2) = source.GetLineColumn(span.End);
        return $"@{l1}:{c1}-{l2}:{c2}";
    }

    private static string Opt(string label, Expr? e) => e is null ? "" : $" {label} {ExprText(e)}";
    private static string Opt(string label, Word? w) => w is null ? "" : $" {label} {w.Text}";

    private static void PrintItem(StringBuilder sb, Item item, SourceText source)
    {
        var at = At(item.Span, source);
        switch (item)
        {
            case MmuDecl m: sb.AppendLine($"mmu {m.Mode.Text} {at}"); break;
            case PagingDecl p: sb.AppendLine($"{(p.Guest ? "guest" : "host")} paging {p.Levels.Text} {at}"); break;
            case TlbDecl t: sb.AppendLine($"tlb {ExprText(t.Entries)}{Opt("ways", t.Ways)} {at}"); break;
            case PwcDecl p: sb.AppendLine($"pwc {(p.On ? "on" : "off")}{Opt("entries", p.Entries)} {at}"); break;
            case TaggingDecl t: sb.AppendLine($"{t.Feature.Text} {(t.On ? "on" : "off")} {at}"); break;
            case CostDecl c: sb.AppendLine($"cost {c.Cost.Text} {ExprText(c.Value)} {at}"); break;
            case ClockDecl c: sb.AppendLine($"clock {c.Text} = {c.Hertz} Hz {at}"); break;
            case SlotDecl s:
                sb.AppendLine($"slot {ExprText(s.Id)} gpa {ExprText(s.Gpa)} size {ExprText(s.Size)} hva {ExprText(s.Hva)}"
                    + Opt("backing", s.Backing) + (s.Readonly ? " readonly" : "") + (s.DirtyLog ? " dirty-log" : "") + $" {at}");
                break;
            case ProcessDecl p:
                sb.AppendLine($"process {p.Name.Text} {at}");
                foreach (var m in p.Mappings) PrintStmt(sb, m, source, 1);
                break;
            case LetItem l: PrintStmt(sb, l.Let, source, 0); break;
            case RunBlock r:
                sb.AppendLine($"run {r.Process.Text} {at}");
                foreach (var s in r.Body) PrintStmt(sb, s, source, 1);
                break;
        }
    }

    private static void PrintStmt(StringBuilder sb, Stmt stmt, SourceText source, int depth)
    {
        sb.Append(' ', depth * 2);
        var at = At(stmt.Span, source);
        var kernel = stmt switch { AccessStmt { Kernel: true } or SweepStmt { Kernel: true } or RandomStmt { Kernel: true } => " as kernel", _ => "" };
        switch (stmt)
        {
            case AccessStmt a: sb.AppendLine($"{Lower(a.Kind)} {ExprText(a.Address)}{kernel} {at}"); break;
            case SweepStmt s: sb.AppendLine($"sweep {Lower(s.Kind)} {ExprText(s.From)} size {ExprText(s.Size)} stride {ExprText(s.Stride)}{Opt("times", s.Times)}{kernel} {at}"); break;
            case RandomStmt r: sb.AppendLine($"random {Lower(r.Kind)} {ExprText(r.Count)} in {ExprText(r.From)} size {ExprText(r.Size)}{Opt("align", r.Align)}{Opt("seed", r.Seed)}{kernel} {at}"); break;
            case RepeatStmt r:
                sb.AppendLine($"repeat {ExprText(r.Count)}{(r.Variable is null ? "" : " as " + r.Variable.Text)} {at}");
                foreach (var s in r.Body) PrintStmt(sb, s, source, depth + 1);
                break;
            case SwitchStmt s: sb.AppendLine($"switch {s.Process.Text} {at}"); break;
            case InvlpgStmt i: sb.AppendLine($"invlpg {ExprText(i.Address)} {at}"); break;
            case FlushTlbStmt: sb.AppendLine($"flush tlb {at}"); break;
            case MapStmt m: sb.AppendLine($"map {ExprText(m.Gva)}{Opt("size", m.Size)}{Opt("page", m.Page)} to {ExprText(m.Gpa)} {m.Perms} {at}"); break;
            case DemandStmt d: sb.AppendLine($"demand {(d.Gva is null ? "all" : ExprText(d.Gva))}{Opt("size", d.Size)}{Opt("page", d.Page)} {d.Perms} {at}"); break;
            case UnmapStmt u: sb.AppendLine($"unmap {ExprText(u.Gva)}{Opt("size", u.Size)} {at}"); break;
            case ProtectStmt p: sb.AppendLine($"protect {ExprText(p.Gva)}{Opt("size", p.Size)} {p.Perms} {at}"); break;
            case ReplayStmt r: sb.AppendLine($"replay \"{r.Path}\"{Opt("format", r.Format)} {at}"); break;
            case MarkStmt m: sb.AppendLine($"mark \"{m.Label}\" {at}"); break;
            case ExpectStmt e:
                sb.AppendLine($"expect {e.Counter.Text} {CompareText(e.Op)} {ExprText(e.Value)}" + (e.Since is null ? "" : $" since \"{e.Since.Text}\"") + (e.Modes.IsEmpty ? "" : " in " + string.Join(" ", e.Modes.Select(m => m.Text))) + $" {at}");
                break;
            case LetStmt l: sb.AppendLine($"let {l.Name.Text} = {ExprText(l.Value)} {at}"); break;
        }
    }

    public static string CompareText(CompareOp op) => op switch
    {
        CompareOp.Eq => "==", CompareOp.Ne => "!=", CompareOp.Lt => "<", CompareOp.Le => "<=", CompareOp.Gt => ">", _ => ">=",
    };

    private static string Lower(AccessKind kind) => kind.ToString().ToLowerInvariant();
}
