using System.Runtime.CompilerServices;
using MemScript.Engine.Interpreter;
using MemScript.Language.Checking;
using MemScript.Language.Parsing;
using MemScript.Tests.Support;

namespace MemScript.Tests.Language;

/// <summary>
/// Every kind of statement and declaration (found by reflection over the Stmt and Item hierarchies) is
/// dispatched to its own visitor method and handled by every pass: the parser, the walker, the printer,
/// the checker and the interpreter. A new node type that a pass forgets fails here, not silently.
/// </summary>
public class StatementCoverageTests
{
    /// <summary>One file with every declaration and every statement; the test below keeps it complete.</summary>
    public const string EveryForm = """
        profile classic
        mmu ept
        guest paging 4-level
        host paging 4-level
        tlb 64 ways 4
        pwc on 16
        tlb1g 16 ways 4
        shadow unsync on
        shadow prefetch 8
        shadow flood 3
        eptad on
        dirty-track pml
        vpid on
        pcid off
        cost vm-exit 1500
        clock 3GHz
        let base = 0x40000000
        slot 0 gpa 0x0 size 64M hva 0x7f0000000000 dirty-log prealloc
        process p { map base size 8K to 0x100000 rw demand 0x50000000 size 1M rw }
        process q { demand all rw }
        run p {
          let step = 64
          read base
          write base + 8 as kernel
          exec base
          sweep read base size 8K stride step
          random read 10 in base size 8K
          repeat 2 as i { read base + i * 4096 }
          repeat 2 { flush tlb invlpg base }
          map 0x60000000 size 8K to 0x200000 rw
          demand 0x70000000 size 2M page 2M rw
          unmap 0x60000000
          protect 0x60001000 r
          mark "m"
          collect dirty
          expect accesses >= 1 since "m"
          switch q
          replay "traces/sum.lackey" format lackey
        }
        """;

