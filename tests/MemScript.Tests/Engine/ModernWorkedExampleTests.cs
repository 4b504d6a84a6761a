using System.Collections.Concurrent;
using MemScript.Engine.Accounting;
using MemScript.Engine.Interpreter;
using MemScript.Engine.Tracing;
using MemScript.Tests.Support;

namespace MemScript.Tests.Engine;

/// <summary>
/// The worked examples of the modern profile, docs/semantics.md section 13.8 (SEMANTICS.md 13.7): W1 and W2
/// under <c>profile modern</c>, then one small example per mechanism of section 13, counter by counter,
/// with the trace events that show each mechanism at work. Every script says <c>profile modern</c>; a
/// variant that turns one feature off adds that feature's own declaration, which wins over the profile.
/// </summary>
public class ModernWorkedExampleTests
{
    private const string W1 = """
        profile modern
        slot 0 gpa 0x0 size 1M hva 0x7f0000000000
        process demo { map 0x400000 to 0x1000 rw }
        run demo { read 0x400010  write 0x400ff8 }
        """;

    private const string W2 = """
        profile modern
        slot 0 gpa 0x0 size 1M hva 0x7f0000000000
        process app { demand 0x10000000 size 1M rw }
        run app { write 0x10000000  write 0x10001000  read 0x10000008  read 0x10001008 }
        """;

    /// <summary>13.1: a second miss under the same PDE.</summary>
    private const string Pwc = """
        profile modern
        slot 0 gpa 0x0 size 1M hva 0x7f0000000000
        process app { map 0x400000 size 8K to 0x10000 rw }
        run app { read 0x400000  read 0x401000 }
        """;

    /// <summary>13.1: a 1 GiB page that twelve 4 KiB pages of the same main-TLB set cannot evict.</summary>
    private const string Tlb1G = """
        profile modern
        slot 0 gpa 0x0 size 2G hva 0x7f0000000000 backing 1G
        process app {
          map 0x40000000 page 1G to 0x40000000 rw
          map 0x80000000 size 6M to 0x100000 rw
        }
        run app {
          read 0x40000000
          sweep read 0x80001000 size 6M stride 512K
          read 0x40000000
        }
        """;

    /// <summary>13.2: a write to a shadowed leaf table unsyncs it; the next CR3 load syncs it.</summary>
    private const string Unsync = """
        profile modern
        slot 0 gpa 0x0 size 1M hva 0x7f0000000000
        process app { map 0x400000 size 8K to 0x10000 rw }
        run app {
          read 0x400000
          read 0x401000
          map 0x402000 size 8K to 0x12000 rw
          flush tlb
          read 0x402000
        }
        """;

    /// <summary>13.2: INVLPG on an unsync table reads the one guest entry and clears the stale leaf.</summary>
    private const string UnsyncInvlpg = """
        profile modern
        slot 0 gpa 0x0 size 1M hva 0x7f0000000000
        process app { map 0x400000 size 8K to 0x10000 rw }
        run app {
          read 0x400000
          read 0x401000
          protect 0x401000 r
          read 0x401000
        }
        """;

    /// <summary>13.2: prefetch installs the neighbours whose host pages are present, and only those.</summary>
    private const string Prefetch = """
        profile modern
        slot 0 gpa 0x0 size 1M hva 0x7f0000000000
        process app {
          map 0x400000 size 16K to 0x10000 rw
          map 0x600000 size 32K to 0x10000 r
        }
        run app {
          sweep read 0x400000 size 16K stride 4K
          read 0x600000
          sweep read 0x601000 size 12K stride 4K
          read 0x604000
        }
        """;

    /// <summary>13.2: the third emulated write to a shadowed page directory zaps its shadow table.</summary>
    private const string Flood = """
        profile modern
        slot 0 gpa 0x0 size 1M hva 0x7f0000000000
        process app { map 0x400000 to 0x10000 rw }
        run app {
          read 0x400000
          map 0x600000 to 0x11000 rw
          map 0x800000 to 0x12000 rw
          map 0xa00000 to 0x13000 rw
          read 0xa00000
        }
        """;

