using System.Collections.Immutable;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;
using Pidgin;
using static Pidgin.Parser;
using static Pidgin.Parser<char>;

namespace MemScript.Language.Parsing;

/// <summary>The result of parsing: the tree when the syntax is valid, and every diagnostic found.</summary>
public sealed record ParseResult(Script? Script, ImmutableArray<Diagnostic> Diagnostics)
{
    public bool Success => Script is not null && !Diagnostics.Any(d => d.IsError);
}

/// <summary>
/// The MemScript grammar (LANGUAGE.md) as one static Pidgin parser. Every token skips the trivia that
/// follows it; keywords are wrapped in Try so that alternatives backtrack without consuming input.
/// </summary>
public static class ScriptParser
{
    /// <summary>Deepest nesting of parentheses, blocks or operators accepted; deeper input is a diagnostic, not a stack overflow.</summary>
    public const int MaxNesting = 64;

    /// <summary>
    /// The words each labelled alternative stands for ("mode (native, ...)" -> native, ...), filled as
    /// the parsers below are built, so a syntax error can suggest the nearest word it expected.
    /// Declared first: static fields initialise in textual order.
    /// </summary>
    private static readonly Dictionary<string, string[]> LabelWords = new(StringComparer.Ordinal)
    {
        ["declaration, run block or end of file"] = [.. Keywords.Beginning(KeywordPlace.TopLevel)],
        ["statement or '}'"] = [.. Keywords.Beginning(KeywordPlace.RunBlock)],
        ["mapping (map or demand) or '}'"] = [.. Keywords.Beginning(KeywordPlace.ProcessBlock)],
    };

    // ------------------------------------------------------------ trivia and tokens

    private static readonly Parser<char, Unit> Comment =
        Char('#').Then(AnyCharExcept('\n').SkipMany());

    private static readonly Parser<char, Unit> Trivia =
        SkipWhitespaces.Then(Comment.Then(SkipWhitespaces).SkipMany());

    private static bool IsIdentStart(char c) => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or '_';
    private static bool IsIdentChar(char c) => IsIdentStart(c) || c is >= '0' and <= '9';
    private static bool IsWordChar(char c) => IsIdentChar(c) || c is '-' or '.';

    private static readonly Parser<char, char> IdentChar = Token(IsIdentChar);

    private static Parser<char, T> Tok<T>(Parser<char, T> token) => token.Before(Trivia);

    private static Parser<char, (T Value, TextSpan Span)> Spanned<T>(Parser<char, T> parser) =>
        Map((start, value, end) => (value, new TextSpan(start, end)), CurrentOffset, parser, CurrentOffset);

    /// <summary>A keyword: the exact word, not followed by a name character; yields its span.</summary>
    private static Parser<char, TextSpan> Kw(string word) =>
        Tok(Spanned(Try(String(word).Before(Not(IdentChar)))).Select(t => t.Span)).Labelled($"'{word}'");

    private static Parser<char, TextSpan> Sym(string symbol) =>
        Tok(Spanned(Try(String(symbol))).Select(t => t.Span)).Labelled($"'{symbol}'");

    /// <summary>One of several keywords, as a <see cref="Word"/> node.</summary>
    private static Parser<char, Word> OneOfWords(string label, params string[] words)
    {
        LabelWords[label] = words;
        return OneOf(words.Select(w => Kw(w).Select(span => new Word(w, span)))).Labelled(label);
    }

    private static readonly Parser<char, (bool On, TextSpan Span)> OnOff =
        Kw("on").Select(s => (true, s)).Or(Kw("off").Select(s => (false, s)));

    /// <summary>A word as it begins an item: letters, digits, '_' and '-' (<c>dirty-track</c>).</summary>
    private static readonly Parser<char, string> LeadingWord =
        Map((first, rest) => first + rest, Token(IsIdentStart), Token(c => IsIdentChar(c) || c == '-').ManyString());

    private static readonly Parser<char, string> IdentText =
        Map((first, rest) => first + rest, Token(IsIdentStart), IdentChar.ManyString());

    // Keywords are not reserved (LANGUAGE.md reserves none): a name only stands where an expression or
    // a process is expected, and an expression ends at the first word that is not an operator, so
    // 'sweep read base size size stride 64' reads unambiguously.
    private static readonly Parser<char, Name> Identifier =
        Tok(Spanned(IdentText))
            .Select(t => new Name(t.Value, t.Span))
            .Labelled("name");

    /// <summary>A counter or cost name: letters, digits, '_', '-' and '.' (e.g. <c>pages.guest-pt</c>, <c>vm-exit</c>).</summary>
    private static readonly Parser<char, Name> DottedWord =
        Tok(Spanned(Map((first, rest) => first + rest, Token(IsIdentStart), Token(IsWordChar).ManyString())))
            .Select(t => new Name(t.Value, t.Span));

    private static readonly Parser<char, Expr> Number =
        Tok(Spanned(Map((first, rest) => first + rest, Digit, IdentChar.ManyString())))
            .Select(t =>
            {
                var (value, problem, overflow) = Literals.DecodeInteger(t.Value);
                return (Expr)new NumberExpr(t.Value, value, overflow ? "overflow" : problem, t.Span);
            })
            .Labelled("number");

