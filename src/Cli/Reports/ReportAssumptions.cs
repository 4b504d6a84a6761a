using System.Collections.Immutable;
using System.Globalization;
using MemScript.Engine.Interpreter;
using MemScript.Language.Checking;

namespace MemScript.Cli.Reports;

/// <summary>
/// "Which assumption decides": under the modern profile, the scenario rerun in every mode with each
/// profile feature (SEMANTICS.md 13) switched to its classic value, one at a time, so that a reader sees
/// which feature moves each mode's cycles and the ranking of the modes. Reruns cost a run per feature and
/// mode, so they happen only when every mode's run made at most <c>--rerun-limit</c> accesses, each with
/// the same <c>--max-accesses</c> as the run it repeats; they go side by side on the machine's cores.
/// </summary>
public static class ReportAssumptions
{
    /// <summary>The default of <c>--rerun-limit</c>: runs of up to this many accesses are rerun.</summary>
    public const long DefaultLimit = 10_000_000;

    /// <summary>Reruns going at once at most (each holds a machine's memory).</summary>
    private const int MaxParallel = 4;

    public static AssumptionTable Of(CheckedScript script, IReadOnlyList<RunResult> runs, RunOptions options, long limit)
    {
        if (script.Machine.Profile != Profile.Modern)
            return new AssumptionTable("the scenario runs under the classic profile, which these features are switched to already; "
                                       + "run the report with --profile modern to see what each one changes", []);
        if (limit <= 0) return new AssumptionTable("not rerun: --rerun-limit 0", []);
        var longest = runs.Max(r => r.Counters.Accesses);
        if (longest > limit)
            return new AssumptionTable($"not rerun: a run made {longest.ToString("N0", CultureInfo.InvariantCulture)} accesses, more than the --rerun-limit of "
                                       + $"{limit.ToString("N0", CultureInfo.InvariantCulture)}, and the table reruns the scenario {ProfileFeatures.All.Length} times in every mode", []);
        var classic = MachineDeclarations.ForProfile(Profile.Classic);
        var features = ProfileFeatures.All.Select(f => (Feature: f, Machine: script.Machine.WithFeatureFrom(f, classic))).ToList();
        // Every rerun that can differ (the feature's value changes), as one list: the runs share nothing, so
        // they may go side by side, and each result lands in its own place whatever order they finish in.
        var jobs = (from f in features
                    where Value(f.Feature, script.Machine) != Value(f.Feature, f.Machine)
                    from run in runs
                    select (f.Feature, f.Machine, run.Mode)).ToList();
        var results = new RunResult[jobs.Count];
        var parallel = new ParallelOptions { CancellationToken = options.Cancel, MaxDegreeOfParallelism = Math.Max(1, Math.Min(Environment.ProcessorCount, MaxParallel)) };
        Parallel.For(0, jobs.Count, parallel, i => results[i] = ScriptInterpreter.Run(script with { Machine = jobs[i].Machine }, options with { Mode = jobs[i].Mode }));
        if (results.Any(r => r.Interrupted)) throw new OperationCanceledException(options.Cancel);

        var rows = ImmutableArray.CreateBuilder<AssumptionRow>();
        var next = 0;
        foreach (var (feature, machine) in features)
        {
            var value = Value(feature, script.Machine);
            var classicValue = Value(feature, machine);
            var reruns = ImmutableArray.CreateBuilder<AssumptionRun>();
            foreach (var run in runs)
            {
                if (value == classicValue)
                {
                    reruns.Add(new AssumptionRun(run.Mode, null, null));
                    continue;
                }
                var rerun = results[next++];
                reruns.Add(new AssumptionRun(run.Mode, rerun.Error is null ? rerun.Counters.Cycles : null, rerun.Error?.Message));
            }
            rows.Add(new AssumptionRow(feature, value, classicValue, script.Machine.Explicit.Contains(feature), reruns.ToImmutable()));
        }
        return new AssumptionTable(null, rows.ToImmutable());
    }

    /// <summary>A feature's value as its declaration writes it.</summary>
    public static string Value(string feature, MachineDeclarations m) => feature switch
    {
        ProfileFeatures.Pwc => m.Pwc ? $"on {m.PwcEntries}" : "off",
        ProfileFeatures.Tlb1G => m.Tlb1GEntries == 0 ? "off" : $"{m.Tlb1GEntries} ways {m.Tlb1GWays}",
        ProfileFeatures.ShadowUnsync => m.ShadowUnsync ? "on" : "off",
        ProfileFeatures.ShadowPrefetch => m.ShadowPrefetch.ToString(CultureInfo.InvariantCulture),
        ProfileFeatures.ShadowFlood => m.ShadowFlood.ToString(CultureInfo.InvariantCulture),
        ProfileFeatures.EptAd => m.EptAd ? "on" : "off",
        ProfileFeatures.DirtyTrack => m.DirtyTrack.ToString().ToLowerInvariant(),
        _ => throw new ArgumentException($"'{feature}' is not a profile feature", nameof(feature)),
    };

    /// <summary>The virtualized modes from fastest to slowest (ties in mode order): "ept < shadow < software".</summary>
    public static string Ranking(IEnumerable<(MmuMode Mode, ulong? Cycles)> cycles)
    {
        var ranked = cycles.Where(c => c.Mode != MmuMode.Native && c.Cycles is not null).OrderBy(c => c.Cycles).ThenBy(c => c.Mode).ToList();
        if (ranked.Count < 2) return "";
        var sb = new System.Text.StringBuilder(Vocabulary.ModeName(ranked[0].Mode));
        for (var i = 1; i < ranked.Count; i++) sb.Append(ranked[i].Cycles == ranked[i - 1].Cycles ? " = " : " < ").Append(Vocabulary.ModeName(ranked[i].Mode));
        return sb.ToString();
    }
}
