using MemScript.Cli.Reports;
using MemScript.Engine.Interpreter;
using MemScript.Engine.Tracing;
using MemScript.Language;
using MemScript.Language.Syntax;
using MemScript.Tests.Support;

namespace MemScript.Tests.Engine;

/// <summary>
/// The walk memo replays repeated walks; these scenarios stress where it could go stale or lose entries
/// (invalidation, the epoch counter wrapping around, growth, many processes), and compare every byte of
/// the report and trace with the memo off.
/// </summary>
public class WalkMemoTests
{
    private static (string Report, string[] Trace) RunBoth(string text, MmuMode mode, bool memo)
    {
        var script = Scenario.Check(text);
        var result = ScriptInterpreter.Run(script, new RunOptions { Mode = mode, Trace = true, Accelerate = memo });
        Assert.That(result.Error, Is.Null, () => result.Error!.Message);
        var report = JsonReport.Render(new ReportContext("t", new SourceText("t.memscript", text), [result]));
        return (report, result.Trace.Select(TraceFormatter.Format).ToArray());
    }

    private static void AssertSameWithAndWithoutMemo(string text)
    {
        foreach (var mode in Vocabulary.AllModes)
        {
            var with = RunBoth(text, mode, memo: true);
            var without = RunBoth(text, mode, memo: false);
            Assert.That(with.Report, Is.EqualTo(without.Report), $"{mode}: report");
            Assert.That(with.Trace, Is.EqualTo(without.Trace), $"{mode}: trace");
        }
    }

    [Test]
    public void Protect_between_accesses_is_seen_by_the_next_walk_even_after_the_epoch_counter_wraps()
    {
        // 5,000 rounds change a present entry twice each: 10,000 invalidations, past the 8,192 epochs
        // the memo counts before it clears itself. Every write after a protect to read-only must fault.
        const string text = """
            slot 0 gpa 0x0 size 16M hva 0x7f0000000000
            process p { map 0x40000000 size 64K to 0x100000 rw }
            run p {
              repeat 5000 as i {
                write 0x40000000 + (i % 16) * 4K
                protect 0x40000000 size 64K r
                write 0x40000000 + (i % 16) * 4K
                protect 0x40000000 size 64K rw
              }
            }
            """;
        var r = Scenario.Run(text, MmuMode.Ept);
        Assert.That(r.Counters.Segv, Is.EqualTo(5_000), "each write to the read-only region faults");
        AssertSameWithAndWithoutMemo(text);
    }

    [TestCase(MmuMode.Native)]
    [TestCase(MmuMode.Ept)]
    public void A_walk_remembered_before_the_epoch_counter_wrapped_is_not_replayed_after_it(MmuMode mode)
    {
        // A's walk is remembered in epoch 0, then A becomes read-only (epoch 1). 8,191 more changes to
        // B bring the counter round to 0 again, when A's stale, writable walk would match once more.
        const string text = """
            slot 0 gpa 0x0 size 16M hva 0x7f0000000000
            process p { map 0x40000000 to 0x100000 rw  map 0x40001000 to 0x101000 rw }
            run p {
              write 0x40000000
              protect 0x40000000 size 4K r
              read 0x40001000
              repeat 4095 { protect 0x40001000 size 4K r  protect 0x40001000 size 4K rw }
              protect 0x40001000 size 4K r
              write 0x40000000
            }
            """;
        Assert.That(Scenario.Run(text, mode).Counters.Segv, Is.EqualTo(1), "the write to read-only A faults");
    }

    [Test]
    public void Random_reads_over_more_pages_than_the_first_memo_holds_give_the_same_counts()
    {
        // 16 Ki pages and 60,000 reads: the memo starts at 4 Ki entries and grows while the run goes on.
        const string text = """
            slot 0 gpa 0x0 size 128M hva 0x7f0000000000
            process p { map 0x40000000 size 64M to 0x1000000 r }
            run p { random read 60000 in 0x40000000 size 64M seed 5 }
            """;
        AssertSameWithAndWithoutMemo(text);
    }

    [Test]
    public void Processes_sharing_addresses_never_get_each_others_walks()
    {
        // The same virtual pages map different frames (and one read-only) in each process; without PCID
        // every switch flushes the TLB, so each access after a switch walks again.
        const string text = """
            slot 0 gpa 0x0 size 64M hva 0x7f0000000000
            process a { map 0x40000000 size 64K to 0x1000000 rw }
            process b { map 0x40000000 size 64K to 0x2000000 r }
            run a {
              repeat 50 as i {
                write 0x40000000 + (i % 16) * 4K
                switch b
                write 0x40000000 + (i % 16) * 4K
                read 0x40000000 + (i % 16) * 4K
                switch a
              }
            }
            """;
        var r = Scenario.Run(text, MmuMode.Shadow);
        Assert.That(r.Counters.Segv, Is.EqualTo(50), "b's pages are read-only");
        AssertSameWithAndWithoutMemo(text);
    }

    [Test]
    public void Unmap_then_map_elsewhere_walks_to_the_new_frame()
    {
        const string text = """
            slot 0 gpa 0x0 size 64M hva 0x7f0000000000
            process p { map 0x40000000 size 16K to 0x1000000 rw }
            run p {
              read 0x40000000
              unmap 0x40000000 size 16K
              map 0x40000000 size 16K to 0x2000000 r
              read 0x40000000
              write 0x40000000
            }
            """;
        var r = Scenario.Run(text, MmuMode.Ept, trace: true);
        var dataPages = r.Trace.OfType<EptViolationExit>().Where(v => (v.Qualification & (1 << 8)) != 0).Select(v => v.Gpa.Value).ToList();
        Assert.That(dataPages, Is.EqualTo(new ulong[] { 0x1000000, 0x2000000 }), "the second read faults in the new frame");
        Assert.That(r.Counters.Segv, Is.EqualTo(1), "the new mapping is read-only");
        AssertSameWithAndWithoutMemo(text);
    }
}