    private static readonly Parser<char, char> EscapedChar =
        Char('\\').Then(OneOf(Char('"'), Char('\\'))).Labelled("escape \\\" or \\\\");

    private static readonly Parser<char, (string Value, TextSpan Span)> StringLiteral =
        Tok(Spanned(AnyCharExcept('"', '\\', '\n', '\r').Or(EscapedChar).ManyString()
                .Between(Char('"').Labelled("string"), Char('"').Labelled("closing '\"'"))));

    /// <summary>A string as written between its quotes (escapes kept), with the span of the whole literal.</summary>
    private static readonly Parser<char, (string Raw, TextSpan Span)> RawStringLiteral =
        Tok(Spanned(AnyCharExcept('"', '\\', '\n', '\r').Select(c => c.ToString())
                .Or(EscapedChar.Select(c => "\\" + c))
                .Many().Select(string.Concat)
                .Between(Char('"').Labelled("string"), Char('"').Labelled("closing '\"'"))));

    /// <summary>A mark or since label: a string whose <c>{EXPR}</c> parts are interpolations.</summary>
    private static readonly Parser<char, MarkLabel> Label =
        RawStringLiteral.Select(s => LabelInterpolation.Read(s.Raw, s.Span.Start + 1, s.Span));

    // ------------------------------------------------------------ expressions

    // Expressions are parsed flat (a term, then operator-term pairs) and the tree is built by precedence
    // climbing. Pidgin's ExpressionParser.Build nests one parser per precedence level and tries every
    // level's operators at each term boundary: measured at about 3 us per expression, which put a
    // 100,000-line file over a second. Here one operator token is tried per boundary.
    private static readonly Parser<char, Func<Expr, Expr>> Complement =
        Sym("~").Select<Func<Expr, Expr>>(span => e => new UnaryExpr(UnaryOp.Not, e, TextSpan.Between(span, e.Span)));

    private static Parser<char, T> Parenthesised<T>(Parser<char, T> parser) => parser.Between(Sym("("), Sym(")"));

    private static readonly Parser<char, BinaryOp> BinaryOperator =
        Tok(Token(c => c is '|' or '^' or '&' or '+' or '-' or '*' or '/' or '%').Select(c => c switch
            {
                '|' => BinaryOp.Or, '^' => BinaryOp.Xor, '&' => BinaryOp.And, '+' => BinaryOp.Add, '-' => BinaryOp.Sub,
                '*' => BinaryOp.Mul, '/' => BinaryOp.Div, _ => BinaryOp.Mod,
            })
            .Or(Try(String("<<")).ThenReturn(BinaryOp.Shl))
            .Or(Try(String(">>")).ThenReturn(BinaryOp.Shr)));

    /// <summary>Binding strength, loosest first: | ^ & (shifts) (+ -) (* / %), as LANGUAGE.md orders them.</summary>
    private static int Precedence(BinaryOp op) => op switch
    {
        BinaryOp.Or => 1, BinaryOp.Xor => 2, BinaryOp.And => 3, BinaryOp.Shl or BinaryOp.Shr => 4,
        BinaryOp.Add or BinaryOp.Sub => 5, _ => 6,
    };

    /// <summary>Builds the left-associative tree of a flat term list by precedence climbing with explicit stacks.</summary>
    private static Expr Climb(Expr first, IEnumerable<(BinaryOp Op, Expr Term)> rest)
    {
        var operands = new Stack<Expr>();
        var operators = new Stack<BinaryOp>();
        operands.Push(first);
        void Reduce()
        {
            var right = operands.Pop();
            var left = operands.Pop();
            operands.Push(new BinaryExpr(operators.Pop(), left, right, TextSpan.Between(left.Span, right.Span)));
        }
        foreach (var (op, term) in rest)
        {
            while (operators.Count > 0 && Precedence(operators.Peek()) >= Precedence(op)) Reduce();
            operators.Push(op);
            operands.Push(term);
        }
        while (operators.Count > 0) Reduce();
        return operands.Pop();
    }

    private static readonly Parser<char, Expr> Term =
        Map((prefixes, term) => prefixes.Reverse().Aggregate(term, (e, f) => f(e)),
            Complement.Many(),
            OneOf(
                Number,
                Identifier.Select(n => (Expr)new NameExpr(n.Text, n.Span)),
                Parenthesised(Rec(() => Expression!))).Labelled("expression"));

    private static readonly Parser<char, Expr> Expression =
        Map(Climb, Term, Map((op, term) => (op, term), BinaryOperator, Term).Many());

    /// <summary>
    /// An expression that may be absent, where the item could end instead (<c>pwc on [ENTRIES]</c>). The
    /// grammar's rule: a word that begins an item where this one stands is never read as the start of
    /// such an expression, so it ends the item; a constant with such a name is written in parentheses.
    /// Without it, <c>pwc on</c> on its own line swallowed the next line's first word as a name.
    /// </summary>
    private static Parser<char, Expr?> OptionalExpression(KeywordPlace place) =>
        Lookahead(LeadingWord).Optional().Bind(word => word.HasValue && Keywords.Begins(word.Value, place)
            ? Return<Expr?>(null)
            : Expression.Optional().Select(m => m.HasValue ? m.Value : null));

