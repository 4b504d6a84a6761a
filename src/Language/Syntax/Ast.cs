using System.Collections.Immutable;

namespace MemScript.Language.Syntax;

/// <summary>Any node of the syntax tree; every node knows where it stands in the file.</summary>
public abstract record Node(TextSpan Span);

/// <summary>A name as written, with its own span (process names, constants, loop variables, counters).</summary>
public sealed record Name(string Text, TextSpan Span) : Node(Span);

// ---------------------------------------------------------------- expressions

/// <summary>An integer expression; evaluated as unsigned 64-bit with every overflow an error.</summary>
public abstract record Expr(TextSpan Span) : Node(Span)
{
    /// <summary>The expression as source text, every binary operation parenthesised (for dumps and messages).</summary>
    public abstract string Canonical();
}

/// <summary>An integer literal as written; <see cref="Value"/> is null when the text is not a valid 64-bit literal.</summary>
public sealed record NumberExpr(string Text, ulong? Value, string? Problem, TextSpan Span) : Expr(Span)
{
    public override string Canonical() => Text;
}

/// <summary>A reference to a <c>let</c> constant or a loop variable.</summary>
public sealed record NameExpr(string Name, TextSpan Span) : Expr(Span)
{
    public override string Canonical() => Name;
}

/// <summary>The unary operators: only the complement <c>~</c>.</summary>
public enum UnaryOp { Not }

/// <summary>A unary operation (<c>~x</c>).</summary>
public sealed record UnaryExpr(UnaryOp Op, Expr Operand, TextSpan Span) : Expr(Span)
{
    public override string Canonical() => "~" + Operand.Canonical();
}

/// <summary>The binary operators, loosest binding first within each precedence level.</summary>
public enum BinaryOp { Or, Xor, And, Shl, Shr, Add, Sub, Mul, Div, Mod }

/// <summary>A binary operation.</summary>
public sealed record BinaryExpr(BinaryOp Op, Expr Left, Expr Right, TextSpan Span) : Expr(Span)
{
    public override string Canonical() => $"({Left.Canonical()} {Symbol(Op)} {Right.Canonical()})";

    public static string Symbol(BinaryOp op) => op switch
    {
        BinaryOp.Or => "|", BinaryOp.Xor => "^", BinaryOp.And => "&", BinaryOp.Shl => "<<", BinaryOp.Shr => ">>",
        BinaryOp.Add => "+", BinaryOp.Sub => "-", BinaryOp.Mul => "*", BinaryOp.Div => "/", _ => "%",
    };
}

// ---------------------------------------------------------------- shared pieces

/// <summary>A keyword-valued field as written, with its span, so the checker can point at it.</summary>
public sealed record Word(string Text, TextSpan Span) : Node(Span);

/// <summary>One piece of a label: literal text, or an expression interpolated in decimal.</summary>
public sealed record LabelPart(string? Text, Expr? Expr);

/// <summary>
/// A <c>mark</c> or <c>since</c> label as written: literal text and <c>{EXPR}</c> interpolations, each
/// printed in decimal when the statement executes; <c>{{</c> and <c>}}</c> are literal braces.
/// <see cref="Problem"/> is set when the interpolations could not be read (reported after parsing).
/// </summary>
public sealed record MarkLabel(ImmutableArray<LabelPart> Parts, TextSpan Span, Diagnostics.Diagnostic? Problem = null)
{
    /// <summary>Whether the label has no interpolation: its text is known without evaluating anything.</summary>
    public bool IsLiteral => Parts.All(p => p.Expr is null);

    /// <summary>The label's text when it is literal (braces single, escapes resolved); null otherwise.</summary>
    public string? LiteralText => IsLiteral ? string.Concat(Parts.Select(p => p.Text)) : null;

