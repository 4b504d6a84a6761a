using System.Collections.Immutable;

namespace MemScript.Language.Syntax;

/// <summary>Any node of the syntax tree; every node knows where it stands in the file.</summary>
public abstract record Node(TextSpan Span);

/// <summary>A name as written, with its own span (process names, constants, loop variables, counters).</summary>
public sealed record Name(string Text, TextSpan Span) : Node(Span);

// ---------------------------------------------------------------- expressions

/// <summary>An integer expression; evaluated as unsigned 64-bit with every overflow an error.</summary>
public abstract record Expr(TextSpan Span) : Node(Span);

/// <summary>An integer literal as written; <see cref="Value"/> is null when the text is not a valid 64-bit literal.</summary>
public sealed record NumberExpr(string Text, ulong? Value, string? Problem, TextSpan Span) : Expr(Span);

/// <summary>A reference to a <c>let</c> constant or a loop variable.</summary>
public sealed record NameExpr(string Name, TextSpan Span) : Expr(Span);

public enum UnaryOp { Not }

public sealed record UnaryExpr(UnaryOp Op, Expr Operand, TextSpan Span) : Expr(Span);

public enum BinaryOp { Or, Xor, And, Shl, Shr, Add, Sub, Mul, Div, Mod }

public sealed record BinaryExpr(BinaryOp Op, Expr Left, Expr Right, TextSpan Span) : Expr(Span);

// ---------------------------------------------------------------- shared pieces

/// <summary>A keyword-valued field as written, with its span, so the checker can point at it.</summary>
public sealed record Word(string Text, TextSpan Span) : Node(Span);

// ---------------------------------------------------------------- statements

/// <summary>A statement of a <c>run</c> block or a mapping of a <c>process</c> block.</summary>
public abstract record Stmt(TextSpan Span) : Node(Span);

public sealed record AccessStmt(AccessKind Kind, Expr Address, bool Kernel, TextSpan Span) : Stmt(Span);

public sealed record SweepStmt(AccessKind Kind, Expr From, Expr Size, Expr Stride, Expr? Times, bool Kernel, TextSpan Span) : Stmt(Span);

public sealed record RandomStmt(AccessKind Kind, Expr Count, Expr From, Expr Size, Expr? Align, Expr? Seed, bool Kernel, TextSpan Span) : Stmt(Span);

public sealed record RepeatStmt(Expr Count, Name? Variable, ImmutableArray<Stmt> Body, TextSpan Span) : Stmt(Span);

public sealed record SwitchStmt(Name Process, TextSpan Span) : Stmt(Span);

public sealed record InvlpgStmt(Expr Address, TextSpan Span) : Stmt(Span);

public sealed record FlushTlbStmt(TextSpan Span) : Stmt(Span);

/// <summary><c>map GVA [size S] [page P] to GPA PERMS</c>; <see cref="Page"/> is null when not written (4K).</summary>
public sealed record MapStmt(Expr Gva, Expr? Size, Word? Page, Expr Gpa, Perms Perms, TextSpan Span) : Stmt(Span);

/// <summary><c>demand GVA size S [page P] PERMS</c>, or <c>demand all PERMS</c> when <see cref="Gva"/> is null.</summary>
public sealed record DemandStmt(Expr? Gva, Expr? Size, Word? Page, Perms Perms, TextSpan Span) : Stmt(Span);

public sealed record UnmapStmt(Expr Gva, Expr? Size, TextSpan Span) : Stmt(Span);

public sealed record ProtectStmt(Expr Gva, Expr? Size, Perms Perms, TextSpan Span) : Stmt(Span);

public sealed record ReplayStmt(string Path, TextSpan PathSpan, Word? Format, TextSpan Span) : Stmt(Span);

public sealed record MarkStmt(string Label, TextSpan Span) : Stmt(Span);

public enum CompareOp { Eq, Ne, Lt, Le, Gt, Ge }

/// <summary><c>expect COUNTER OP EXPR [since "LABEL"] [in MODE...]</c>; with <c>since</c> the counter's change since that mark.</summary>
public sealed record ExpectStmt(Name Counter, CompareOp Op, Expr Value, Word? Since, ImmutableArray<Word> Modes, TextSpan Span) : Stmt(Span);

/// <summary><c>let NAME = EXPR</c>, at the top level or inside a block.</summary>
public sealed record LetStmt(Name Name, Expr Value, TextSpan Span) : Stmt(Span);

// ---------------------------------------------------------------- top level

/// <summary>A top-level item: a declaration, a <c>let</c>, a process or a run block.</summary>
public abstract record Item(TextSpan Span) : Node(Span);

public sealed record MmuDecl(Word Mode, TextSpan Span) : Item(Span);

/// <summary><c>guest paging N-level</c> or <c>host paging N-level</c>.</summary>
public sealed record PagingDecl(bool Guest, Word Levels, TextSpan Span) : Item(Span);

public sealed record TlbDecl(Expr Entries, Expr? Ways, TextSpan Span) : Item(Span);

public sealed record PwcDecl(bool On, Expr? Entries, TextSpan Span) : Item(Span);

/// <summary><c>vpid on/off</c> or <c>pcid on/off</c>.</summary>
public sealed record TaggingDecl(Word Feature, bool On, TextSpan Span) : Item(Span);

public sealed record CostDecl(Name Cost, Expr Value, TextSpan Span) : Item(Span);

/// <summary><c>clock FREQ</c>; <see cref="Hertz"/> is null when the literal is not a valid frequency.</summary>
public sealed record ClockDecl(string Text, ulong? Hertz, TextSpan ValueSpan, TextSpan Span) : Item(Span);

/// <summary>A memslot; <see cref="GpaClause"/> spans <c>gpa ADDR</c>, where overlap errors point.</summary>
public sealed record SlotDecl(Expr Id, Expr Gpa, TextSpan GpaClause, Expr Size, Expr Hva, Word? Backing, bool Readonly, bool DirtyLog, TextSpan Span) : Item(Span);

public sealed record ProcessDecl(Name Name, ImmutableArray<Stmt> Mappings, TextSpan Span) : Item(Span);

public sealed record LetItem(LetStmt Let) : Item(Let.Span);

public sealed record RunBlock(Name Process, ImmutableArray<Stmt> Body, TextSpan Span) : Item(Span);

/// <summary>A whole parsed file.</summary>
public sealed record Script(ImmutableArray<Item> Items, TextSpan Span) : Node(Span);