    private static Parser<char, Expr?> OptionalClause(string keyword) =>
        Kw(keyword).Then(Expression).Optional().Select(m => m.HasValue ? m.Value : null);

    // ------------------------------------------------------------ shared pieces

    /// <summary>A page size is an expression (v2), whose value the checker requires to be 4K, 2M or 1G.</summary>
    private static readonly Parser<char, Expr> PageSizeExpression = Expression;

    private static readonly Parser<char, Word> ModeWord = OneOfWords(
        $"mode ({string.Join(", ", Vocabulary.Modes[..^1].Select(m => m.Name))} or {Vocabulary.Modes[^1].Name})",
        [.. Vocabulary.Modes.Select(m => m.Name)]);

    private static readonly Parser<char, (AccessKind Kind, TextSpan Span)> AccessWord =
        OneOfWords("access kind (read, write or exec)", "read", "write", "exec")
            .Select(w => (w.Text switch { "read" => AccessKind.Read, "write" => AccessKind.Write, _ => AccessKind.Exec }, w.Span));

    private static readonly Parser<char, (Perms Perms, TextSpan Span)> PermsParser =
        from letters in OneOfWords("permissions (r, rw, rx or rwx)", "rwx", "rw", "rx", "r")
        from kernel in Kw("kernel").Optional()
        select (new Perms(letters.Text.Contains('w'), letters.Text.Contains('x'), kernel.HasValue),
                kernel.HasValue ? TextSpan.Between(letters.Span, kernel.Value) : letters.Span);

    private static readonly Parser<char, TextSpan?> AsKernel =
        Kw("as").Then(Kw("kernel")).Optional().Select(m => m.HasValue ? m.Value : (TextSpan?)null);

    private static TextSpan SpanOf(TextSpan first, params TextSpan?[] rest)
    {
        var end = first.End;
        foreach (var s in rest) if (s is { } span && span.End > end) end = span.End;
        return new TextSpan(first.Start, end);
    }

    // ------------------------------------------------------------ mappings (process blocks and run blocks)

    private static readonly Parser<char, Stmt> MapMapping =
        from kw in Kw("map")
        from gva in Expression
        from size in OptionalClause("size")
        from page in Kw("page").Then(PageSizeExpression).Optional()
        from to in Kw("to")
        from gpa in Expression
        from perms in PermsParser
        select (Stmt)new MapStmt(gva, size, page.HasValue ? page.Value : null, gpa, perms.Perms, SpanOf(kw, perms.Span));

    private static readonly Parser<char, Stmt> DemandMapping =
        from kw in Kw("demand")
        from stmt in
            Kw("all").Then(PermsParser).Select(p => (Stmt)new DemandStmt(null, null, null, p.Perms, SpanOf(kw, p.Span)))
            .Or(from gva in Expression
                from size in Kw("size").Then(Expression)
                from page in Kw("page").Then(PageSizeExpression).Optional()
                from perms in PermsParser
                select (Stmt)new DemandStmt(gva, size, page.HasValue ? page.Value : null, perms.Perms, SpanOf(kw, perms.Span)))
        select stmt;

    private static readonly Parser<char, Stmt> UnmapMapping =
        from kw in Kw("unmap")
        from gva in Expression
        from size in OptionalClause("size")
        select (Stmt)new UnmapStmt(gva, size, SpanOf(kw, gva.Span, size?.Span));

    private static readonly Parser<char, Stmt> ProtectMapping =
        from kw in Kw("protect")
        from gva in Expression
        from size in OptionalClause("size")
        from perms in PermsParser
        select (Stmt)new ProtectStmt(gva, size, perms.Perms, SpanOf(kw, perms.Span));

    /// <summary>
    /// Reads the leading word without consuming it and goes straight to the parser of that keyword; the
    /// words are those <see cref="Keywords"/> lists for <paramref name="place"/>, and a word without a
    /// parser fails at start-up. Pidgin's Labelled replaces the expected set even after input was
    /// consumed, so only this zero-width dispatch is labelled and errors inside a statement still name
    /// what was expected there.
    /// </summary>
    private static Parser<char, T> Dispatch<T>(string label, KeywordPlace place, Func<string, Parser<char, T>?> parserOf)
    {
        var byWord = Keywords.Beginning(place).ToDictionary(
            w => w, w => parserOf(w) ?? throw new InvalidOperationException($"the keyword table lists '{w}' ({place}) but the parser has no rule for it"),
            StringComparer.Ordinal);
        LabelWords[label] = [.. byWord.Keys];
        return Lookahead(LeadingWord).Assert(byWord.ContainsKey, label).Labelled(label).Bind(word => byWord[word]);
    }

    private static readonly Parser<char, Stmt> Mapping =
        Dispatch("mapping (map or demand)", KeywordPlace.ProcessBlock, word => word switch
        {
            "map" => MapMapping, "demand" => DemandMapping, "unmap" => UnmapMapping, "protect" => ProtectMapping, _ => null,
        });

    // ------------------------------------------------------------ statements