    /// <summary>The label as a template: literal braces doubled, each interpolation in canonical form.</summary>
    public string Template() => string.Concat(Parts.Select(p => p.Expr is { } e
        ? "{" + e.Canonical() + "}"
        : p.Text!.Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal)));

    /// <summary>The expressions it interpolates, in order.</summary>
    public IEnumerable<Expr> Expressions() => Parts.Where(p => p.Expr is not null).Select(p => p.Expr!);
}

/// <summary>Canonical text of optional clauses, shared by the nodes' <c>Describe</c>.</summary>
internal static class Clause
{
    public static string Of(string label, Expr? e) => e is null ? "" : $" {label} {e.Canonical()}";
    public static string Of(string label, Word? w) => w is null ? "" : $" {label} {w.Text}";
    public static string Kernel(bool kernel) => kernel ? " as kernel" : "";
    public static string Lower(AccessKind kind) => kind.ToString().ToLowerInvariant();
}

// ---------------------------------------------------------------- statements

/// <summary>
/// A statement of a <c>run</c> block or a mapping of a <c>process</c> block. Every pass over statements
/// goes through <see cref="Accept{T}"/>, so a new statement that a pass does not handle is a compile
/// error, not a silent skip; passes that only need a statement's parts (walkers, printers) read
/// <see cref="SubExpressions"/>, <see cref="Nested"/> and <see cref="Describe"/> and need no change.
/// </summary>
public abstract record Stmt(TextSpan Span) : Node(Span)
{
    public abstract T Accept<T>(IStmtVisitor<T> visitor);

    /// <summary>The statement's own expressions in source order (null for an absent optional one), not those of its body.</summary>
    public abstract IEnumerable<Expr?> SubExpressions();

    /// <summary>Statements nested in this one (a <c>repeat</c> body).</summary>
    public virtual ImmutableArray<Stmt> Nested => [];

    /// <summary>The labels the statement holds (<c>mark</c>, <c>since</c>), whose interpolations are checked after parsing.</summary>
    public virtual IEnumerable<MarkLabel> Labels() => [];

    /// <summary>The statement in canonical form, one line, without its body or position.</summary>
    public abstract string Describe();
}

/// <summary>One handler per kind of statement; every pass over statements implements it.</summary>
public interface IStmtVisitor<out T>
{
    T Visit(AccessStmt s);
    T Visit(SweepStmt s);
    T Visit(RandomStmt s);
    T Visit(RepeatStmt s);
    T Visit(SwitchStmt s);
    T Visit(InvlpgStmt s);
    T Visit(FlushTlbStmt s);
    T Visit(MapStmt s);
    T Visit(DemandStmt s);
    T Visit(UnmapStmt s);
    T Visit(ProtectStmt s);
    T Visit(ReplayStmt s);
    T Visit(MarkStmt s);
    T Visit(ExpectStmt s);
    T Visit(LetStmt s);
    T Visit(CollectDirtyStmt s);
}

/// <summary><c>read</c>, <c>write</c> or <c>exec</c> of one address.</summary>
public sealed record AccessStmt(AccessKind Kind, Expr Address, bool Kernel, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Address];
    public override string Describe() => $"{Clause.Lower(Kind)} {Address.Canonical()}{Clause.Kernel(Kernel)}";
}

/// <summary><c>sweep KIND FROM size SIZE stride STRIDE [times N]</c>.</summary>
public sealed record SweepStmt(AccessKind Kind, Expr From, Expr Size, Expr Stride, Expr? Times, bool Kernel, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [From, Size, Stride, Times];
    public override string Describe() =>
        $"sweep {Clause.Lower(Kind)} {From.Canonical()} size {Size.Canonical()} stride {Stride.Canonical()}{Clause.Of("times", Times)}{Clause.Kernel(Kernel)}";
}

/// <summary><c>random KIND COUNT in FROM size SIZE [align A] [seed S]</c>.</summary>
public sealed record RandomStmt(AccessKind Kind, Expr Count, Expr From, Expr Size, Expr? Align, Expr? Seed, bool Kernel, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Count, From, Size, Align, Seed];
    public override string Describe() =>
        $"random {Clause.Lower(Kind)} {Count.Canonical()} in {From.Canonical()} size {Size.Canonical()}{Clause.Of("align", Align)}{Clause.Of("seed", Seed)}{Clause.Kernel(Kernel)}";
}

