using System.Text.Json;
using MemScript.Cli.Commands;
using MemScript.Cli.Study;

namespace MemScript.Tests.Cli;

/// <summary>
/// <c>memscript grid</c> (LANGUAGE.md v2, "Parameters and studies"): the rows and their order, the same
/// bytes whatever the number of workers, shards that make the whole, usage errors, failing
/// combinations, Ctrl-C and the progress bar.
/// </summary>
public class GridTests
{
    /// <summary>A small TLB-reach study: a warm-up pass, a mark, random reads; pages and sizes are parameters.</summary>
    internal const string Study = """
        profile modern
        let ws = 64K
        let page = 4K
        let reads = 300
        let data = (ws + page - 1) / page * page
        let tables = (16M + page - 1) / page * page
        slot 0 gpa 0x0 size tables + data hva 0x7f0000000000 backing page
        process app { map 0x8000000000 size data page page to tables rw }
        run app {
          sweep read 0x8000000000 size data stride page
          mark "random"
          random read reads in 0x8000000000 size ws
          expect accesses == reads since "random"
        }

        """;

    internal static string TempStudy(string text = Study) => FatalErrorTests.TempFile(text);

    internal static (int Code, string Out, string Err) Grid(GridCommand.Settings settings, CancellationToken interrupt = default)
    {
        var (output, error) = (new StringWriter { NewLine = "\n" }, new StringWriter { NewLine = "\n" });
        var code = GridCommand.Execute(settings, output, error, interrupt);
        return (code, output.ToString(), error.ToString());
    }

    private static string[] Lines(string csv) => csv.TrimEnd('\n').Split('\n');

    [Test]
    public void The_same_bytes_whatever_the_number_of_workers([Values("csv", "json", "text", "html")] string format)
    {
        var file = TempStudy();
        string[] sets = ["ws=16K,64K,1M", "page=4K,2M"];
        var one = Grid(new GridCommand.Settings(file, sets, Jobs: 1, Format: format));
        var four = Grid(new GridCommand.Settings(file, sets, Jobs: 4, Format: format));
        Assert.That(one.Code, Is.Zero, one.Err);
        Assert.That(four.Out, Is.EqualTo(one.Out));
        Assert.That(one.Out, Has.Length.GreaterThan(1000));
    }

    [Test]
    public void Rows_come_by_combination_then_mode_then_segment_and_the_first_set_varies_slowest()
    {
        var (code, csv, error) = Grid(new GridCommand.Settings(TempStudy(), ["ws=16K,64K", "page=4K,2M,1G"], Format: "csv", Jobs: 2));
        Assert.That(code, Is.Zero, error);
        var lines = Lines(csv);
        var header = lines[0].Split(',');
        Assert.That(header[..6], Is.EqualTo(new[] { "combination", "ws", "page", "mode", "segment", "segment name" }));
        var keys = lines.Skip(1).Select(l => string.Join(' ', l.Split(',')[..6])).ToList();
        var expected = new List<string>();
        var index = 0;
        foreach (var ws in new[] { "16K", "64K" })
            foreach (var page in new[] { "4K", "2M", "1G" })
            {
                foreach (var mode in new[] { "native", "software", "shadow", "ept" })
                {
                    expected.Add($"{index} {ws} {page} {mode} 0 start");
                    expected.Add($"{index} {ws} {page} {mode} 1 random");
                }
                index++;
            }
        Assert.That(keys, Is.EqualTo(expected));
    }

