using MemScript.Engine;
using MemScript.Engine.Interpreter;
using MemScript.Engine.Tracing;
using MemScript.Language.Checking;
using MemScript.Tests.Support;

namespace MemScript.Tests.Engine;

/// <summary>
/// Explain walks with the run's own walk code: the references it says a TLB miss of an address costs
/// are the references the next miss of that address takes, paging-structure caches included. Each case
/// runs a scenario to its end, asks explain about addresses the run used, then drops just those
/// addresses' TLB entries (leaving the paging-structure caches as they are) and makes the access.
/// </summary>
public class ExplainAgreementTests
{
    private static IEnumerable<string> Examples() =>
        Directory.GetFiles(Paths.Examples, "*.memscript").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static IEnumerable<TestCaseData> ExamplesAndModes() =>
        from file in Examples()
        from mode in Vocabulary.AllModes
        select new TestCaseData(file, mode).SetName($"explain agrees with the next miss: {Path.GetFileNameWithoutExtension(file)} in {Vocabulary.ModeName(mode)}");

    [Test, TestCaseSource(nameof(ExamplesAndModes))]
    public void Example(string file, MmuMode mode)
    {
        var script = Scenario.CheckAsShipped(File.ReadAllText(Path.Combine(Paths.Examples, file)), file);
        var checkedCount = Agreements(script, mode, Paths.Examples);
        // Under the software MMU only translations that complete are compared (one trap each); an
        // example may end with none (16-munmap-flush unmaps what it used).
        if (mode != MmuMode.Software) Assert.That(checkedCount, Is.GreaterThan(0), "some address was checked");
    }

    [Test]
    public void Generated_scenarios_with_paging_structure_caches()
    {
        var checkedCount = 0;
        for (var seed = 0; seed < 60; seed++)
        {
            var text = "pwc on " + (1 + seed % 5) + "\n" + new ScenarioGenerator(Enumerable.Range(0, 120).Select(j => (seed * 7919 + j * 104729) ^ (seed << 9)).ToArray()).Build();
            text = text.Replace("\npwc on ", "\n# pwc on ");
            var check = Checker.CheckText(text);
            if (!check.Success) continue;
            foreach (var mode in Vocabulary.AllModes) checkedCount += Agreements(check.Script!, mode, ".");
        }
        Assert.That(checkedCount, Is.GreaterThan(200));
    }

    /// <summary>Checks explain against the next miss for addresses the run missed on; returns how many were checked.</summary>
    private static int Agreements(CheckedScript script, MmuMode mode, string baseDirectory)
    {
        var (result, machine) = ScriptInterpreter.RunAndKeep(script, new RunOptions { Mode = mode, Trace = true, BaseDirectory = baseDirectory });
        if (result.Error is not null || machine.Current is not { } process) return 0;
        var trace = (List<TraceEvent>)result.Trace;
        var addresses = trace.OfType<TlbMissEvent>().Select(e => e.Address.Value).Distinct().Take(12).ToList();
        var checkedCount = 0;
        foreach (var gva in addresses)
        {
            var path = machine.Explain(process.Name, gva);
            // A kernel read is never refused by permissions, so the walk goes as far as explain's does.
            machine.Tlb.InvalidatePage(gva, machine.CurrentTag);
            var before = (Events: trace.Count, machine.Counters.HvRefs);
            try
            {
                machine.Access(gva, AccessKind.Read, kernel: true);
            }
            catch (EngineException)
            {
                continue;
            }
            if (mode == MmuMode.Software)
            {
                // One trap when the translation completes; its software walk reads what explain counts.
                if (path.Slot is null || !path.Complete) continue;
                Assert.That(machine.Counters.HvRefs - before.HvRefs, Is.EqualTo(path.HypervisorReferences), $"{mode} {gva:x}: hypervisor references");
            }
            else
            {
                var miss = trace.Skip(before.Events).OfType<TlbMissEvent>().FirstOrDefault();
                if (miss is null) continue; // the page was still in the TLB (a huge page's other piece)
                Assert.That(miss.WalkRefs, Is.EqualTo(path.MissReferences), $"{mode} {gva:x}: walk references\n{path.Outcome}");
            }
            checkedCount++;
        }
        return checkedCount;
    }
}