/// <summary><c>repeat COUNT [as VAR] { ... }</c>.</summary>
public sealed record RepeatStmt(Expr Count, Name? Variable, ImmutableArray<Stmt> Body, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Count];
    public override ImmutableArray<Stmt> Nested => Body;
    public override string Describe() => $"repeat {Count.Canonical()}{(Variable is null ? "" : " as " + Variable.Text)}";
}

/// <summary><c>switch NAME</c>: a context switch.</summary>
public sealed record SwitchStmt(Name Process, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [];
    public override string Describe() => $"switch {Process.Text}";
}

/// <summary><c>invlpg ADDRESS</c>.</summary>
public sealed record InvlpgStmt(Expr Address, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Address];
    public override string Describe() => $"invlpg {Address.Canonical()}";
}

/// <summary><c>flush tlb</c>.</summary>
public sealed record FlushTlbStmt(TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [];
    public override string Describe() => "flush tlb";
}

/// <summary><c>map GVA [size S] [page P] to GPA PERMS</c>; <see cref="Page"/> (an expression worth 4K, 2M or 1G) is null when not written (4K).</summary>
public sealed record MapStmt(Expr Gva, Expr? Size, Expr? Page, Expr Gpa, Perms Perms, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Gva, Size, Page, Gpa];
    public override string Describe() => $"map {Gva.Canonical()}{Clause.Of("size", Size)}{Clause.Of("page", Page)} to {Gpa.Canonical()} {Perms}";
}

/// <summary><c>demand GVA size S [page P] PERMS</c>, or <c>demand all PERMS</c> when <see cref="Gva"/> is null.</summary>
public sealed record DemandStmt(Expr? Gva, Expr? Size, Expr? Page, Perms Perms, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Gva, Size, Page];
    public override string Describe() => $"demand {(Gva is null ? "all" : Gva.Canonical())}{Clause.Of("size", Size)}{Clause.Of("page", Page)} {Perms}";
}

/// <summary><c>unmap GVA [size S]</c> (run blocks only).</summary>
public sealed record UnmapStmt(Expr Gva, Expr? Size, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Gva, Size];
    public override string Describe() => $"unmap {Gva.Canonical()}{Clause.Of("size", Size)}";
}

/// <summary><c>protect GVA [size S] PERMS</c> (run blocks only).</summary>
public sealed record ProtectStmt(Expr Gva, Expr? Size, Perms Perms, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Gva, Size];
    public override string Describe() => $"protect {Gva.Canonical()}{Clause.Of("size", Size)} {Perms}";
}

/// <summary><c>replay "FILE" [format F]</c>.</summary>
public sealed record ReplayStmt(string Path, TextSpan PathSpan, Word? Format, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [];
    public override string Describe() => $"replay \"{Path}\"{Clause.Of("format", Format)}";
}

/// <summary><c>mark "LABEL"</c>.</summary>
public sealed record MarkStmt(MarkLabel Label, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => Label.Expressions();
    public override IEnumerable<MarkLabel> Labels() => [Label];
    public override string Describe() => $"mark \"{Label.Template()}\"";
}

/// <summary>The comparison operators of <c>expect</c>.</summary>
public enum CompareOp { Eq, Ne, Lt, Le, Gt, Ge }

/// <summary><c>expect COUNTER OP EXPR [since "LABEL"] [in MODE...]</c>; with <c>since</c> the counter's change since that mark.</summary>
public sealed record ExpectStmt(Name Counter, CompareOp Op, Expr Value, MarkLabel? Since, ImmutableArray<Word> Modes, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => Since is null ? [Value] : [Value, .. Since.Expressions()];
    public override IEnumerable<MarkLabel> Labels() => Since is null ? [] : [Since];
    public override string Describe() =>
        $"expect {Counter.Text} {AstPrinter.CompareText(Op)} {Value.Canonical()}" + (Since is null ? "" : $" since \"{Since.Template()}\"")
        + (Modes.IsEmpty ? "" : " in " + string.Join(" ", Modes.Select(m => m.Text)));
}