    private static readonly Parser<char, LetStmt> Let =
        from kw in Kw("let")
        from name in Identifier
        from eq in Sym("=")
        from value in Expression
        select new LetStmt(name, value, SpanOf(kw, value.Span));

    private static readonly Parser<char, Stmt> Access =
        from kind in AccessWord
        from address in Expression
        from kernel in AsKernel
        select (Stmt)new AccessStmt(kind.Kind, address, kernel.HasValue, SpanOf(kind.Span, address.Span, kernel));

    private static readonly Parser<char, Stmt> Sweep =
        from kw in Kw("sweep")
        from kind in AccessWord
        from start in Expression
        from size in Kw("size").Then(Expression)
        from stride in Kw("stride").Then(Expression)
        from times in OptionalClause("times")
        from kernel in AsKernel
        select (Stmt)new SweepStmt(kind.Kind, start, size, stride, times, kernel.HasValue, SpanOf(kw, stride.Span, times?.Span, kernel));

    private static readonly Parser<char, Stmt> RandomAccesses =
        from kw in Kw("random")
        from kind in AccessWord
        from count in Expression
        from start in Kw("in").Then(Expression)
        from size in Kw("size").Then(Expression)
        from align in OptionalClause("align")
        from seed in OptionalClause("seed")
        from kernel in AsKernel
        select (Stmt)new RandomStmt(kind.Kind, count, start, size, align, seed, kernel.HasValue, SpanOf(kw, size.Span, align?.Span, seed?.Span, kernel));

    private const string StatementOrCloseLabel = "statement or '}'";

    private static readonly Parser<char, (ImmutableArray<Stmt> Body, TextSpan Close)> Block =
        from open in Sym("{")
        from body in Rec(() => Statement!).Many()
        from close in Sym("}").Labelled(StatementOrCloseLabel)
        select (body.ToImmutableArray(), close);

    private static readonly Parser<char, Stmt> Repeat =
        from kw in Kw("repeat")
        from count in Expression
        from variable in Kw("as").Then(Identifier).Optional()
        from block in Block
        select (Stmt)new RepeatStmt(count, variable.HasValue ? variable.Value : null, block.Body, SpanOf(kw, block.Close));

    private static readonly Parser<char, Stmt> Switch =
        from kw in Kw("switch")
        from name in Identifier
        select (Stmt)new SwitchStmt(name, SpanOf(kw, name.Span));

    private static readonly Parser<char, Stmt> Invlpg =
        from kw in Kw("invlpg")
        from address in Expression
        select (Stmt)new InvlpgStmt(address, SpanOf(kw, address.Span));

    private static readonly Parser<char, Stmt> FlushTlb =
        from kw in Kw("flush")
        from tlb in Kw("tlb")
        select (Stmt)new FlushTlbStmt(SpanOf(kw, tlb));

    private static readonly Parser<char, Stmt> Replay =
        from kw in Kw("replay")
        from path in StringLiteral
        from format in Kw("format").Then(DottedWord).Optional()
        select (Stmt)new ReplayStmt(path.Value, path.Span,
            format.HasValue ? new Word(format.Value.Text, format.Value.Span) : null,
            SpanOf(kw, path.Span, format.HasValue ? format.Value.Span : null));

    private static readonly Parser<char, Stmt> Mark =
        from kw in Kw("mark")
        from label in Label
        select (Stmt)new MarkStmt(label, SpanOf(kw, label.Span));

    private static readonly Parser<char, CompareOp> Comparison =
        OneOf(
            Sym("==").ThenReturn(CompareOp.Eq),
            Sym("!=").ThenReturn(CompareOp.Ne),
            Sym("<=").ThenReturn(CompareOp.Le),
            Sym(">=").ThenReturn(CompareOp.Ge),
            Sym("<").ThenReturn(CompareOp.Lt),
            Sym(">").ThenReturn(CompareOp.Gt)).Labelled("comparison (==, !=, <, <=, > or >=)");

    private static readonly Parser<char, Stmt> Expect =
        from kw in Kw("expect")
        from counter in DottedWord.Labelled("counter")
        from op in Comparison
        from value in Expression
        from since in Kw("since").Then(Label).Optional()
        from modes in Kw("in").Then(ModeWord.AtLeastOnce()).Optional()
        select (Stmt)new ExpectStmt(counter, op, value,
            since.HasValue ? since.Value : null,
            modes.HasValue ? modes.Value.ToImmutableArray() : [],
            SpanOf(kw, value.Span, since.HasValue ? since.Value.Span : null, modes.HasValue ? modes.Value.Last().Span : null));

    private static readonly Parser<char, Stmt> CollectDirty =
        from kw in Kw("collect")
        from dirty in Kw("dirty")
        select (Stmt)new CollectDirtyStmt(SpanOf(kw, dirty));

    private static readonly Parser<char, Stmt> Statement =
        Dispatch("statement", KeywordPlace.RunBlock, word => word switch
        {
            "read" or "write" or "exec" => Access, "sweep" => Sweep, "random" => RandomAccesses, "repeat" => Repeat,
            "switch" => Switch, "invlpg" => Invlpg, "flush" => FlushTlb, "map" => MapMapping, "demand" => DemandMapping,
            "unmap" => UnmapMapping, "protect" => ProtectMapping, "replay" => Replay, "mark" => Mark, "expect" => Expect,
            "let" => Let.Select(l => (Stmt)l), "collect" => CollectDirty, _ => null,
        });