    private static IEnumerable<Type> Concrete<TBase>() =>
        typeof(TBase).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(TBase)) && !t.IsAbstract).OrderBy(t => t.Name, StringComparer.Ordinal);

    public static IEnumerable<Type> StatementTypes() => Concrete<Stmt>();

    public static IEnumerable<Type> ItemTypes() => Concrete<Item>();

    /// <summary>A visitor that answers the parameter type of the method it was called through.</summary>
    private sealed class TypeOfVisitor : IStmtVisitor<Type>, IItemVisitor<Type>
    {
        public static Type Of<T>(T node) => typeof(T);
        public Type Visit(AccessStmt s) => Of(s);
        public Type Visit(SweepStmt s) => Of(s);
        public Type Visit(RandomStmt s) => Of(s);
        public Type Visit(RepeatStmt s) => Of(s);
        public Type Visit(SwitchStmt s) => Of(s);
        public Type Visit(InvlpgStmt s) => Of(s);
        public Type Visit(FlushTlbStmt s) => Of(s);
        public Type Visit(MapStmt s) => Of(s);
        public Type Visit(DemandStmt s) => Of(s);
        public Type Visit(UnmapStmt s) => Of(s);
        public Type Visit(ProtectStmt s) => Of(s);
        public Type Visit(ReplayStmt s) => Of(s);
        public Type Visit(MarkStmt s) => Of(s);
        public Type Visit(ExpectStmt s) => Of(s);
        public Type Visit(LetStmt s) => Of(s);
        public Type Visit(CollectDirtyStmt s) => Of(s);
        public Type Visit(MmuDecl d) => Of(d);
        public Type Visit(PagingDecl d) => Of(d);
        public Type Visit(TlbDecl d) => Of(d);
        public Type Visit(PwcDecl d) => Of(d);
        public Type Visit(TaggingDecl d) => Of(d);
        public Type Visit(CostDecl d) => Of(d);
        public Type Visit(ClockDecl d) => Of(d);
        public Type Visit(SlotDecl d) => Of(d);
        public Type Visit(ProcessDecl d) => Of(d);
        public Type Visit(LetItem d) => Of(d);
        public Type Visit(RunBlock d) => Of(d);
        public Type Visit(ProfileDecl d) => Of(d);
        public Type Visit(Tlb1GDecl d) => Of(d);
        public Type Visit(ShadowUnsyncDecl d) => Of(d);
        public Type Visit(ShadowPrefetchDecl d) => Of(d);
        public Type Visit(ShadowFloodDecl d) => Of(d);
        public Type Visit(EptAdDecl d) => Of(d);
        public Type Visit(DirtyTrackDecl d) => Of(d);
    }

    [TestCaseSource(nameof(StatementTypes))]
    public void A_statement_dispatches_to_its_own_visitor_method(Type type)
    {
        var node = (Stmt)RuntimeHelpers.GetUninitializedObject(type);
        Assert.That(node.Accept<Type>(new TypeOfVisitor()), Is.EqualTo(type));
    }

    [TestCaseSource(nameof(ItemTypes))]
    public void A_declaration_dispatches_to_its_own_visitor_method(Type type)
    {
        var node = (Item)RuntimeHelpers.GetUninitializedObject(type);
        Assert.That(node.Accept<Type>(new TypeOfVisitor()), Is.EqualTo(type));
    }

    [Test]
    public void Every_visitor_interface_method_is_one_node_type()
    {
        var visited = typeof(IStmtVisitor<>).GetMethods().Select(m => m.GetParameters().Single().ParameterType)
            .Concat(typeof(IItemVisitor<>).GetMethods().Select(m => m.GetParameters().Single().ParameterType));
        Assert.That(visited.OrderBy(t => t.Name, StringComparer.Ordinal), Is.EquivalentTo(StatementTypes().Concat(ItemTypes())));
    }

    private static Script Parsed()
    {
        var parsed = ScriptParser.Parse(EveryForm);
        Assert.That(parsed.Diagnostics, Is.Empty);
        return parsed.Script!;
    }

    [Test]
    public void The_sample_holds_every_statement_and_declaration()
    {
        var script = Parsed();
        var present = script.Items.Select(i => i.GetType()).Concat(SyntaxWalker.Statements(script).Select(s => s.GetType())).ToHashSet();
        Assert.That(StatementTypes().Concat(ItemTypes()).Where(t => !present.Contains(t)).Select(t => t.Name), Is.Empty,
            "add the missing forms to EveryForm");
    }

    [Test]
    public void The_walker_and_the_printer_reach_every_node()
    {
        var script = Parsed();
        var statements = SyntaxWalker.Statements(script).ToList();
        var printed = AstPrinter.Print(script, new SourceText("every.memscript", EveryForm)).TrimEnd('\n').Split('\n');
        // One line per item that describes itself, and one per statement wherever it is nested.
        Assert.That(printed, Has.Length.EqualTo(script.Items.Count(i => i.Describe() is not null) + statements.Count));
        foreach (var s in statements) Assert.That(printed, Has.Some.Contains(s.Describe()));
        Assert.That(SyntaxWalker.Expressions(script).Count(), Is.GreaterThanOrEqualTo(statements.Count(s => s.SubExpressions().Any(e => e is not null))));
    }

    [Test]
    public void The_checker_and_the_interpreter_handle_every_node()
    {
        var check = Checker.CheckText(EveryForm);
        Assert.That(check.Diagnostics.Where(d => d.IsError).Select(d => d.Message), Is.Empty);
        foreach (var mode in Vocabulary.AllModes)
        {
            var run = ScriptInterpreter.Run(check.Script!, new RunOptions { Mode = mode, BaseDirectory = Paths.Examples });
            Assert.That(run.Error, Is.Null, Vocabulary.ModeName(mode));
            Assert.That(run.Marks.Select(m => m.Label), Is.EqualTo(new[] { "m" }));
            Assert.That(run.Expects, Has.Length.EqualTo(1));
        }
    }
}