    /// <summary>13.4: 513 first writes to pages with EPT or shadow leaves already built.</summary>
    private const string Dirty = """
        profile modern
        slot 0 gpa 0x0 size 1M hva 0x7f0000000000
        slot 1 gpa 0x1000000 size 4M hva 0x7f0001000000 dirty-log
        process app { map 0x40000000 size 0x201000 to 0x1000000 rw }
        run app {
          sweep read 0x40000000 size 0x201000 stride 4K
          mark "writes"
          sweep write 0x40000000 size 0x201000 stride 4K
        }
        """;

    /// <summary>13.5: W1 with its slot preallocated.</summary>
    private const string Prealloc = """
        profile modern
        slot 0 gpa 0x0 size 1M hva 0x7f0000000000 prealloc
        process demo { map 0x400000 to 0x1000 rw }
        run demo { read 0x400010  write 0x400ff8 }
        """;

    /// <summary>13.6: two dirty pages collected, one written again.</summary>
    private const string Collect = """
        profile modern
        slot 0 gpa 0x0 size 1M hva 0x7f0000000000
        slot 1 gpa 0x100000 size 1M hva 0x7f0000100000 dirty-log
        process app { map 0x400000 size 8K to 0x100000 rw }
        run app {
          write 0x400000
          write 0x401000
          collect dirty
          write 0x400000
          read 0x401000
        }
        """;

    /// <summary>The script with one explicit declaration after its profile line (it wins over the profile).</summary>
    private static string With(string script, string declaration) =>
        script.Replace("profile modern", "profile modern\n" + declaration, StringComparison.Ordinal);

    private static readonly MmuMode[] Modes = [MmuMode.Native, MmuMode.Software, MmuMode.Shadow, MmuMode.Ept];

    /// <summary>One worked example: its script, the mark its table counts from (null: the whole run), and its
    /// table, counter by counter for native, software, shadow, ept (null: not part of the example).</summary>
    private sealed record Example(string Script, string? Since, (string Counter, long?[] Values)[] Table);

    private static readonly (string Counter, long?[] Values)[] NoModernCounter =
    [
        ("shadow.unsync", [0, 0, 0, 0]),
        ("shadow.synced", [0, 0, 0, 0]),
        ("shadow.prefetched", [0, 0, 0, 0]),
        ("shadow.zapped", [0, 0, 0, 0]),
        ("dirty.logged", [0, 0, 0, 0]),
        ("exits.PML_FULL", [0, 0, 0, 0]),
    ];