    // ------------------------------------------------------------ top-level items

    private static readonly Parser<char, Item> Mmu =
        from kw in Kw("mmu")
        from mode in ModeWord
        select (Item)new MmuDecl(mode, SpanOf(kw, mode.Span));

    private static readonly Parser<char, Item> Paging =
        from who in Kw("guest").Select(s => (Guest: true, Span: s)).Or(Kw("host").Select(s => (Guest: false, Span: s)))
        from kw in Kw("paging")
        from levels in OneOfWords("paging depth (4-level or 5-level)", "4-level", "5-level")
        select (Item)new PagingDecl(who.Guest, levels, SpanOf(who.Span, levels.Span));

    private static readonly Parser<char, Item> Tlb =
        from kw in Kw("tlb")
        from entries in Expression
        from ways in OptionalClause("ways")
        select (Item)new TlbDecl(entries, ways, SpanOf(kw, entries.Span, ways?.Span));

    private static readonly Parser<char, Item> Pwc =
        from kw in Kw("pwc")
        from item in
            Kw("on").Then(OptionalExpression(KeywordPlace.TopLevel), (onSpan, n) => (Item)new PwcDecl(true, n, SpanOf(kw, onSpan, n?.Span)))
            .Or(Kw("off").Select(off => (Item)new PwcDecl(false, null, SpanOf(kw, off))))
        select item;

    private static readonly Parser<char, Item> Tagging =
        from feature in OneOfWords("'vpid' or 'pcid'", "vpid", "pcid")
        from onOff in OnOff
        select (Item)new TaggingDecl(feature, onOff.On, SpanOf(feature.Span, onOff.Span));

    private static readonly Parser<char, Item> ProfileDeclaration =
        from kw in Kw("profile")
        from profile in OneOfWords("profile (classic or modern)", "classic", "modern")
        select (Item)new ProfileDecl(profile, SpanOf(kw, profile.Span));

    private static readonly Parser<char, Item> Tlb1G =
        from kw in Kw("tlb1g")
        from item in
            Kw("off").Select(off => (Item)new Tlb1GDecl(null, null, SpanOf(kw, off)))
            .Or(from entries in Expression
                from ways in OptionalClause("ways")
                select (Item)new Tlb1GDecl(entries, ways, SpanOf(kw, entries.Span, ways?.Span)))
        select item;

    private static readonly Parser<char, Item> Shadow =
        from kw in Kw("shadow")
        from item in OneOf(
            Kw("unsync").Then(OnOff, (_, onOff) => (Item)new ShadowUnsyncDecl(onOff.On, SpanOf(kw, onOff.Span))),
            Kw("prefetch").Then(Expression, (_, n) => (Item)new ShadowPrefetchDecl(n, SpanOf(kw, n.Span))),
            Kw("flood").Then(Expression, (_, n) => (Item)new ShadowFloodDecl(n, SpanOf(kw, n.Span))))
        select item;

    private static readonly Parser<char, Item> EptAd =
        from kw in Kw("eptad")
        from onOff in OnOff
        select (Item)new EptAdDecl(onOff.On, SpanOf(kw, onOff.Span));

    private static readonly Parser<char, Item> DirtyTrack =
        from kw in Kw("dirty-track")
        from method in OneOfWords("dirty-track method (pml, wp or free)", "pml", "wp", "free")
        select (Item)new DirtyTrackDecl(method, SpanOf(kw, method.Span));

    private static readonly Parser<char, Item> Cost =
        from kw in Kw("cost")
        from name in DottedWord.Labelled("cost name")
        from value in Expression
        select (Item)new CostDecl(name, value, SpanOf(kw, value.Span));

    // 'clock 3 GHz' is read whole (a unit word after the number) so that the checker can say what is
    // wrong with it, as it does for 'clock 3'; only a unit word is taken, so the next line is untouched.
    private static readonly Parser<char, (string Text, TextSpan Span)> FrequencyUnitAfterSpace =
        Tok(Spanned(Try(LeadingWord.Assert(Literals.IsFrequencyUnit))));

    private static readonly Parser<char, Item> Clock =
        from kw in Kw("clock")
        from freq in Tok(Spanned(Map((first, rest) => first + rest, Digit, Token(c => IsIdentChar(c) || c == '.').ManyString())))
            .Labelled("frequency (e.g. 3GHz)")
        from unit in FrequencyUnitAfterSpace.Optional()
        let text = unit.HasValue ? freq.Value + " " + unit.Value.Text : freq.Value
        let value = Literals.ReadFrequency(text)
        let span = unit.HasValue ? TextSpan.Between(freq.Span, unit.Value.Span) : freq.Span
        select (Item)new ClockDecl(text, value.Hertz, value.Problem, span, SpanOf(kw, span));

    private enum SlotFlag { Backing, Readonly, DirtyLog, Prealloc }