/// <summary><c>let NAME = EXPR</c>, at the top level or inside a block.</summary>
public sealed record LetStmt(Name Name, Expr Value, TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Value];
    public override string Describe() => $"let {Name.Text} = {Value.Canonical()}";
}

/// <summary><c>collect dirty</c>: the VMM reads and clears the dirty log of every <c>dirty-log</c> slot.</summary>
public sealed record CollectDirtyStmt(TextSpan Span) : Stmt(Span)
{
    public override T Accept<T>(IStmtVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [];
    public override string Describe() => "collect dirty";
}

// ---------------------------------------------------------------- top level

/// <summary>
/// A top-level item: a declaration, a <c>let</c>, a process or a run block. As with statements, every
/// pass dispatches through <see cref="Accept{T}"/>; walkers and printers read the parts.
/// </summary>
public abstract record Item(TextSpan Span) : Node(Span)
{
    public abstract T Accept<T>(IItemVisitor<T> visitor);

    /// <summary>The declaration's own expressions in source order (null for an absent optional one).</summary>
    public virtual IEnumerable<Expr?> SubExpressions() => [];

    /// <summary>The statements the item holds: a process's mappings, a run block's body, a top-level <c>let</c>.</summary>
    public virtual ImmutableArray<Stmt> Statements => [];

    /// <summary>The item in canonical form, one line, without its statements or position (null: print its statements only).</summary>
    public abstract string? Describe();
}

/// <summary>One handler per kind of top-level item; every pass over items implements it.</summary>
public interface IItemVisitor<out T>
{
    T Visit(MmuDecl d);
    T Visit(PagingDecl d);
    T Visit(TlbDecl d);
    T Visit(PwcDecl d);
    T Visit(TaggingDecl d);
    T Visit(CostDecl d);
    T Visit(ClockDecl d);
    T Visit(SlotDecl d);
    T Visit(ProcessDecl d);
    T Visit(LetItem d);
    T Visit(RunBlock d);
    T Visit(ProfileDecl d);
    T Visit(Tlb1GDecl d);
    T Visit(ShadowUnsyncDecl d);
    T Visit(ShadowPrefetchDecl d);
    T Visit(ShadowFloodDecl d);
    T Visit(EptAdDecl d);
    T Visit(DirtyTrackDecl d);
}

/// <summary><c>profile classic</c> or <c>profile modern</c>.</summary>
public sealed record ProfileDecl(Word Profile, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override string Describe() => $"profile {Profile.Text}";
}

/// <summary><c>tlb1g ENTRIES [ways WAYS]</c>, or <c>tlb1g off</c> when <see cref="Entries"/> is null.</summary>
public sealed record Tlb1GDecl(Expr? Entries, Expr? Ways, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Entries, Ways];
    public override string Describe() => Entries is null ? "tlb1g off" : $"tlb1g {Entries.Canonical()}{Clause.Of("ways", Ways)}";
}

/// <summary><c>shadow unsync on/off</c>.</summary>
public sealed record ShadowUnsyncDecl(bool On, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override string Describe() => $"shadow unsync {(On ? "on" : "off")}";
}

/// <summary><c>shadow prefetch N</c>.</summary>
public sealed record ShadowPrefetchDecl(Expr Value, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Value];
    public override string Describe() => $"shadow prefetch {Value.Canonical()}";
}

/// <summary><c>shadow flood N</c>.</summary>
public sealed record ShadowFloodDecl(Expr Value, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Value];
    public override string Describe() => $"shadow flood {Value.Canonical()}";
}

/// <summary><c>eptad on/off</c>.</summary>
public sealed record EptAdDecl(bool On, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override string Describe() => $"eptad {(On ? "on" : "off")}";
}