    private static readonly Dictionary<string, Example> Examples = new()
    {
        ["W1m"] = new(W1, null,
        [
            ("accesses", [2, 2, 2, 2]),
            ("cycles", [222, 13562, 15252, 20272]),
            ("tlb.misses", [1, 1, 2, 6]),
            ("tlb.hits", [1, 1, 1, 1]),
            ("walk.refs", [4, 0, 5, 19]),
            ("hv.refs", [0, 4, 5, 0]),
            ("exits", [0, 1, 2, 5]),
            ("exits.MMU_TRAP", [0, 1, 0, 0]),
            ("exits.CR_ACCESS", [0, 0, 1, 0]),
            ("exits.EXCEPTION_NMI", [0, 0, 1, 0]),
            ("exits.EPT_VIOLATION", [0, 0, 0, 5]),
            ("faults.guest", [0, 0, 0, 0]),
            ("faults.host", [0, 5, 5, 5]),
            ("pages.guest-pt", [4, 4, 4, 4]),
            ("pages.shadow", [0, 0, 4, 0]),
            ("pages.ept", [0, 0, 0, 4]),
            ("pages.host", [0, 5, 5, 5]),
            .. NoModernCounter,
        ]),
        ["W2m"] = new(W2, null,
        [
            ("accesses", [4, 4, 4, 4]),
            ("cycles", [5364, 25174, 30524, 29544]),
            ("tlb.misses", [4, 4, 6, 10]),
            ("tlb.hits", [2, 2, 2, 2]),
            ("walk.refs", [7, 0, 9, 29]),
            ("hv.refs", [0, 13, 15, 0]),
            ("exits", [0, 4, 7, 6]),
            ("exits.MMU_TRAP", [0, 4, 0, 0]),
            ("exits.CR_ACCESS", [0, 0, 1, 0]),
            ("exits.EXCEPTION_NMI", [0, 0, 6, 0]),
            ("exits.EPT_VIOLATION", [0, 0, 0, 6]),
            ("faults.guest", [2, 2, 2, 2]),
            ("faults.host", [0, 6, 6, 6]),
            ("pages.guest-pt", [4, 4, 4, 4]),
            ("pages.shadow", [0, 0, 4, 0]),
            ("pages.ept", [0, 0, 0, 4]),
            ("pages.host", [0, 6, 6, 6]),
            ("shadow.unsync", [0, 0, 1, 0]),
            ("shadow.synced", [0, 0, 0, 0]),
            ("shadow.prefetched", [0, 0, 0, 0]),
            ("shadow.zapped", [0, 0, 0, 0]),
        ]),
        ["pwc"] = new(Pwc, null,
        [
            ("walk.refs", [5, 0, 7, 25]),
            ("tlb.misses", [2, 2, 4, 8]),
            ("hv.refs", [0, 8, 10, 0]),
            ("exits", [0, 2, 3, 6]),
            ("cycles", [252, 17422, 19512, 24372]),
        ]),
        ["pwc off"] = new(With(Pwc, "pwc off"), null,
        [
            ("walk.refs", [8, 0, 13, 139]),
            ("tlb.misses", [2, 2, 4, 8]),
            ("hv.refs", [0, 8, 10, 0]),
            ("exits", [0, 2, 3, 6]),
            ("cycles", [342, 17422, 19692, 27792]),
        ]),
        ["tlb1g"] = new(Tlb1G, null,
        [
            ("tlb.hits", [1, 1, 1, 1]),
            ("tlb.misses", [13, 13, 26, 15]),
            ("walk.refs", [18, 0, 31, 54]),
            ("hv.refs", [0, 50, 62, 0]),
            ("exits", [0, 13, 14, 2]),
            ("exits.MMU_TRAP", [0, 13, 0, 0]),
            ("exits.CR_ACCESS", [0, 0, 1, 0]),
            ("exits.EXCEPTION_NMI", [0, 0, 13, 0]),
            ("exits.EPT_VIOLATION", [0, 0, 0, 2]),
            ("faults.host", [0, 2, 2, 2]),
            ("pages.host", [0, 2, 2, 2]),
            ("pages.shadow", [0, 0, 6, 0]),
            ("pages.ept", [0, 0, 0, 2]),
            ("shadow.prefetched", [0, 0, 84, 0]),
        ]),
        ["tlb1g off"] = new(With(Tlb1G, "tlb1g off"), null,
        [
            ("tlb.hits", [0, 0, 0, 0]),
            ("tlb.misses", [14, 14, 27, 16]),
            ("walk.refs", [19, 0, 32, 57]),
            ("hv.refs", [0, 52, 62, 0]),
            ("exits", [0, 14, 14, 2]),
        ]),
        ["unsync"] = new(Unsync, null,
        [
            ("shadow.unsync", [0, 0, 1, 0]),
            ("shadow.synced", [0, 0, 1, 0]),
            ("exits", [0, 3, 6, 7]),
            ("exits.CR_ACCESS", [0, 0, 2, 0]),
            ("exits.EXCEPTION_NMI", [0, 0, 4, 0]),
            ("walk.refs", [null, null, 12, null]),
            ("hv.refs", [null, null, 17, null]),
            ("tlb.misses", [null, null, 6, null]),
            ("faults.host", [null, null, 7, null]),
            ("pages.shadow", [null, null, 4, null]),
            ("cycles", [null, null, 26483, null]),
        ]),
        ["unsync invlpg"] = new(UnsyncInvlpg, null,
        [
            ("shadow.unsync", [0, 0, 1, 0]),
            ("shadow.synced", [0, 0, 0, 0]),
            ("exits.INVLPG", [0, 0, 1, 0]),
            ("exits.CR_ACCESS", [0, 0, 1, 0]),
            ("exits.EXCEPTION_NMI", [0, 0, 4, 0]),
            ("exits", [null, null, 6, null]),
            ("walk.refs", [null, null, 12, null]),
            ("hv.refs", [null, null, 16, null]),
            ("tlb.misses", [null, null, 6, null]),
            ("cycles", [null, null, 23933, null]),
        ]),
        ["prefetch"] = new(Prefetch, null,
        [
            ("shadow.prefetched", [0, 0, 3, 0]),
            ("exits", [null, null, 7, null]),
            ("exits.EXCEPTION_NMI", [null, null, 6, null]),
            ("exits.CR_ACCESS", [null, null, 1, null]),
            ("tlb.misses", [null, null, 15, null]),
            ("walk.refs", [null, null, 19, null]),
            ("hv.refs", [null, null, 30, null]),
            ("faults.host", [null, null, 10, null]),
            ("pages.shadow", [null, null, 5, null]),
        ]),
        ["prefetch off"] = new(With(Prefetch, "shadow prefetch 0"), null,
        [
            ("shadow.prefetched", [0, 0, 0, 0]),
            ("exits.EXCEPTION_NMI", [null, null, 9, null]),
        ]),
        ["flood"] = new(Flood, null,
        [
            ("shadow.zapped", [0, 0, 1, 0]),
            ("exits", [null, null, 6, null]),
            ("exits.EXCEPTION_NMI", [null, null, 5, null]),
            ("exits.CR_ACCESS", [null, null, 1, null]),
            ("pages.shadow", [null, null, 5, null]),
            ("pages.guest-pt", [7, 7, 7, 7]),
            ("walk.refs", [null, null, 10, null]),
            ("hv.refs", [null, null, 10, null]),
            ("tlb.misses", [null, null, 4, null]),
            ("faults.host", [null, null, 7, null]),
            ("cycles", [null, null, 29262, null]),
        ]),
        ["eptad off"] = new(With(W1, "eptad off"), null,
        [
            ("cycles", [null, null, null, 20272]),
            ("walk.refs", [null, null, null, 19]),
            ("exits.EPT_VIOLATION", [null, null, null, 5]),
        ]),
        ["dirty"] = new(Dirty, "writes",
        [
            ("accesses", [513, 513, 513, 513]),
            ("dirty.logged", [513, 513, 513, 513]),
            ("tlb.hits", [513, 0, 0, 0]),
            ("tlb.misses", [0, 513, 1026, 514]),
            ("walk.refs", [0, 0, 1026, 1542]),
            ("hv.refs", [0, 2052, 2565, 0]),
            ("exits", [0, 513, 513, 1]),
            ("exits.MMU_TRAP", [0, 513, 0, 0]),
            ("exits.EXCEPTION_NMI", [0, 0, 513, 0]),
            ("exits.EPT_VIOLATION", [0, 0, 0, 0]),
            ("exits.PML_FULL", [0, 0, 0, 1]),
            ("cycles", [513, 749493, 954693, 47973]),
        ]),
        ["dirty wp"] = new(With(Dirty, "dirty-track wp"), "writes",
        [
            ("dirty.logged", [513, 513, 513, 513]),
            ("tlb.misses", [null, null, null, 1026]),
            ("walk.refs", [null, null, null, 3078]),
            ("exits", [null, null, null, 513]),
            ("exits.EPT_VIOLATION", [null, null, null, 513]),
            ("exits.PML_FULL", [0, 0, 0, 0]),
            ("cycles", [null, null, null, 718713]),
        ]),
        ["prealloc"] = new(Prealloc, null,
        [
            ("faults.host", [0, 0, 0, 0]),
            ("pages.host", [0, 256, 256, 256]),
            ("cycles", [222, 1562, 3252, 8272]),
            ("walk.refs", [4, 0, 5, 19]),
            ("hv.refs", [0, 4, 5, 0]),
            ("exits", [0, 1, 2, 5]),
            ("pages.ept", [0, 0, 0, 4]),
            ("pages.shadow", [0, 0, 4, 0]),
        ]),
        ["collect"] = new(Collect, null,
        [
            ("dirty.logged", [3, 3, 3, 3]),
            ("dirty.collected", [2, 2, 2, 2]),
            ("tlb.misses", [4, 4, 7, 10]),
            ("walk.refs", [10, 0, 13, 37]),
            ("hv.refs", [0, 16, 15, 0]),
            ("exits", [0, 4, 4, 6]),
            ("exits.MMU_TRAP", [0, 4, 0, 0]),
            ("exits.CR_ACCESS", [0, 0, 1, 0]),
            ("exits.EXCEPTION_NMI", [0, 0, 3, 0]),
            ("exits.EPT_VIOLATION", [0, 0, 0, 6]),
            ("exits.PML_FULL", [0, 0, 0, 0]),
            ("cycles", [404, 20344, 21514, 24754]),
        ]),
    };