    private static readonly Parser<char, (SlotFlag Flag, Expr? Page, TextSpan Span)> SlotOption =
        OneOf(
            Kw("backing").Then(PageSizeExpression, (kw, page) => (SlotFlag.Backing, (Expr?)page, SpanOf(kw, page.Span))),
            Kw("readonly").Select(s => (SlotFlag.Readonly, (Expr?)null, s)),
            Kw("dirty-log").Select(s => (SlotFlag.DirtyLog, (Expr?)null, s)),
            Kw("prealloc").Select(s => (SlotFlag.Prealloc, (Expr?)null, s)));

    private static readonly Parser<char, Item> Slot =
        from kw in Kw("slot")
        from id in Expression
        from gpaKw in Kw("gpa")
        from gpa in Expression
        from size in Kw("size").Then(Expression)
        from hva in Kw("hva").Then(Expression)
        from options in SlotOption.Many()
        let list = options.ToList()
        select (Item)new SlotDecl(id, gpa, TextSpan.Between(gpaKw, gpa.Span), size, hva,
            list.LastOrDefault(o => o.Flag == SlotFlag.Backing).Page,
            list.Any(o => o.Flag == SlotFlag.Readonly),
            list.Any(o => o.Flag == SlotFlag.DirtyLog),
            list.Any(o => o.Flag == SlotFlag.Prealloc),
            SpanOf(kw, hva.Span, list.Count > 0 ? list[^1].Span : null));

    private const string MappingOrCloseLabel = "mapping (map or demand) or '}'";

    private static readonly Parser<char, Item> Process =
        from kw in Kw("process")
        from name in Identifier
        from open in Sym("{")
        from mappings in Mapping.Many()
        from close in Sym("}").Labelled(MappingOrCloseLabel)
        select (Item)new ProcessDecl(name, mappings.ToImmutableArray(), SpanOf(kw, close));

    private static readonly Parser<char, Item> Run =
        from kw in Kw("run")
        from name in Identifier
        from block in Block
        select (Item)new RunBlock(name, block.Body, SpanOf(kw, block.Close));

    private static readonly Parser<char, Item> TopItem =
        Dispatch("declaration or run block", KeywordPlace.TopLevel, word => word switch
        {
            "profile" => ProfileDeclaration, "mmu" => Mmu, "guest" or "host" => Paging, "tlb" => Tlb, "tlb1g" => Tlb1G, "pwc" => Pwc,
            "vpid" or "pcid" => Tagging, "shadow" => Shadow, "eptad" => EptAd, "dirty-track" => DirtyTrack, "cost" => Cost,
            "clock" => Clock, "slot" => Slot, "process" => Process, "let" => Let.Select(l => (Item)new LetItem(l)), "run" => Run,
            _ => null,
        });

    private const string TopLevelLabel = "declaration, run block or end of file";

    private static readonly Parser<char, Script> ScriptRule =
        from start in Trivia.Then(CurrentOffset)
        from items in TopItem.Many()
        from end in CurrentOffset
        from eof in End.Labelled(TopLevelLabel)
        select new Script(items.ToImmutableArray(), new TextSpan(0, end));

    // ------------------------------------------------------------ entry point

    /// <summary>Parses a whole file. Never throws: every problem is returned as a diagnostic.</summary>
    public static ParseResult Parse(string text)
    {
        var nesting = NestingCheck.Check(text, MaxNesting);
        if (nesting is not null) return new ParseResult(null, [nesting]);

        Result<char, Script> result;
        try
        {
            result = ScriptRule.Parse(text);
        }
        catch (InsufficientExecutionStackException)
        {
            return new ParseResult(null, [Errors.NestingTooDeep(new TextSpan(0, Math.Min(1, text.Length)), MaxNesting)]);
        }

        if (!result.Success) return new ParseResult(null, [ToDiagnostic(text, result.Error!)]);

        var script = result.Value;
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        LiteralCheck.Collect(script, diagnostics, MaxNesting);
        return new ParseResult(script, diagnostics.ToImmutable());
    }

    private static readonly Parser<char, Expr> WholeExpression = Trivia.Then(Expression).Before(End);

    /// <summary>The result of parsing one expression: the tree when it could be read, and every diagnostic.</summary>
    public sealed record ExpressionResult(Expr? Expr, ImmutableArray<Diagnostic> Diagnostics)
    {
        public bool Success => Expr is not null && Diagnostics.IsEmpty;
    }

    /// <summary>
    /// Parses one expression with the grammar of the files (<c>--set NAME=EXPR</c>). Never throws; spans
    /// are offsets into <paramref name="text"/>.
    /// </summary>
    public static ExpressionResult ParseExpression(string text)
    {
        var (expr, problems) = ParseExpressionAt(text, 0, "end of the expression");
        if (expr is null) return new ExpressionResult(null, problems);
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        LiteralCheck.CheckExpression(expr, diagnostics, MaxNesting * 4);
        return new ExpressionResult(expr, diagnostics.ToImmutable());
    }