/// <summary><c>dirty-track pml/wp/free</c>.</summary>
public sealed record DirtyTrackDecl(Word Method, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override string Describe() => $"dirty-track {Method.Text}";
}

/// <summary><c>mmu MODE</c>.</summary>
public sealed record MmuDecl(Word Mode, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override string Describe() => $"mmu {Mode.Text}";
}

/// <summary><c>guest paging N-level</c> or <c>host paging N-level</c>.</summary>
public sealed record PagingDecl(bool Guest, Word Levels, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override string Describe() => $"{(Guest ? "guest" : "host")} paging {Levels.Text}";
}

/// <summary><c>tlb ENTRIES [ways WAYS]</c>.</summary>
public sealed record TlbDecl(Expr Entries, Expr? Ways, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Entries, Ways];
    public override string Describe() => $"tlb {Entries.Canonical()}{Clause.Of("ways", Ways)}";
}

/// <summary><c>pwc on [ENTRIES]</c> or <c>pwc off</c>.</summary>
public sealed record PwcDecl(bool On, Expr? Entries, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Entries];
    public override string Describe() => $"pwc {(On ? "on" : "off")}{Clause.Of("entries", Entries)}";
}

/// <summary><c>vpid on/off</c> or <c>pcid on/off</c>.</summary>
public sealed record TaggingDecl(Word Feature, bool On, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override string Describe() => $"{Feature.Text} {(On ? "on" : "off")}";
}

/// <summary><c>cost NAME VALUE</c>.</summary>
public sealed record CostDecl(Name Cost, Expr Value, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Value];
    public override string Describe() => $"cost {Cost.Text} {Value.Canonical()}";
}

/// <summary><c>clock FREQ</c>; <see cref="Hertz"/> is null when the literal is not a valid frequency, and <see cref="Problem"/> says why.</summary>
public sealed record ClockDecl(string Text, ulong? Hertz, string? Problem, TextSpan ValueSpan, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override string Describe() => $"clock {Text} = {Hertz} Hz";
}

/// <summary>A memslot; <see cref="GpaClause"/> spans <c>gpa ADDR</c>, where overlap errors point; <see cref="Backing"/> is an expression worth 4K, 2M or 1G.</summary>
public sealed record SlotDecl(Expr Id, Expr Gpa, TextSpan GpaClause, Expr Size, Expr Hva, Expr? Backing, bool Readonly, bool DirtyLog, bool Prealloc, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override IEnumerable<Expr?> SubExpressions() => [Id, Gpa, Size, Hva, Backing];
    public override string Describe() =>
        $"slot {Id.Canonical()} gpa {Gpa.Canonical()} size {Size.Canonical()} hva {Hva.Canonical()}"
        + Clause.Of("backing", Backing) + (Readonly ? " readonly" : "") + (DirtyLog ? " dirty-log" : "") + (Prealloc ? " prealloc" : "");
}

/// <summary><c>process NAME { MAPPING... }</c>.</summary>
public sealed record ProcessDecl(Name Name, ImmutableArray<Stmt> Mappings, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override ImmutableArray<Stmt> Statements => Mappings;
    public override string Describe() => $"process {Name.Text}";
}

/// <summary>A top-level <c>let</c>: a parameter that <c>--set</c> can replace.</summary>
public sealed record LetItem(LetStmt Let) : Item(Let.Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override ImmutableArray<Stmt> Statements => [Let];
    public override string? Describe() => null;
}

/// <summary><c>run NAME { STATEMENT... }</c>.</summary>
public sealed record RunBlock(Name Process, ImmutableArray<Stmt> Body, TextSpan Span) : Item(Span)
{
    public override T Accept<T>(IItemVisitor<T> visitor) => visitor.Visit(this);
    public override ImmutableArray<Stmt> Statements => Body;
    public override string Describe() => $"run {Process.Text}";
}

/// <summary>A whole parsed file.</summary>
public sealed record Script(ImmutableArray<Item> Items, TextSpan Span) : Node(Span);