    [Test]
    public void Every_counter_every_exit_reason_and_every_figure_is_a_column()
    {
        var (_, csv, _) = Grid(new GridCommand.Settings(TempStudy(), ["ws=1M"], Format: "csv", Mode: "native,ept"));
        var lines = Lines(csv);
        var header = lines[0].Split(',');
        Assert.That(header, Is.SupersetOf(Vocabulary.Counters.Select(c => c.Name)));
        Assert.That(header, Is.SupersetOf(Vocabulary.ExitReasons.Select(r => "exits." + r.Name)));
        Assert.That(header[^6..], Is.EqualTo(new[] { "cycles/access", "tlb miss rate", "exits/1000", "slowdown", "bandwidth MB/s", "error" }));
        // ept's warm-up takes EPT violations and no other exit: every other reason is a 0, not an empty field.
        var ept = lines.Single(l => l.StartsWith("0,1M,ept,0,", StringComparison.Ordinal)).Split(',');
        Assert.That(ept[Array.IndexOf(header, "exits.EPT_VIOLATION")], Is.EqualTo("260"));
        Assert.That(ept[Array.IndexOf(header, "exits.CR_ACCESS")], Is.EqualTo("0"));
        Assert.That(ept[Array.IndexOf(header, "exits.MMU_TRAP")], Is.EqualTo("0"));
        // The measured segment: 300 reads of 256 warm pages, all TLB hits, and 3 decimals for every figure.
        var warm = lines.Single(l => l.StartsWith("0,1M,ept,1,", StringComparison.Ordinal)).Split(',');
        Assert.That(warm[Array.IndexOf(header, "accesses")], Is.EqualTo("300"));
        Assert.That(warm[Array.IndexOf(header, "cycles/access")], Is.EqualTo("1.000"));
        Assert.That(warm[Array.IndexOf(header, "slowdown")], Is.EqualTo("1.000"), "against the native run of the same combination");
        Assert.That(warm[^1], Is.Empty, "no error");
    }

    [Test]
    public void Slowdown_is_empty_when_native_did_not_run()
    {
        var (_, csv, _) = Grid(new GridCommand.Settings(TempStudy(), ["ws=1M"], Format: "csv", Mode: "ept"));
        var lines = Lines(csv);
        var slowdown = Array.IndexOf(lines[0].Split(','), "slowdown");
        Assert.That(lines.Skip(1).Select(l => l.Split(',')[slowdown]), Is.All.Empty);
    }