    /// <summary>
    /// Parses <paramref name="text"/>, which stands at <paramref name="offset"/> in a larger text, as one
    /// expression; spans are shifted to that text. Null with the syntax or nesting problem when it cannot
    /// be read; invalid literals are left in the tree for the literal check.
    /// </summary>
    internal static (Expr? Expr, ImmutableArray<Diagnostic> Problems) ParseExpressionAt(string text, int offset, string endName)
    {
        static Diagnostic Shifted(Diagnostic d, int by) => d with { Span = new TextSpan(d.Span.Start + by, d.Span.End + by) };
        if (NestingCheck.Check(text, MaxNesting) is { } nesting) return (null, [Shifted(nesting, offset)]);
        Result<char, Expr> result;
        try
        {
            result = WholeExpression.Parse(text);
        }
        catch (InsufficientExecutionStackException)
        {
            return (null, [Errors.NestingTooDeep(new TextSpan(offset, offset + Math.Min(1, text.Length)), MaxNesting)]);
        }
        if (!result.Success) return (null, [Shifted(ToDiagnostic(text, result.Error!, endName), offset)]);
        // Bound the depth before anything recurses over the tree (shifting spans does).
        var depth = ImmutableArray.CreateBuilder<Diagnostic>();
        LiteralCheck.CheckDepth(result.Value, depth, MaxNesting * 4);
        if (depth.Count > 0) return (null, [Shifted(depth[0], offset)]);
        return (offset == 0 ? result.Value : Shift(result.Value, offset), []);
    }

    private static Expr Shift(Expr e, int by)
    {
        var span = new TextSpan(e.Span.Start + by, e.Span.End + by);
        return e switch
        {
            NumberExpr n => n with { Span = span },
            NameExpr n => n with { Span = span },
            UnaryExpr u => u with { Operand = Shift(u.Operand, by), Span = span },
            BinaryExpr b => b with { Left = Shift(b.Left, by), Right = Shift(b.Right, by), Span = span },
            _ => throw new InvalidOperationException($"unknown expression {e.GetType().Name}"),
        };
    }

    /// <summary>
    /// Turns Pidgin's error into "unexpected X, expected A, B or C" at the offending token, with the
    /// nearest expected word when X is a misspelling of one, and the block still open when X (or the end
    /// of the file) shows that a '}' is missing.
    /// </summary>
    /// <param name="endName">What the end of <paramref name="text"/> is to the reader: the end of the file, or of one expression.</param>
    private static Diagnostic ToDiagnostic(string text, ParseError<char> error, string endName = "end of file")
    {
        var offset = Math.Clamp(error.ErrorOffset, 0, text.Length);
        // A failed multi-character symbol (say '=' where '==' was wanted) reports the blank after it;
        // point at the token the reader would blame instead.
        if (offset < text.Length && text[offset] is ' ' or '\t' && offset > 0 && !char.IsWhiteSpace(text[offset - 1]))
        {
            var wordy = IsWordChar(text[offset - 1]);
            while (offset > 0 && !char.IsWhiteSpace(text[offset - 1]) && IsWordChar(text[offset - 1]) == wordy) offset--;
        }
        // A keyword that matched the start of a longer word ('ept' in 'eptt') fails inside the word: blame the word.
        while (offset > 0 && offset < text.Length && IsWordChar(text[offset]) && IsWordChar(text[offset - 1])) offset--;
        string unexpected;
        string? word = null;
        TextSpan span;
        if (error.EOF || offset >= text.Length)
        {
            unexpected = endName;
            span = new TextSpan(text.Length, text.Length);
        }
        else
        {
            var end = offset;
            if (IsWordChar(text[end]))
                while (end < text.Length && IsWordChar(text[end])) end++;
            else
                end += char.IsHighSurrogate(text[end]) && end + 1 < text.Length && char.IsLowSurrogate(text[end + 1]) ? 2 : 1; // a whole character, not half of one
            span = new TextSpan(offset, end);
            var token = text[offset..end];
            if (IsIdentStart(token[0])) word = token;
            unexpected = token switch
            {
                "\n" or "\r" => "end of line",
                _ when char.IsControl(token[0]) || char.IsSurrogate(token[0]) || token[0] > '\u007e' =>
                    $"character U+{(token.Length == 2 && char.IsSurrogatePair(token[0], token[1]) ? char.ConvertToUtf32(token[0], token[1]) : token[0]):X4}",
                _ => $"'{Errors.Quote(token)}'",
            };
        }

        var expected = new List<string>();
        foreach (var e in error.Expected)
        {
            var label = e.IsEof ? endName : e.Label ?? (e.Tokens.IsDefault ? null : $"'{new string(e.Tokens.AsSpan())}'");
            if (label is not null && !expected.Contains(label)) expected.Add(label);
        }
        if (expected.Count == 0 && error.Message is { } message)
            return Errors.Syntax(span, unexpected + " (" + message + ")", expected);
        return Errors.Syntax(span, unexpected, expected, Hint(text, offset, word, expected, endName));
    }

