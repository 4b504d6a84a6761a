using MemScript.Engine.Accounting;
using MemScript.Engine.Tracing;
using MemScript.Tests.Support;

namespace MemScript.Tests.Engine;

/// <summary>The worked examples of SEMANTICS.md section 11, counter by counter.</summary>
public class WorkedExampleTests
{
    private const string W1 = """
        slot 0 gpa 0x0 size 1M hva 0x7f0000000000
        process demo { map 0x400000 to 0x1000 rw }
        run demo { read 0x400010  write 0x400ff8 }
        """;

    private const string W2 = """
        slot 0 gpa 0x0 size 1M hva 0x7f0000000000
        process app { demand 0x10000000 size 1M rw }
        run app { write 0x10000000  write 0x10001000  read 0x10000008  read 0x10001008 }
        """;

    // counter: native, software, shadow, ept
    private static readonly (string Counter, long[] Values)[] W1Table =
    [
        ("accesses", [2, 2, 2, 2]),
        ("cycles", [222, 13562, 15212, 22432]),
        ("tlb.misses", [1, 1, 2, 6]),
        ("tlb.hits", [1, 1, 1, 1]),
        ("walk.refs", [4, 0, 5, 91]),
        ("hv.refs", [0, 4, 4, 0]),
        ("exits", [0, 1, 2, 5]),
        ("exits.MMU_TRAP", [0, 1, 0, 0]),
        ("exits.CR_ACCESS", [0, 0, 1, 0]),
        ("exits.EXCEPTION_NMI", [0, 0, 1, 0]),
        ("exits.EPT_VIOLATION", [0, 0, 0, 5]),
        ("faults.host", [0, 5, 5, 5]),
        ("pages.guest-pt", [4, 4, 4, 4]),
        ("pages.shadow", [0, 0, 4, 0]),
        ("pages.ept", [0, 0, 0, 4]),
    ];

    private static readonly (string Counter, long[] Values)[] W2Table =
    [
        ("tlb.misses", [4, 4, 6, 10]),
        ("walk.refs", [13, 0, 18, 164]),
        ("hv.refs", [0, 13, 13, 0]),
        ("faults.guest", [2, 2, 2, 2]),
        ("exits", [0, 4, 7, 6]),
        ("exits.MMU_TRAP", [0, 4, 0, 0]),
        ("exits.CR_ACCESS", [0, 0, 1, 0]),
        ("exits.EXCEPTION_NMI", [0, 0, 6, 0]),
        ("exits.EPT_VIOLATION", [0, 0, 0, 6]),
        ("faults.host", [0, 6, 6, 6]),
    ];

    private static readonly MmuMode[] Modes = [MmuMode.Native, MmuMode.Software, MmuMode.Shadow, MmuMode.Ept];

    public static IEnumerable<TestCaseData> Cells()
    {
        foreach (var (name, script, table) in new[] { ("W1", W1, W1Table), ("W2", W2, W2Table) })
            foreach (var (counter, values) in table)
                for (var m = 0; m < Modes.Length; m++)
                    yield return new TestCaseData(script, Modes[m], counter, values[m]).SetName($"{name} {counter} in {Modes[m]} is {values[m]}");
    }

    [Test, TestCaseSource(nameof(Cells))]
    public void Table_cell(string script, MmuMode mode, string counter, long expected) =>
        Assert.That(Scenario.Run(script, mode).Counters.Get(counter), Is.EqualTo(expected));

    [Test]
    public void W1_guest_tables_take_the_lowest_free_frames_around_the_map_target()
    {
        var result = Scenario.Run(W1, MmuMode.Ept, trace: true);
        var violations = result.Trace.OfType<EptViolationExit>().Select(v => v.Gpa.Value).ToList();
        // PML4 0x0, PDPT 0x2000, PD 0x3000, PT 0x4000 (0x1000 is the map target), then the data page.
        Assert.That(violations, Is.EqualTo(new ulong[] { 0x0, 0x2000, 0x3000, 0x4000, 0x1010 }));
    }

    [Test]
    public void W1_only_the_fifth_violation_hits_the_final_translation()
    {
        var result = Scenario.Run(W1, MmuMode.Ept, trace: true);
        var bit8 = result.Trace.OfType<EptViolationExit>().Select(v => (v.Qualification >> 8) & 1).ToList();
        Assert.That(bit8, Is.EqualTo(new ulong[] { 0, 0, 0, 0, 1 }));
        Assert.That(result.Trace.OfType<EptViolationExit>().All(v => (v.Qualification & (1 << 7)) != 0), "guest linear address valid");
    }

    [Test]
    public void W1_walk_lengths_grow_one_frame_at_a_time()
    {
        var refs = Scenario.Run(W1, MmuMode.Ept, trace: true).Trace.OfType<TlbMissEvent>().Select(m => m.WalkRefs);
        Assert.That(refs, Is.EqualTo(new[] { 1, 9, 14, 19, 24, 24 }));
    }

    [Test]
    public void W2_shadow_costs_three_exits_per_new_page()
    {
        var result = Scenario.Run(W2, MmuMode.Shadow, trace: true);
        var faults = result.Trace.OfType<PageFaultExit>().ToList();
        // Per page: the shadow miss (user write, not present), the kernel's write to a write-protected
        // table (kernel write, present), the shadow miss again.
        Assert.That(faults.Select(f => f.ErrorCode), Is.EqualTo(new uint[] { 0b110, 0b011, 0b110, 0b110, 0b011, 0b110 }));
        Assert.That(result.Counters.ExitsByReason[(int)ExitReason.ExceptionNmi], Is.EqualTo(6));
        Assert.That(result.Trace.OfType<EmulatedWriteEvent>().Count(), Is.EqualTo(2));
    }
}