    [Test]
    public void Shards_sorted_by_combination_are_the_whole_study_byte_for_byte()
    {
        var file = TempStudy();
        string[] sets = ["ws=16K,64K,256K,1M", "page=4K,2M"];
        var whole = Grid(new GridCommand.Settings(file, sets, Format: "csv"));
        Assert.That(whole.Code, Is.Zero, whole.Err);
        var shards = Enumerable.Range(0, 3).Select(i => Grid(new GridCommand.Settings(file, sets, Format: "csv", Shard: $"{i}/3")).Out).ToList();
        Assert.That(shards.Select(s => Lines(s)[0]).Distinct().Single(), Is.EqualTo(Lines(whole.Out)[0]), "one header for all");
        Assert.That(Lines(shards[1]).Skip(1).Select(l => l.Split(',')[0]).Distinct(), Is.EqualTo(new[] { "1", "4", "7" }));
        // A stable sort by the first field: each shard's rows of one combination stay in their order.
        var merged = shards.SelectMany(s => Lines(s).Skip(1)).OrderBy(l => int.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(string.Join('\n', [Lines(whole.Out)[0], .. merged]) + "\n", Is.EqualTo(whole.Out));
    }

    /// <summary>Runs the study in three shards, each to its own CSV file as an array job would; returns the files.</summary>
    private static string[] Shards(string file, string[] sets, string? mode = null)
    {
        return [.. Enumerable.Range(0, 3).Select(i =>
        {
            var target = Path.ChangeExtension(file, $".{i}.csv");
            var (code, _, error) = Grid(new GridCommand.Settings(file, sets, Format: "csv", Shard: $"{i}/3", Output: target, Mode: mode));
            Assert.That(code, Is.LessThan(2), error);
            return target;
        })];
    }

    [Test]
    public void Merge_joins_three_shards_into_the_whole_study_in_csv_and_in_html()
    {
        var file = TempStudy();
        string[] sets = ["ws=16K,64K,256K,1M", "page=4K,2M"];
        var shards = Shards(file, sets);
        foreach (var format in new[] { "csv", "html" })
        {
            var whole = Grid(new GridCommand.Settings(file, sets, Format: format));
            Assert.That(whole.Code, Is.Zero, whole.Err);
            // In any order: the merge sorts by combination.
            var merged = Grid(new GridCommand.Settings(file, sets, Format: format, Merge: [shards[2], shards[0], shards[1]]));
            Assert.That(merged.Code, Is.Zero, merged.Err);
            Assert.That(merged.Err, Is.Empty);
            Assert.That(merged.Out, Is.EqualTo(whole.Out), format);
        }
    }

    [Test]
    public void Merge_refuses_shards_that_are_not_the_whole_study_once()
    {
        var file = TempStudy();
        string[] sets = ["ws=16K,64K,256K,1M", "page=4K,2M"];
        var shards = Shards(file, sets);
        string Refused(string[] merge, string[]? with = null, string? mode = null)
        {
            var (code, output, error) = Grid(new GridCommand.Settings(file, with ?? sets, Format: "csv", Merge: merge, Mode: mode));
            Assert.That(code, Is.EqualTo(2), error);
            Assert.That(output, Is.Empty);
            return error;
        }
        Assert.That(Refused([shards[0], shards[2]]), Is.EqualTo("memscript: --merge: 3 combinations of 8 are in no shard (1, 4, 7): is a shard missing?\n"));
        Assert.That(Refused([shards[0], shards[1], shards[2], shards[1]]), Does.Contain("combination 1 is in").And.Contain("is a shard given twice?"));
        Assert.That(Refused(shards, with: ["ws=16K,64K,256K,2M", "page=4K,2M"]), Does.Contain("where these --set lists give it 2M 4K"));
        Assert.That(Refused(shards, with: ["ws=16K,64K,256K,1M"]), Does.Contain("is not a shard of this study"));
        Assert.That(Refused(shards, mode: "ept"), Does.Contain("ran in native, software, shadow, ept, not in the modes asked for (ept)"));
        var cut = Path.ChangeExtension(file, ".cut.csv");
        File.WriteAllText(cut, File.ReadAllText(shards[1])[..^10]);
        Assert.That(Refused([shards[0], cut, shards[2]]), Does.Contain($"{cut} is not a study's CSV: it does not end with a line break"));
        Assert.That(Refused([shards[0], file, shards[2]]), Does.Contain("line 1 is not the header of a study's CSV"));
        Assert.That(Grid(new GridCommand.Settings(file, sets, Format: "json", Merge: shards)).Code, Is.EqualTo(2), "json describes runs, which a CSV does not hold");
        Assert.That(Grid(new GridCommand.Settings(file, sets, Format: "csv", Merge: shards, Shard: "0/3")).Code, Is.EqualTo(2));
        Assert.That(Grid(new GridCommand.Settings(file, sets, Format: "csv", Merge: shards, Jobs: 2)).Err, Does.Contain("--merge runs nothing"));
    }

    [Test]
    public void A_merge_of_failed_combinations_keeps_their_errors_and_exit_code()
    {
        // page=3K breaks a rule of the file; reads=301 fails its expect.
        var file = TempStudy(Study.Replace("expect accesses == reads since \"random\"", "expect accesses == 300 since \"random\"", StringComparison.Ordinal));
        string[] sets = ["page=4K,3K", "reads=300,301"];
        var whole = Grid(new GridCommand.Settings(file, sets, Format: "csv", Mode: "native"));
        Assert.That(whole.Code, Is.EqualTo(1));
        var merged = Grid(new GridCommand.Settings(file, sets, Format: "csv", Mode: "native", Merge: Shards(file, sets, "native")));
        Assert.That((merged.Code, merged.Out), Is.EqualTo((1, whole.Out)));
        Assert.That(merged.Err, Does.Contain("combination 1 page=4K reads=301 in native: ").And.Contain("error MS0701"));
        Assert.That(merged.Err, Does.Contain("combination 2 page=3K reads=300: ").And.Contain("error MS0310"));
    }

    [Test]
    public void A_list_splits_at_commas_outside_parentheses_and_each_value_is_an_expression()
    {
        Assert.That(StudyPlan.SplitList("ws=(1M),2M*(2+1),3M", 3).Select(v => v.Value), Is.EqualTo(new[] { "(1M)", "2M*(2+1)", "3M" }));
        Assert.That(StudyPlan.SplitList("ws=(1,2),3", 3).Select(v => v.Value), Is.EqualTo(new[] { "(1,2)", "3" }));
        var (code, json, error) = Grid(new GridCommand.Settings(TempStudy(), ["ws=16K * (1 + 3),1M", "reads=ws / 1K"], Format: "json", Mode: "native"));
        Assert.That(code, Is.Zero, error);
        using var doc = JsonDocument.Parse(json);
        var results = doc.RootElement.GetProperty("results");
        Assert.That(results.GetArrayLength(), Is.EqualTo(2));
        Assert.That(results[0].GetProperty("set").GetProperty("ws").GetString(), Is.EqualTo("16K * (1 + 3)"));
        Assert.That(results[0].GetProperty("values").GetProperty("ws").GetUInt64(), Is.EqualTo(65536UL));
        Assert.That(results[1].GetProperty("values").GetProperty("reads").GetUInt64(), Is.EqualTo(1024UL), "a value may use the parameters above it");
        var segment = results[1].GetProperty("runs")[0].GetProperty("segments")[1];
        Assert.That(segment.GetProperty("counters").GetProperty("accesses").GetInt64(), Is.EqualTo(1024));
        Assert.That(segment.GetProperty("counters").GetProperty("exits.PML_FULL").GetInt64(), Is.Zero, "every exit reason, 0 when none");
    }

    [Test]
    public void An_unknown_name_is_a_usage_error_with_the_nearest_parameter()
    {
        var (code, output, error) = Grid(new GridCommand.Settings(TempStudy(), ["ws=1M", "pages=4K,2M"]));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(output, Is.Empty);
        Assert.That(error, Does.StartWith("--set pages=4K,2M: error MS0207: unknown parameter 'pages': not a top-level let of the file; did you mean 'page'?"));
        Assert.That(error, Does.Contain("    --set pages=4K,2M\n          ^~~~~\n"));
    }

    [Test]
    public void A_name_set_twice_or_an_argument_without_equals_is_a_usage_error()
    {
        var twice = Grid(new GridCommand.Settings(TempStudy(), ["ws=1M", "ws=2M"]));
        Assert.That(twice.Code, Is.EqualTo(2));
        Assert.That(twice.Err, Does.Contain("error MS0208: parameter 'ws' is set twice"));
        var bare = Grid(new GridCommand.Settings(TempStudy(), ["ws"]));
        Assert.That(bare.Code, Is.EqualTo(2));
        Assert.That(bare.Err, Does.Contain("error MS0209"));
    }

    [Test]
    public void A_value_that_is_not_an_expression_is_a_usage_error_pointing_at_it()
    {
        var (code, output, error) = Grid(new GridCommand.Settings(TempStudy(), ["ws=1M,8Q,,2M"]));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(output, Is.Empty);
        var lines = error.Split('\n');
        // 8Q: a bad literal, the caret under it; the empty value: the caret where it stands.
        Assert.That(lines[0], Does.StartWith("--set ws=1M,8Q,,2M: error MS0"));
        Assert.That(lines[2], Is.EqualTo("    " + new string(' ', "--set ws=1M,".Length) + "^~"));
        Assert.That(error.Split('\n').Count(l => l.Contains(": error MS", StringComparison.Ordinal)), Is.EqualTo(2));
    }

    [Test]
    public void A_failing_combination_is_reported_in_its_rows_and_the_others_still_run()
    {
        // page=3K breaks a rule of the file (a check error); reads=100 fails the file's expect in every mode.
        var study = Study.Replace("expect accesses == reads since \"random\"", "expect accesses == 300 since \"random\"", StringComparison.Ordinal);
        var (code, csv, error) = Grid(new GridCommand.Settings(TempStudy(study), ["page=4K,3K", "reads=300,100"], Format: "csv", Mode: "native,ept"));
        Assert.That(code, Is.EqualTo(1));
        var lines = Lines(csv);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.That(lines.Where(l => l.StartsWith("0,", StringComparison.Ordinal)), Has.All.EndsWith(","), "4K, 300 reads: fine");
        Assert.That(lines.Where(l => l.StartsWith("1,", StringComparison.Ordinal)), Has.All.Contains("error MS0701: "), "the error is each row's last field");
        var failedCheck = rows.Where(r => r[0] is "2" or "3").ToList();
        Assert.That(failedCheck, Has.Count.EqualTo(4), "one row per mode and combination, without a segment");
        Assert.That(failedCheck.Select(r => r[4]), Is.All.Empty);
        Assert.That(failedCheck.Select(r => r[6]), Is.All.Empty, "no counters where nothing ran");
        Assert.That(lines.Where(l => l.StartsWith("2,", StringComparison.Ordinal)), Has.All.Contains("error MS0310: page size 0xc00 is not a page size of the machine"));
        Assert.That(error, Does.Contain("combination 2 page=3K reads=300: ").And.Contain("combination 1 page=4K reads=100 in ept: "));
    }

    [Test]
    public void A_run_time_error_fails_its_run_only()
    {
        var (code, csv, error) = Grid(new GridCommand.Settings(TempStudy(), ["reads=100,5000"], Format: "csv", Mode: "shadow", MaxAccesses: 1000));
        Assert.That(code, Is.EqualTo(1));
        var rows = Lines(csv).Skip(1).ToList();
        Assert.That(rows.Where(r => r.StartsWith("0,", StringComparison.Ordinal)), Has.All.EndsWith(","), "100 reads: no error");
        Assert.That(rows.Where(r => r.StartsWith("1,", StringComparison.Ordinal)), Has.All.Contains("error MS0606: the run reached the limit of 1000 accesses"));
        Assert.That(error, Does.Contain("combination 1 reads=5000 in shadow:"));
    }

    [Test]
    public void Ctrl_c_stops_the_study_and_writes_nothing()
    {
        var endless = FatalErrorTests.TempFile("let n = 1\nslot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { map 0x1000 to 0x1000 rw }\nrun p { repeat 0xffffffffffffffff { read 0x1000 } }\n");
        var target = Path.ChangeExtension(endless, ".csv");
        File.WriteAllText(target, "old");
        var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)).Token;
        var (code, output, error) = Grid(new GridCommand.Settings(endless, ["n=1,2,3"], Format: "csv", Output: target, Jobs: 2), soon);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Is.Empty);
        Assert.That(error, Is.EqualTo($"memscript: interrupted; {target} was not written (a previous one is unchanged)\n"));
        Assert.That(File.ReadAllText(target), Is.EqualTo("old"));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}*"), Is.Empty, "no temporary file left");

        (code, output, error) = Grid(new GridCommand.Settings(endless, ["n=1,2,3"], Format: "csv"), new CancellationTokenSource(TimeSpan.FromMilliseconds(300)).Token);
        Assert.That((code, output, error), Is.EqualTo((1, "", "memscript: interrupted; nothing was written\n")));
    }

    [Test]
    public void The_output_file_is_written_whole_at_the_end()
    {
        var file = TempStudy();
        var target = Path.ChangeExtension(file, ".csv");
        var (code, output, _) = Grid(new GridCommand.Settings(file, ["ws=16K,64K"], Format: "csv", Output: target));
        Assert.That(code, Is.Zero);
        Assert.That(output, Is.EqualTo($"wrote {target}\n"));
        Assert.That(File.ReadAllText(target), Is.EqualTo(Grid(new GridCommand.Settings(file, ["ws=16K,64K"], Format: "csv")).Out));
        var refused = Grid(new GridCommand.Settings(file, ["ws=16K"], Output: file));
        Assert.That(refused.Code, Is.EqualTo(2), "the study's own file is not a target");
    }

    [Test]
    public void Bad_options_are_usage_errors([Values("4/4", "1", "-1/2", "a/b")] string shard)
    {
        var (code, output, error) = Grid(new GridCommand.Settings(TempStudy(), ["ws=16K"], Shard: shard));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(output, Is.Empty);
        Assert.That(error, Does.Contain("--shard takes I/N"));
        Assert.That(Grid(new GridCommand.Settings(TempStudy(), ["ws=16K"], Mode: "ept,fast")).Code, Is.EqualTo(2));
        Assert.That(Grid(new GridCommand.Settings(TempStudy(), ["ws=16K"], Jobs: 0)).Code, Is.EqualTo(2));
    }

    [Test]
    public void The_command_line_reaches_the_grid_and_refuses_bad_options()
    {
        var file = TempStudy();
        var (code, output, error) = CliProcess.Bash("exec $MEMSCRIPT grid \"$@\"", [file, "--set", "ws=16K,64K", "--mode", "ept", "--format", "csv", "--jobs", "2"]);
        Assert.That(code, Is.Zero, error);
        Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1 + 2 * 2));
        Assert.That(error, Is.Empty, "no progress bar when stderr is not a terminal");
        (code, _, error) = CliProcess.Bash("exec $MEMSCRIPT grid \"$@\"", [file, "--set", "ws=16K", "--jobs", "0"]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--jobs takes a number of workers, 1 or more, not '0'"));
        (code, _, error) = CliProcess.Bash("exec $MEMSCRIPT grid \"$@\"", [file, "--set", "ws=16K", "--shard", "2/2"]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--shard takes I/N"));
    }

    [Test]
    public void The_command_line_runs_an_array_job_and_merges_it_as_docs_studies_md_says()
    {
        // Three tasks of an array job, each with its own index, then the merge of their files, as a shell glob gives them.
        var file = TempStudy();
        var directory = Directory.CreateTempSubdirectory("memscript-shards").FullName;
        const string task = "exec $MEMSCRIPT grid \"$1\" --set ws=16K,64K,256K,1M --set page=4K,2M --mode native,ept --shard \"$2/3\" --format csv -o \"$3/study.$2.csv\"";
        for (var i = 0; i < 3; i++)
        {
            var (taskCode, _, taskError) = CliProcess.Bash(task, [file, i.ToString(System.Globalization.CultureInfo.InvariantCulture), directory]);
            Assert.That(taskCode, Is.Zero, taskError);
        }
        var (code, merged, error) = CliProcess.Bash("exec $MEMSCRIPT grid \"$1\" --set ws=16K,64K,256K,1M --set page=4K,2M --mode native,ept --merge \"$2\"/study.*.csv",
            [file, directory]);
        Assert.That(code, Is.Zero, error);
        var whole = Grid(new GridCommand.Settings(file, ["ws=16K,64K,256K,1M", "page=4K,2M"], Mode: "native,ept", Format: "csv"));
        Assert.That(merged, Is.EqualTo(whole.Out));
        // The plain-shell merge of docs/studies.md gives the same bytes.
        var (_, shell, _) = CliProcess.Bash("cd \"$1\" && { head -n 1 study.0.csv; for f in study.*.csv; do tail -n +2 \"$f\"; done | LC_ALL=C sort -s -t, -k1,1n; }", [directory]);
        Assert.That(shell, Is.EqualTo(whole.Out));
    }

    [Test]
    public void A_terminal_gets_a_progress_bar()
    {
        if (!File.Exists("/usr/bin/script")) Assert.Ignore("util-linux's script is needed to give the command a terminal");
        var file = TempStudy();
        var target = Path.ChangeExtension(file, ".csv");
        // script(1) runs the command on a pseudo-terminal; the study is slow enough for a few frames.
        var (code, output, _) = CliProcess.Bash("exec script -qec \"$MEMSCRIPT grid $1 --set reads=200000,200001,200002 --format csv -o $2 --jobs 1\" /dev/null",
            [file, target], new Dictionary<string, string> { ["TERM"] = "xterm" });
        Assert.That(code, Is.Zero, output);
        Assert.That(output, Does.Contain("grid: 12 runs on 1 worker"));
        Assert.That(output, Does.Contain($"wrote {target}"));
        Assert.That(File.ReadAllText(target).Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1 + 3 * 4 * 2));
    }
}