    /// <summary>What a syntax error's message adds after "expected ...", or null.</summary>
    private static string? Hint(string text, int offset, string? word, List<string> expected, string endName)
    {
        // A size suffix after a space: '4 K' (K is no name the reader meant).
        if (word is "K" or "M" or "G" or "T" or "KB" or "MB" or "GB" or "KiB" or "MiB" or "GiB" && offset > 1
            && text[offset - 1] is ' ' or '\t' && char.IsAsciiDigit(text[offset - 2]))
            return $"a size suffix goes right after its number, without a space ({word[0]}, as in 4{word[0]})";

        // A '}' is missing: the end of the file, or a declaration's word, where a block's statement or '}' was expected.
        var closesBlock = expected.Any(e => e.EndsWith("or '}'", StringComparison.Ordinal));
        if (closesBlock && (word is null && offset >= text.Length || word is not null && Keywords.Begins(word, KeywordPlace.TopLevel) && !Keywords.Begins(word, KeywordPlace.RunBlock))
            && OpenBlock(text, offset) is { } open)
            return $"{open.What} opened at line {open.Line}, column {open.Column} is not closed";

        // A leading word at the start of a line, read as a name by an unfinished expression above it.
        if (PreviousWord(text, offset) is { } previous && Keywords.Leading.Any(k => k.Word == previous.Word) && previous.FirstOnLine)
            return $"'{previous.Word}' on line {previous.Line} was read as a name, ending the expression of the line above: is that line complete?";

        if (word is null) return null;
        var candidates = expected.SelectMany(e => LabelWords.TryGetValue(e, out var words) ? words
            : e.Length > 2 && e[0] == '\'' && e[^1] == '\'' ? [e[1..^1]] : []).Distinct(StringComparer.Ordinal).ToList();
        // The words expected here first; then the inner words, for an optional clause that was
        // misspelt ('tlb 64 way 4'), which Pidgin does not list once the item has ended.
        var itemEnded = expected.Any(e => e is TopLevelLabel or StatementOrCloseLabel or MappingOrCloseLabel);
        var known = Keywords.Leading.Any(k => k.Word == word) || Keywords.Inner.Contains(word);
        var fallback = itemEnded && !known ? Suggestions.Nearest(word, Keywords.Inner) : null;
        if ((Suggestions.Nearest(word, candidates) ?? (fallback is not null && Suggestions.Distance(word, fallback) <= 1 ? fallback : null)) is { } suggestion)
            return expected is [var only] && only == $"'{suggestion}'" ? null : $"did you mean '{suggestion}'?";

        // 'pwc on NAME' where NAME is a constant named like a declaration: the rule ended the pwc there.
        var pwc = System.Text.RegularExpressions.Regex.Matches(text[..Math.Min(offset, text.Length)], @"\bpwc\s+on\s+([A-Za-z_][\w-]*)");
        if (pwc.Count > 0 && pwc[^1].Groups[1].Value is var name && Keywords.Begins(name, KeywordPlace.TopLevel)
            && System.Text.RegularExpressions.Regex.IsMatch(text, $@"\blet\s+{System.Text.RegularExpressions.Regex.Escape(name)}\s*="))
            return $"'{name}' after 'pwc on' begins a declaration; to use the constant '{name}' there, write 'pwc on ({name})'";
        return null;
    }

    /// <summary>The word just before <paramref name="offset"/>, whether it is the first on its line, and its line.</summary>
    private static (string Word, bool FirstOnLine, int Line)? PreviousWord(string text, int offset)
    {
        var end = Math.Min(offset, text.Length);
        while (end > 0 && char.IsWhiteSpace(text[end - 1])) end--;
        var start = end;
        while (start > 0 && IsWordChar(text[start - 1])) start--;
        if (start == end || !IsIdentStart(text[start])) return null;
        var before = start;
        while (before > 0 && text[before - 1] is ' ' or '\t') before--;
        var first = before == 0 || text[before - 1] == '\n';
        // It was read as a name only if an operator stands before it.
        while (before > 0 && char.IsWhiteSpace(text[before - 1])) before--;
        var afterOperator = before > 0 && text[before - 1] is '+' or '-' or '*' or '/' or '%' or '|' or '&' or '^' or '~' or '(' or '<' or '>' or '=';
        return (text[start..end], first && afterOperator, new SourceText("", text).GetLineColumn(start).Line);
    }

    /// <summary>The innermost '{' still open before <paramref name="offset"/> (comments and strings skipped), and what it opened.</summary>
    private static (string What, int Line, int Column)? OpenBlock(string text, int offset)
    {
        var open = new Stack<int>();
        for (var i = 0; i < offset && i < text.Length; i++)
        {
            var c = text[i];
            if (c == '#') { while (i < text.Length && text[i] != '\n') i++; }
            else if (c == '"') { for (i++; i < text.Length && text[i] != '"' && text[i] != '\n'; i++) if (text[i] == '\\') i++; }
            else if (c == '{') open.Push(i);
            else if (c == '}' && open.Count > 0) open.Pop();
        }
        if (open.Count == 0) return null;
        var brace = open.Peek();
        var start = brace;
        while (start > 0 && text[start - 1] is not ('\n' or '{' or '}')) start--;
        var head = text[start..brace].Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
        var what = head switch
        {
            ["run" or "process", var name, ..] => $"the {head[0]} block of '{Errors.Quote(name)}'",
            ["repeat", ..] => "the repeat block",
            _ => "a block",
        };
        var (line, column) = new SourceText("", text).GetLineColumn(brace);
        return (what, line, column);
    }
}
