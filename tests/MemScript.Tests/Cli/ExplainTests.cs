using MemScript.Cli.Commands;
using MemScript.Engine.Interpreter;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary><c>memscript explain</c>: the path of one address, level by level, snapshot-tested on examples.</summary>
public class ExplainTests
{
    private static (int Code, string Out, string Err) Explain(string example, string at, string? mode = null, long? after = null, string? process = null,
        Profile? profile = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = ExplainCommand.Execute(new ExplainCommand.Settings("examples/" + example, at, process, mode, after,
            new MemScript.Language.Checking.CheckOptions { Profile = profile }), output, error);
        return (code, output.ToString(), error.ToString());
    }

    [SetUp]
    public void InRepository() => Directory.SetCurrentDirectory(Paths.RepositoryRoot);

    public static IEnumerable<TestCaseData> Snapshots()
    {
        (string File, string At, string Mode, long? After)[] cases =
        [
            ("01-demo-page.memscript", "0x400010", "native", null),
            ("01-demo-page.memscript", "0x400010", "software", null),
            ("01-demo-page.memscript", "0x400010", "shadow", null),
            ("01-demo-page.memscript", "0x400010", "ept", null),
            ("01-demo-page.memscript", "0x400010", "ept", 0),
            ("04-demand-paging.memscript", "0x10003000", "ept", 2),
            ("05-pages-2m.memscript", "0x40000000", "ept", null),
            ("07-mmio.memscript", "0x500000", "ept", null),
            ("07-mmio.memscript", "0x500000", "shadow", null),
            ("10-five-level.memscript", "0x80000000000000", "ept", null),
        ];
        foreach (var (file, at, mode, after) in cases)
            yield return new TestCaseData(file, at, mode, after).SetName($"explain {Path.GetFileNameWithoutExtension(file)} at {at} in {mode}{(after is { } n ? $" after {n}" : "")}");
    }

    [Test, TestCaseSource(nameof(Snapshots))]
    public void Explain_snapshot(string file, string at, string mode, long? after)
    {
        var (code, output, error) = Explain(file, at, mode, after);
        Assert.That(code, Is.Zero, error);
        Snapshot.Verify(Path.Combine(Snapshot.Explain, Path.GetFileNameWithoutExtension(file)), $"{at}.{mode}{(after is { } n ? ".after" + n : "")}", output);
    }

    [Test]
    public void A_4K_page_under_EPT_costs_24_references_and_under_shadow_4()
    {
        // The textbook machine: without paging-structure caches every miss is a full walk.
        var ept = Explain("01-demo-page.memscript", "0x400010", "ept", profile: Profile.Classic);
        Assert.That(ept.Out, Does.Contain("costs 24 walk references: 720 cycles"));
        // Four guest entries, each after a 4-level EPT walk of its table, then the data page's EPT walk.
        Assert.That(ept.Out.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"L\d EPT ")), Is.EqualTo(20));
        var shadow = Explain("01-demo-page.memscript", "0x400010", "shadow", profile: Profile.Classic);
        Assert.That(shadow.Out, Does.Contain("costs 4 walk references: 120 cycles"));
        // With them (the default) the next miss after the run reads only what the caches do not hold.
        Assert.That(Explain("01-demo-page.memscript", "0x400010", "ept").Out, Does.Contain("costs 3 walk references: 90 cycles"));
        Assert.That(shadow.Out.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"L\d shadow ")), Is.EqualTo(4));
    }

    [Test]
    public void Before_the_timeline_the_walk_stops_at_the_empty_EPT_root()
    {
        var (_, output, _) = Explain("01-demo-page.memscript", "0x400010", "ept", after: 0);
        Assert.That(output, Does.Contain("EPT_VIOLATION (48)"));
        Assert.That(output, Does.Contain("costs 1 walk reference:"));
    }

    [Test]
    public void The_explained_cost_matches_what_a_run_counts()
    {
        // Flush the TLB after the timeline and touch the address again: the run's walk.refs delta must
        // equal what explain predicted for that miss.
        var text = File.ReadAllText(Path.Combine(Paths.Examples, "10-five-level.memscript"));
        var (_, output, _) = Explain("10-five-level.memscript", "0x80000000000000", "ept");
        Assert.That(output, Does.Contain("costs 35 walk references"));
        var r = Support.Scenario.Run(text.Replace("  expect walk.refs == 5 + 5 in native", "  flush tlb\n  mark \"again\"\n  read 0x0080000000000000\n  expect walk.refs == 35 since \"again\" in ept"), MmuMode.Ept);
        Assert.That(r.ExpectsPassed, Is.True);
    }

    [Test]
    public void Bad_address_and_unknown_process_are_usage_errors()
    {
        Assert.That(Explain("01-demo-page.memscript", "fish").Code, Is.EqualTo(2));
        var (code, _, error) = Explain("01-demo-page.memscript", "0x400010", process: "nobody");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain("no process 'nobody'"));
    }

    [Test]
    public void Explain_says_whether_the_shadow_leaf_table_is_unsync()
    {
        // 19-shadow-unsync: the second page's trapped write makes the leaf table unsync (access 2);
        // the switch away and back (after access 16) syncs and protects it again.
        var unsync = Explain("19-shadow-unsync.memscript", "0x10001000", "shadow", after: 2);
        Assert.That(unsync.Out, Does.Contain("note: the shadow leaf table is unsync"));
        var synced = Explain("19-shadow-unsync.memscript", "0x10001000", "shadow", after: 16);
        Assert.That(synced.Out, Does.Contain("note: the shadow leaf table is in sync"));
        var classic = Explain("19-shadow-unsync.memscript", "0x10001000", "shadow", after: 2, profile: Profile.Classic);
        Assert.That(classic.Out, Does.Contain("in sync: the guest's page table is write-protected, so a write to it exits and is emulated"));
        Assert.That(Explain("19-shadow-unsync.memscript", "0x10001000", "ept", after: 2).Out, Does.Not.Contain("shadow leaf table"));
    }

    [Test]
    public void Explain_says_whether_a_logged_page_is_clean_or_dirty_and_what_its_next_write_costs()
    {
        // 22-dirty-pml-vs-wp: 2,048 pages written, collected (clean), written again, collected again.
        var clean = Explain("22-dirty-pml-vs-wp.memscript", "0x40001000", "ept", after: 2049);
        Assert.That(clean.Out, Does.Contain("page gpa 0x1001000 is clean; its next write is logged").And.Contain("PML buffer (1 of 512 used"));
        var dirty = Explain("22-dirty-pml-vs-wp.memscript", "0x40001000", "ept", after: 3000);
        Assert.That(dirty.Out, Does.Contain("page gpa 0x1001000 is dirty"));
        Assert.That(Explain("22-dirty-pml-vs-wp.memscript", "0x40001000", "shadow", after: 2049).Out, Does.Contain("shadow leaf lacks W"));
        Assert.That(Explain("22-dirty-pml-vs-wp.memscript", "0x40001000", "native", after: 2049).Out, Does.Contain("at no cost"));
        // A page in no dirty-log slot has no note about logging.
        Assert.That(Explain("01-demo-page.memscript", "0x400010", "ept").Out, Does.Not.Contain("dirty log"));
    }
}