    private static readonly ConcurrentDictionary<(string Script, MmuMode Mode), RunResult> Runs = new();

    private static RunResult Run(string script, MmuMode mode) => Runs.GetOrAdd((script, mode), key => Scenario.Run(key.Script, key.Mode, trace: true));

    /// <summary>The example's counters in one mode: the whole run, or the growth since its mark.</summary>
    private static CounterSet Counters(Example example, MmuMode mode)
    {
        var result = Run(example.Script, mode);
        if (example.Since is null) return result.Counters;
        var mark = result.Marks.Single(m => m.Label == example.Since);
        return result.Counters.Subtract(mark.Counters);
    }

    public static IEnumerable<TestCaseData> Cells()
    {
        foreach (var (name, example) in Examples)
            foreach (var (counter, values) in example.Table)
                for (var m = 0; m < Modes.Length; m++)
                    if (values[m] is { } value)
                        yield return new TestCaseData(name, Modes[m], counter, value)
                            .SetName($"{name}: {counter}{(example.Since is null ? "" : $" since \"{example.Since}\"")} in {Modes[m]} is {value}");
    }

    [Test, TestCaseSource(nameof(Cells))]
    public void Table_cell(string example, MmuMode mode, string counter, long expected) =>
        Assert.That(Counters(Examples[example], mode).Get(counter), Is.EqualTo(expected));

    private static List<int> WalkRefs(string script, MmuMode mode) =>
        Run(script, mode).Trace.OfType<TlbMissEvent>().Select(m => m.WalkRefs).ToList();

    // W1 and W2 -----------------------------------------------------------------------------------

    [Test]
    public void W1_without_a_profile_line_is_W1_under_the_modern_profile()
    {
        var shipped = Scenario.CheckAsShipped(W1.Replace("profile modern\n", "", StringComparison.Ordinal), "w1.memscript");
        foreach (var mode in Modes)
        {
            var result = ScriptInterpreter.Run(shipped, new RunOptions { Mode = mode });
            Assert.That(result.Counters.Named(), Is.EqualTo(Run(W1, mode).Counters.Named()), $"{mode}");
        }
    }

    [Test]
    public void W1_ept_staircase_is_19_references_with_the_caches()
    {
        Assert.That(WalkRefs(W1, MmuMode.Ept), Is.EqualTo(new[] { 1, 6, 3, 3, 3, 3 }));
        Assert.That(WalkRefs(W1, MmuMode.Shadow), Is.EqualTo(new[] { 1, 4 }));
    }

    [Test]
    public void W1_shadow_reads_the_prefetch_block_and_finds_nothing_to_install()
    {
        var prefetches = Run(W1, MmuMode.Shadow).Trace.OfType<ShadowPrefetchEvent>().ToList();
        Assert.That(prefetches.Select(p => (p.Page.Value, p.Count)), Is.EqualTo(new[] { (0x400000UL, 0) }));
    }

    [Test]
    public void W2_walks_shrink_under_the_caches()
    {
        Assert.That(WalkRefs(W2, MmuMode.Native), Is.EqualTo(new[] { 1, 4, 1, 1 }));
        Assert.That(WalkRefs(W2, MmuMode.Shadow), Is.EqualTo(new[] { 1, 1, 4, 1, 1, 1 }));
        Assert.That(WalkRefs(W2, MmuMode.Ept), Is.EqualTo(new[] { 1, 5, 3, 3, 3, 3, 3, 2, 3, 3 }));
    }

    [Test]
    public void W2_shadow_emulates_the_root_write_and_unsyncs_the_leaf_table()
    {
        var result = Run(W2, MmuMode.Shadow);
        var faults = result.Trace.OfType<PageFaultExit>().ToList();
        // Still three exits per page: the second page's table was in sync when the guest wrote it.
        Assert.That(faults.Select(f => f.ErrorCode), Is.EqualTo(new uint[] { 0b110, 0b011, 0b110, 0b110, 0b011, 0b110 }));
        // The first page's write goes to the PML4 (the shadow root: emulated); the second's to the PT at 0x3000.
        Assert.That(result.Trace.OfType<EmulatedWriteEvent>().Select(e => e.Entry.Value), Is.EqualTo(new ulong[] { 0x0 }));
        Assert.That(result.Trace.OfType<ShadowUnsyncEvent>().Select(e => e.GuestTable.Value), Is.EqualTo(new ulong[] { 0x3000 }));
    }

    [Test]
    public void W2_ept_guest_table_violations_report_a_write_with_eptad()
    {
        var qualifications = Run(W2, MmuMode.Ept).Trace.OfType<EptViolationExit>().Select(v => (v.Gpa.Value, v.Qualification)).ToList();
        Assert.That(qualifications, Is.EqualTo(new[]
        {
            (0x0UL, 0x82UL), (0x1000UL, 0x82UL), (0x2000UL, 0x82UL), (0x3000UL, 0x82UL), (0x4000UL, 0x182UL), (0x5000UL, 0x182UL),
        }));
    }

    // 13.1 ----------------------------------------------------------------------------------------

    [Test]
    public void Pwc_a_second_miss_under_the_same_PDE_takes_one_reference()
    {
        Assert.That(WalkRefs(Pwc, MmuMode.Native), Is.EqualTo(new[] { 4, 1 }));
        Assert.That(WalkRefs(Pwc, MmuMode.Shadow), Is.EqualTo(new[] { 1, 4, 1, 1 }));
        Assert.That(WalkRefs(Pwc, MmuMode.Ept), Is.EqualTo(new[] { 1, 6, 3, 3, 3, 3, 3, 3 }));
        Assert.That(WalkRefs(With(Pwc, "pwc off"), MmuMode.Native), Is.EqualTo(new[] { 4, 4 }));
    }

    [Test]
    public void Tlb1g_keeps_the_1G_page_that_4K_traffic_evicts_from_the_main_TLB()
    {
        foreach (var mode in Modes)
        {
            int Misses(string script) => Run(script, mode).Trace.OfType<TlbMissEvent>().Count(m => m.Address.Value == 0x40000000);
            var first = mode switch { MmuMode.Shadow => 2, MmuMode.Ept => 3, _ => 1 };
            Assert.That(Misses(Tlb1G), Is.EqualTo(first), $"{mode}: only the first read of the 1 GiB page misses");
            Assert.That(Misses(With(Tlb1G, "tlb1g off")), Is.EqualTo(first + 1), $"{mode}: without tlb1g the last read misses too");
        }
    }

    // 13.2 ----------------------------------------------------------------------------------------

    [Test]
    public void Unsync_one_exit_for_the_table_write_and_a_sync_of_two_entries_at_the_CR3_reload()
    {
        var result = Run(Unsync, MmuMode.Shadow);
        Assert.That(result.Trace.OfType<EmulatedWriteEvent>(), Is.Empty);
        Assert.That(result.Trace.OfType<ShadowUnsyncEvent>().Select(e => e.GuestTable.Value), Is.EqualTo(new ulong[] { 0x3000 }));
        var sync = result.Trace.OfType<ShadowSyncEvent>().Single();
        Assert.That((sync.GuestTable.Value, sync.Entries, sync.Cleared), Is.EqualTo((0x3000UL, 2, 0)));
        Assert.That(result.Trace.OfType<PageFaultExit>().Select(f => f.ErrorCode), Is.EqualTo(new uint[] { 0x4, 0x4, 0x3, 0x4 }));
        Assert.That(WalkRefs(Unsync, MmuMode.Shadow), Is.EqualTo(new[] { 1, 4, 1, 1, 4, 1 }));
    }

    [Test]
    public void Unsync_invlpg_clears_the_changed_leaf_so_the_next_read_rebuilds_it_read_only()
    {
        var result = Run(UnsyncInvlpg, MmuMode.Shadow);
        Assert.That(result.Trace.OfType<InvlpgExit>().Select(e => e.Linear.Value), Is.EqualTo(new ulong[] { 0x401000 }));
        var maps = result.Trace.OfType<ShadowMapEvent>().Where(m => m.Gva.Value == 0x401000).Select(m => m.Writable).ToList();
        Assert.That(maps, Is.EqualTo(new[] { true, false }));
        Assert.That(WalkRefs(UnsyncInvlpg, MmuMode.Shadow), Is.EqualTo(new[] { 1, 4, 1, 1, 4, 1 }));
    }

    [Test]
    public void Prefetch_installs_the_three_neighbours_whose_host_pages_exist()
    {
        var prefetches = Run(Prefetch, MmuMode.Shadow).Trace.OfType<ShadowPrefetchEvent>().Select(p => (p.Page.Value, p.Count)).ToList();
        Assert.That(prefetches, Is.EqualTo(new[]
        {
            (0x400000UL, 0), (0x401000UL, 0), (0x402000UL, 0), (0x403000UL, 0), (0x600000UL, 3), (0x604000UL, 0),
        }));
        // The three prefetched pages miss the TLB and find their leaves: a miss without an exit each.
        Assert.That(WalkRefs(Prefetch, MmuMode.Shadow), Is.EqualTo(new[] { 1, 4, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1 }));
    }

    [Test]
    public void Flood_the_third_emulated_write_zaps_the_page_directory_table()
    {
        var result = Run(Flood, MmuMode.Shadow);
        Assert.That(result.Trace.OfType<EmulatedWriteEvent>().Select(e => e.Entry.Value), Is.EqualTo(new ulong[] { 0x2018, 0x2020, 0x2028 }));
        var zap = result.Trace.OfType<ShadowZapEvent>().Single();
        Assert.That((zap.GuestTable.Value, zap.Level, zap.Direct, zap.Cause), Is.EqualTo((0x2000UL, 2, false, ZapCause.Flood)));
        Assert.That(WalkRefs(Flood, MmuMode.Shadow), Is.EqualTo(new[] { 1, 4, 2, 3 }));
        Assert.That(Run(With(Flood, "shadow flood 0"), MmuMode.Shadow).Counters.ShadowZapped, Is.Zero);
    }

    // 13.3 ----------------------------------------------------------------------------------------

    [Test]
    public void Eptad_sets_the_write_bit_on_guest_table_violations_and_changes_no_count()
    {
        static List<ulong> Qualifications(string script) =>
            Run(script, MmuMode.Ept).Trace.OfType<EptViolationExit>().Select(v => v.Qualification).ToList();
        Assert.That(Qualifications(W1), Is.EqualTo(new ulong[] { 0x82, 0x82, 0x82, 0x82, 0x181 }));
        Assert.That(Qualifications(With(W1, "eptad off")), Is.EqualTo(new ulong[] { 0x81, 0x81, 0x81, 0x81, 0x181 }));
        foreach (var mode in Modes)
            Assert.That(Run(With(W1, "eptad off"), mode).Counters.Named(), Is.EqualTo(Run(W1, mode).Counters.Named()), $"{mode}");
    }

    // 13.4 ----------------------------------------------------------------------------------------

    [Test]
    public void Dirty_pml_exits_once_when_the_513th_page_would_be_logged()
    {
        var result = Run(Dirty, MmuMode.Ept);
        var full = result.Trace.OfType<PmlFullExit>().Single();
        Assert.That((full.Gpa.Value, full.Access), Is.EqualTo((0x1200000UL, 513L + 513)));
        var writes = result.Trace.OfType<TlbMissEvent>().Where(m => m.Kind == AccessKind.Write).ToList();
        Assert.That(writes, Has.Count.EqualTo(514));
        Assert.That(writes.Select(m => m.WalkRefs).Distinct(), Is.EqualTo(new[] { 3 }));
    }

    [Test]
    public void Dirty_wp_exits_once_per_first_write()
    {
        var ept = Run(With(Dirty, "dirty-track wp"), MmuMode.Ept).Trace.OfType<EptViolationExit>().Skip(518).ToList();
        Assert.That(ept, Has.Count.EqualTo(513));
        Assert.That(ept.Select(v => v.Qualification).Distinct(), Is.EqualTo(new ulong[] { 0x1aa }), "write, EPT allowed r-x, final");
        var shadow = Run(Dirty, MmuMode.Shadow).Trace.OfType<PageFaultExit>().Skip(513).ToList();
        Assert.That(shadow, Has.Count.EqualTo(513));
        Assert.That(shadow.Select(f => f.ErrorCode).Distinct(), Is.EqualTo(new uint[] { 0x7 }), "present, write, user");
        Assert.That(Run(Dirty, MmuMode.Software).Trace.OfType<MmuTrapExit>().Count(t => t.Kind == AccessKind.Write), Is.EqualTo(513));
    }

    // 13.5 and 13.6 -------------------------------------------------------------------------------

    [Test]
    public void Prealloc_faults_no_host_page_and_costs_W1_less_five_host_faults()
    {
        foreach (var mode in Modes)
        {
            Assert.That(Run(Prealloc, mode).Trace.OfType<HostFaultEvent>(), Is.Empty, $"{mode}");
            var saved = mode == MmuMode.Native ? 0UL : 5 * (2000UL + 400);
            Assert.That(Run(Prealloc, mode).Counters.Cycles, Is.EqualTo(Run(W1, mode).Counters.Cycles - saved), $"{mode}");
        }
        // The slot's host frames are handed out at VM creation, in address order, after the EPT root (ept only).
        var eptMap = Run(Prealloc, MmuMode.Ept).Trace.OfType<EptMapEvent>().First();
        Assert.That((eptMap.Gpa.Value, eptMap.Hpa.Value), Is.EqualTo((0x0UL, 0x1_0000_1000UL)));
        var shadowMap = Run(Prealloc, MmuMode.Shadow).Trace.OfType<ShadowMapEvent>().Single();
        Assert.That((shadowMap.Gva.Value, shadowMap.Hpa.Value), Is.EqualTo((0x400000UL, 0x1_0000_1000UL)), "gpa 0x1000");
    }

    [Test]
    public void Collect_dirty_cleans_two_pages_and_the_next_write_is_logged_again()
    {
        foreach (var mode in Modes)
        {
            var collected = Run(Collect, mode).Trace.OfType<DirtyCollectEvent>().Single();
            Assert.That(collected.Pages, Is.EqualTo(2), $"{mode}");
        }
        // Under write protection the shadow leaf lost W: the write after the collection faults on a present leaf.
        Assert.That(Run(Collect, MmuMode.Shadow).Trace.OfType<PageFaultExit>().Select(f => f.ErrorCode), Is.EqualTo(new uint[] { 0x6, 0x6, 0x7 }));
        // Under PML the write after the collection walks (9 references: the guest caches were flushed) and exits not at all.
        Assert.That(WalkRefs(Collect, MmuMode.Ept), Is.EqualTo(new[] { 1, 6, 3, 3, 3, 3, 3, 3, 9, 3 }));
    }
}
