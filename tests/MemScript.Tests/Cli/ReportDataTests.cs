using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MemScript.Cli;
using MemScript.Cli.Reports;
using MemScript.Engine.Interpreter;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>
/// What <c>memscript report</c> computes, apart from how the page draws it: the first walks of an
/// address, the segments, the timeline, the memslot map and the assumption table, as approved
/// snapshots of every example and as the numbers the article tells.
/// </summary>
public class ReportDataTests
{
    internal static ReportInput Input(string example)
    {
        var source = new SourceText("examples/" + example, File.ReadAllText(Path.Combine(Paths.Examples, example)));
        return new ReportInput(source.Path, source, Scenario.CheckAsShipped(source.Text, source.Path));
    }

    internal static ReportData Build(string example, IReadOnlyList<MmuMode>? modes = null, ulong? at = null, string? after = null,
        long maxAccesses = 0, long rerunLimit = ReportAssumptions.DefaultLimit) =>
        ReportBuilder.Build(Input(example), modes ?? Vocabulary.AllModes, new ReportBuilder.Request(at, after, maxAccesses, rerunLimit, Paths.Examples));

    public static IEnumerable<TestCaseData> Examples() =>
        Directory.GetFiles(Paths.Examples, "*.memscript").Select(Path.GetFileName).Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(f).SetName($"report data of {Path.GetFileNameWithoutExtension(f)}"));

    [Test, TestCaseSource(nameof(Examples))]
    public void Data_snapshot(string example)
    {
        var data = Build(example);
        Snapshot.Verify(Path.Combine(Snapshot.Examples, Path.GetFileNameWithoutExtension(example)), "all.html-data", ReportDataText.Write(data));
        // Following the walks (an explain at each TLB miss of the address) changes nothing the run counts.
        foreach (var run in data.Runs)
        {
            var plain = ScriptInterpreter.Run(Input(example).Script, new RunOptions { Mode = run.Mode, BaseDirectory = Paths.Examples });
            Assert.That(run.Counters.Named(), Is.EqualTo(plain.Counters.Named()), $"{run.Mode}");
            Assert.That(run.Counters.CyclesByKind, Is.EqualTo(plain.Counters.CyclesByKind), $"{run.Mode}");
        }
        // Every section is on the page, and the page stays small.
        var html = HtmlReport.Render(data);
        foreach (var (id, _) in HtmlReport.Sections) Assert.That(html, Does.Contain($"<section id=\"{id}\">"), id);
        Assert.That(System.Text.Encoding.UTF8.GetByteCount(html), Is.LessThan(1 << 20), "under 1 MiB");
    }

    // ------------------------------------------------------------ the first walks

    [Test]
    public void W1_in_ept_climbs_the_staircase_of_EPT_violations()
    {
        var walks = Build("00-spec-w1.memscript", [MmuMode.Ept]).Modes[0].FirstWalks;
        Assert.That(walks.Address, Is.EqualTo(0x400010UL));
        Assert.That(walks.Defaulted, "no --at: the first access");
        Assert.That(walks.Walks.Select(w => w.CountedRefs), Is.EqualTo(new[] { 1, 9, 14, 19, 24, 24 }));
        // Each of the first five stops at the EPT entry that is not there yet: the root, then the PT entry of
        // each guest table in turn, then the data page's.
        var stops = walks.Walks.Take(5).Select(w => w.Hardware[^1]).ToList();
        Assert.That(stops.Select(r => (r.Kind, r.Level, r.State, r.Translating)), Is.EqualTo(new[]
        {
            (RefKind.Ept, 4, RefState.NotPresent, 0x0UL), (RefKind.Ept, 1, RefState.NotPresent, 0x2000UL), (RefKind.Ept, 1, RefState.NotPresent, 0x3000UL),
            (RefKind.Ept, 1, RefState.NotPresent, 0x4000UL), (RefKind.Ept, 1, RefState.NotPresent, 0x1010UL),
        }));
        // What they raised: EPT_VIOLATION, bit 8 clear on the guest's tables and set on the final translation.
        var exits = walks.Walks.Take(5).Select(w => w.Events[0]).Cast<EptViolationExit>().ToList();
        Assert.That(exits.Select(x => x.Qualification), Is.EqualTo(new ulong[] { 0x81, 0x81, 0x81, 0x81, 0x181 }));
        Assert.That(walks.Walks[^1].Filled && walks.Filled && !walks.Cut);
        Assert.That(walks.Walks[^1].Hardware.All(r => r.State == RefState.Ok) && walks.Walks[^1].Hardware.Length == 24);
    }

    [Test]
    public void W1_in_shadow_takes_one_page_fault_then_walks_the_shadow_table()
    {
        var walks = Build("00-spec-w1.memscript", [MmuMode.Shadow]).Modes[0].FirstWalks;
        Assert.That(walks.Walks.Select(w => w.CountedRefs), Is.EqualTo(new[] { 1, 4 }));
        var fault = (PageFaultExit)walks.Walks[0].Events[0];
        Assert.That(fault.ErrorCode, Is.EqualTo(0x4u), "not present, read, user");
        Assert.That(walks.Walks[0].Software, Has.Length.EqualTo(4), "KVM walks the guest's table in software");
        Assert.That(walks.Walks[0].Events.OfType<ShadowMapEvent>().Count(), Is.EqualTo(1));
        Assert.That(walks.Walks[1].Filled);
    }

    [Test]
    public void The_staircase_is_drawn_in_order_with_its_exits()
    {
        var html = HtmlReport.Render(Build("00-spec-w1.memscript", [MmuMode.Ept]));
        var staircase = Regex.Match(html, "<div class=\"staircase\" id=\"staircase-ept\">(.*?)\n</div>", RegexOptions.Singleline).Groups[1].Value;
        Assert.That(Regex.Matches(staircase, "data-refs=\"([0-9]+)\"").Select(m => m.Groups[1].Value), Is.EqualTo(new[] { "1", "9", "14", "19", "24", "24" }));
        Assert.That(Regex.Matches(staircase, "<span class=\"exit\">EPT_VIOLATION</span>").Count, Is.EqualTo(5));
        Assert.That(Regex.Matches(staircase, "st-stop").Count, Is.EqualTo(5), "one stop point a walk, the last walk has none");
        // The qualifications printed under the rows, decoded.
        Assert.That(Regex.Matches(html, "qualification 0x81 = read").Count, Is.EqualTo(4));
        Assert.That(html, Does.Contain("qualification 0x181 = read"));
    }

    [Test]
    public void At_picks_the_address_and_a_page_never_missed_says_so()
    {
        var walks = Build("00-spec-w1.memscript", [MmuMode.Ept], at: 0x400ff8).Modes[0].FirstWalks;
        Assert.That(walks.Defaulted, Is.False);
        Assert.That(walks.Walks.Select(w => w.CountedRefs), Is.EqualTo(new[] { 1, 9, 14, 19, 24, 24 }), "the same 4 KiB page as the first access");

        var none = Build("00-spec-w1.memscript", [MmuMode.Ept], at: 0x900000).Modes[0].FirstWalks;
        Assert.That(none.Walks, Is.Empty);
        Assert.That(none.Note, Does.Contain("no TLB miss at this 4 KiB page"));
    }

    // ------------------------------------------------------------ the moment of the path

    [Test]
    public void After_a_label_or_a_count_draws_the_path_at_that_moment()
    {
        var atLabel = Build("02-three-generations.memscript", [MmuMode.Ept], after: "steady", rerunLimit: 0);
        Assert.That(atLabel.Moment, Is.EqualTo(new PathMoment(2048, "steady")), "the sweep touches 8 MiB / 4 KiB pages before the mark");
        Assert.That(atLabel.Modes[0].Path!.AccessesDone, Is.EqualTo(2048));

        var atCount = Build("02-three-generations.memscript", [MmuMode.Ept], after: "1_000", rerunLimit: 0);
        Assert.That(atCount.Modes[0].Path!.AccessesDone, Is.EqualTo(1000));
        Assert.That(HtmlReport.Render(atCount), Does.Contain("after 1,000 accesses (--after 1_000)"));

        var atStart = Build("00-spec-w1.memscript", [MmuMode.Ept], after: "0", rerunLimit: 0);
        Assert.That(atStart.Modes[0].Path!.Hardware.Select(r => r.State), Is.EqualTo(new[] { RefState.NotPresent }), "a fresh VM: the EPT root is empty");
    }

    [Test]
    public void After_an_unknown_label_is_a_usage_error_that_lists_the_marks()
    {
        var stopped = Assert.Throws<ReportStopped>(() => Build("02-three-generations.memscript", [MmuMode.Native], after: "stedy"))!;
        Assert.That(stopped.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(stopped.Message, Is.EqualTo("--after 'stedy' is neither a number of accesses nor a mark of the run; its marks are 'first touch', 'steady'"));
    }

    // ------------------------------------------------------------ segments

    [Test]
    public void The_segment_tables_give_the_JSON_reports_segments()
    {
        var data = Build("02-three-generations.memscript", rerunLimit: 0);
        var html = HtmlReport.Render(data);
        using var json = JsonDocument.Parse(JsonReport.Render(data.Context));
        var checkedCells = 0;
        foreach (var (run, k) in json.RootElement.GetProperty("runs").EnumerateArray().Select((r, k) => (r, k)))
        {
            var mode = data.Runs[k].Mode;
            foreach (var segment in run.GetProperty("segments").EnumerateArray())
            {
                var index = segment.GetProperty("index").GetInt32();
                foreach (var figure in new[] { "cycles_per_access", "bandwidth_mbs", "slowdown" })
                {
                    if (figure == "slowdown" && mode == MmuMode.Native) continue; // native against itself is no comparison
                    var cell = Cell(html, figure, index, k);
                    var expected = segment.GetProperty(figure);
                    if (expected.ValueKind == JsonValueKind.Null) Assert.That(cell, Is.Null, $"{mode} segment {index} {figure}");
                    else Assert.That(cell, Is.EqualTo(expected.GetDouble()).Within(0.0005), $"{mode} segment {index} {figure}");
                    checkedCells++;
                }
            }
        }
        Assert.That(checkedCells, Is.EqualTo(3 * (4 * 2 + 3)), "3 segments: two figures in 4 modes, slowdown in 3");
    }

    /// <summary>The exact value of a figure's cell in the segment tables (null: the cell shows "-").</summary>
    private static double? Cell(string html, string figure, int segment, int column)
    {
        var table = Regex.Match(html, $"<table class=\"numbers segments\" data-figure=\"{figure}\">(.*?)</table>", RegexOptions.Singleline).Groups[1].Value;
        var row = Regex.Match(table, $"<tr data-segment=\"{segment}\">(.*?)</tr>", RegexOptions.Singleline).Groups[1].Value;
        var cell = Regex.Matches(row, "<td[^>]*>").Skip(1 + column).First().Value;
        var value = Regex.Match(cell, "data-value=\"([^\"]+)\"");
        return value.Success ? double.Parse(value.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    // ------------------------------------------------------------ which assumption decides

    [Test]
    public void Without_the_paging_structure_caches_shadow_overtakes_ept_in_three_generations()
    {
        var data = Build("02-three-generations.memscript");
        var asRun = ReportAssumptions.Ranking(data.Runs.Select(r => (r.Mode, (ulong?)r.Counters.Cycles)));
        Assert.That(asRun, Is.EqualTo("ept < shadow < software"));
        var pwc = data.Assumptions.Rows.Single(r => r.Feature == "pwc");
        Assert.That((pwc.Value, pwc.Classic), Is.EqualTo(("on 32", "off")));
        Assert.That(ReportAssumptions.Ranking(pwc.Runs.Select(r => (r.Mode, r.Cycles))), Is.EqualTo("shadow < ept < software"));
        // A feature that touches no mode leaves every count as it was (reruns are not guesses).
        var tlb1g = data.Assumptions.Rows.Single(r => r.Feature == "tlb1g");
        Assert.That(tlb1g.Runs.Select(r => r.Cycles), Is.EqualTo(data.Runs.Select(r => (ulong?)r.Counters.Cycles)));

        var html = HtmlReport.Render(data);
        Assert.That(html, Does.Match("<tr class=\"changed\"><td>pwc</td>"));
        Assert.That(html, Does.Contain("with <strong>pwc off</strong> the ranking becomes shadow &lt; ept &lt; software"));
    }

    [Test]
    public void When_no_feature_reorders_the_modes_the_page_says_so_before_what_each_mode_depends_on()
    {
        var html = HtmlReport.Render(Build("07-mmio.memscript"));
        var findings = Regex.Match(html, "<ul class=\"findings\">\n(.*?)</ul>", RegexOptions.Singleline).Groups[1].Value;
        Assert.That(Regex.Matches(findings, "<li>(.*?)</li>").Select(m => m.Groups[1].Value), Is.EqualTo(new[]
        {
            "no single feature changes the ranking of the modes.",
            "shadow depends most on <strong>pwc</strong> (+1.1% with pwc off).",
            "ept depends most on <strong>pwc</strong> (+11.1% with pwc off).",
        }));
        Assert.That(html, Does.Not.Contain("<tr class=\"changed\">"));
    }

    [Test]
    public void Reruns_are_bounded_by_the_rerun_limit_and_keep_the_access_limit()
    {
        var skipped = Build("02-three-generations.memscript", [MmuMode.Ept], rerunLimit: 1000).Assumptions;
        Assert.That(skipped.Rows, Is.Empty);
        Assert.That(skipped.Skipped, Is.EqualTo("not rerun: a run made 22,048 accesses, more than the --rerun-limit of 1,000, "
                                                + "and the table reruns the scenario 7 times in every mode"));

        var limited = Build("02-three-generations.memscript", [MmuMode.Ept], maxAccesses: 100).Assumptions;
        var reruns = limited.Rows.Where(r => !r.AlreadyClassic).SelectMany(r => r.Runs).ToList();
        Assert.That(reruns, Is.Not.Empty);
        Assert.That(reruns.Select(r => r.Error), Has.All.Contains("limit of 100 accesses"), "every rerun stops where the run stopped");

        var classic = Build("00-spec-w1.memscript", [MmuMode.Ept]).Assumptions;
        Assert.That(classic.Skipped, Does.StartWith("the scenario runs under the classic profile"));
    }

    [Test]
    public void Reruns_side_by_side_give_the_same_table_every_time()
    {
        var first = Build("22-dirty-pml-vs-wp.memscript").Assumptions;
        var second = Build("22-dirty-pml-vs-wp.memscript").Assumptions;
        Assert.That(second.Rows.SelectMany(r => r.Runs), Is.EqualTo(first.Rows.SelectMany(r => r.Runs)));
    }

    // ------------------------------------------------------------ one mode

    [Test]
    public void A_single_mode_report_compares_nothing()
    {
        var html = HtmlReport.Render(Build("02-three-generations.memscript", [MmuMode.Ept]));
        Assert.That(html, Does.Not.Contain("slowdown vs"));
        Assert.That(html, Does.Not.Contain("slowdown against native"));
        Assert.That(html, Does.Not.Contain("fastest virtualized mode"));
        Assert.That(html, Does.Not.Contain("<th>ranking</th>"));
        Assert.That(html, Does.Contain("<table class=\"numbers segments\" data-figure=\"cycles_per_access\">"), "the segments are still there");
    }

    // ------------------------------------------------------------ the timeline

    [Test]
    public void The_timeline_keeps_a_bounded_number_of_buckets_whatever_the_run()
    {
        var counter = new TimelineCounter(ReportTraceSink.MaxBuckets);
        const long accesses = 1_000_003;
        for (var a = 1L; a <= accesses; a++) counter.Count(new TlbMissEvent(0, a, new Gva(0x1000), AccessKind.Read, 4));
        var timeline = counter.Finish(accesses, []);
        Assert.That(timeline.Buckets, Is.LessThanOrEqualTo(ReportTraceSink.MaxBuckets));
        Assert.That(timeline.BucketWidth, Is.EqualTo(4096), "the smallest power of two that fits a million accesses in 256 buckets");
        var misses = timeline.Series.Single(s => s.Name == "TLB misses");
        Assert.That(misses.Total, Is.EqualTo(accesses), "merging loses no event");
        Assert.That(misses.Counts.Take(timeline.Buckets - 1), Has.All.EqualTo(4096L));
    }

    [Test]
    public void A_long_run_gives_a_page_as_small_as_a_short_one()
    {
        const string text = "slot 0 gpa 0x0 size 16M hva 0x7f0000000000\nprocess p { map 0x400000 size 8M to 0x0 rw }\n"
                            + "run p { repeat 40 { mark \"pass\" random read 50000 in 0x400000 size 8M seed 7 } }\n";
        var source = new SourceText("long.memscript", text);
        var data = ReportBuilder.Build(new ReportInput("long.memscript", source, Scenario.Check(text)), [MmuMode.Ept], new ReportBuilder.Request(RerunLimit: 0));
        var t = data.Modes[0].Timeline;
        Assert.That(t.Accesses, Is.EqualTo(2_000_000));
        Assert.That(t.Buckets, Is.LessThanOrEqualTo(ReportTraceSink.MaxBuckets));
        Assert.That(t.Marks, Has.Length.EqualTo(40));
        Assert.That(System.Text.Encoding.UTF8.GetByteCount(HtmlReport.Render(data)), Is.LessThan(400_000));
    }
}
