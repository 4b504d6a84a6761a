using MemScript.Engine.Interpreter;
using MemScript.Tests.Support;

namespace MemScript.Tests.Engine;

/// <summary>
/// What stops a run that would otherwise never end or never fit: Ctrl-C and the access limit in loops
/// that make no access, the caps on marks and expectations, and a cycle count that would wrap.
/// </summary>
public class RunLimitTests
{
    private const string Slot = "slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { map 0x1000 to 0x1000 rw }\n";

    [TestCase("flush tlb")]
    [TestCase("mark \"m\"")]
    [TestCase("switch p")]
    [TestCase("let x = 1")]
    [TestCase("")]
    public void A_loop_without_accesses_stops_at_the_access_limit(string body)
    {
        var script = Scenario.Check(Slot + $"run p {{ repeat 0xffffffffffffffff {{ {body} }} read 0x1000 }}");
        var result = ScriptInterpreter.Run(script, new RunOptions { Mode = MmuMode.Native, MaxAccesses = 10 });
        // A mark loop meets the mark cap first; every other body the limit on idle iterations.
        Assert.That(result.Error?.Code, Is.EqualTo(body.StartsWith("mark", StringComparison.Ordinal) ? "MS0610" : "MS0606"), result.Error?.Message);
        Assert.That(result.Counters.Accesses, Is.Zero);
    }

    [Test]
    public void A_loop_without_accesses_stops_at_ctrl_c()
    {
        var script = Scenario.Check(Slot + "run p { repeat 0xffffffffffffffff { flush tlb } }");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var result = ScriptInterpreter.Run(script, new RunOptions { Mode = MmuMode.Ept, Cancel = cancel.Token });
        Assert.That(result.Interrupted, Is.True);
    }

    [Test]
    public void Explain_after_an_endless_idle_loop_stops_and_keeps_the_machine()
    {
        var script = Scenario.Check(Slot + "run p { read 0x1000 repeat 0xffffffffffffffff { flush tlb } }");
        var (result, machine) = ScriptInterpreter.RunAndKeep(script, new RunOptions { Mode = MmuMode.Shadow }, stopAfter: 5);
        Assert.That(result.Counters.Accesses, Is.EqualTo(1));
        Assert.That(machine, Is.Not.Null);
    }

    [Test]
    public void A_loop_with_accesses_is_not_counted_as_idle()
    {
        // 2^25 iterations, more than the idle floor, each with an access: only the access limit applies.
        var script = Scenario.Check(Slot + "run p { repeat 0x2000000 { flush tlb read 0x1000 } }");
        var result = ScriptInterpreter.Run(script, new RunOptions { Mode = MmuMode.Native, MaxAccesses = 0x3000000 });
        Assert.That(result.Error, Is.Null, result.Error?.Message);
        Assert.That(result.Counters.Accesses, Is.EqualTo(0x2000000));
    }

    [Test]
    public void Expectations_are_capped()
    {
        var script = Scenario.Check(Slot + "run p { repeat 200000 { expect accesses == 0 } }");
        var result = ScriptInterpreter.Run(script, new RunOptions { Mode = MmuMode.Native });
        Assert.That(result.Error?.Code, Is.EqualTo("MS0610"));
        Assert.That(result.Expects.Length, Is.EqualTo(RunOptions.ExpectLimit));
    }

    [TestCase("read 0x1000", "repeat 16777232 { read 0x1000 }")]
    [TestCase("sweep", "sweep read 0x1000 size 4K stride 1 times 4097")]
    [TestCase("charge", "repeat 0x1000001 { flush tlb }")]
    public void Cycles_never_wrap(string what, string statement)
    {
        // Costs are at most 2^40 cycles: 2^24 charges of the largest reach 2^64.
        var cost = what == "charge" ? "cost cr3-switch 0x10000000000" : "cost access 0x10000000000";
        var script = Scenario.Check(cost + "\n" + Slot + $"run p {{ {statement} }}");
        foreach (var mode in Vocabulary.AllModes)
        {
            var result = ScriptInterpreter.Run(script, new RunOptions { Mode = mode });
            Assert.That(result.Error?.Code, Is.EqualTo("MS0609"), $"{mode}: {result.Counters.Cycles} cycles");
        }
    }
}

/// <summary>Set-up stays linear in the number of mappings: checking and building 100,000 of them is not quadratic.</summary>
public class ManyMappingsTests
{
    [Test]
    public void A_hundred_thousand_mappings_check_and_set_up_with_overlaps_found()
    {
        var text = new System.Text.StringBuilder("slot 0 gpa 0x0 size 2G hva 0x7f0000000000\nprocess p {\n");
        // Every other page, from the top down (the worst order for a sorted insert at the end).
        for (var i = 99_999; i >= 0; i--) text.Append($"  map 0x{0x10000000 + (ulong)i * 0x2000:x} to 0x{0x1000000 + (ulong)i * 0x1000:x} r\n");
        text.Append("}\nrun p { read 0x10000000  read 0x10000000 + 99999 * 0x2000  read 0x10001000 }\n");
        var script = Scenario.Check(text.ToString());
        var result = ScriptInterpreter.Run(script, new RunOptions { Mode = MmuMode.Native });
        Assert.That(result.Error, Is.Null);
        Assert.That(result.Counters.Segv, Is.EqualTo(1), "the gap between two mappings is no mapping");

        // An overlap among them is still found, naming the mapping it hits.
        var overlapping = text.ToString().Replace("}\nrun", "  map 0x10001000 size 0x2000 to 0x100000 r\n}\nrun");
        var check = MemScript.Language.Checking.Checker.CheckText(overlapping);
        Assert.That(check.Diagnostics.Select(d => d.Code), Does.Contain("MS0304"));
        Assert.That(check.Diagnostics.Single(d => d.Severity == MemScript.Language.Diagnostics.Severity.Error).Message, Does.Contain("0x10002000"));
    }
}

/// <summary>A run block's statements are compiled as they run, so a long file does not hold a closure per statement.</summary>
public class LongFileTests
{
    [Test]
    public void A_let_in_a_block_is_seen_by_the_statements_after_it_and_an_error_stops_where_it_happens()
    {
        // Compiled one at a time: names still resolve in order, and statements before a failing one ran.
        var script = Scenario.Check("slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { map 0x1000 to 0x1000 r }\n" +
                                    "run p { let a = 0x1000  read a  let b = 0xffffffffffffffff  read a  repeat 1 as i { read b + i + a }  read a }");
        var result = ScriptInterpreter.Run(script, new RunOptions { Mode = MmuMode.Native });
        Assert.That(result.Counters.Accesses, Is.EqualTo(2));
        Assert.That(result.Error?.Code, Is.EqualTo("MS0601"));
    }
}
