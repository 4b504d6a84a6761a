using MemScript.Engine.Tracing;
using MemScript.Tests.Support;

namespace MemScript.Tests.Engine;

/// <summary>A complete EPT walk takes (n+1)(m+1)-1 references for n guest and m EPT levels to the leaf.</summary>
public class TwoDimensionalWalkTests
{
    public static IEnumerable<TestCaseData> Combinations()
    {
        foreach (var guestLevels in new[] { 4, 5 })
        foreach (var hostLevels in new[] { 4, 5 })
        foreach (var guestPage in new[] { "4K", "2M", "1G" })
        foreach (var eptPage in new[] { "4K", "2M", "1G" })
        {
            var n = guestLevels - Depth(guestPage);
            var m = hostLevels - Depth(eptPage);
            yield return new TestCaseData(guestLevels, hostLevels, guestPage, eptPage, (n + 1) * (m + 1) - 1)
                .SetName($"guest {guestLevels}-level {guestPage}, EPT {hostLevels}-level {eptPage}: {(n + 1) * (m + 1) - 1} refs");
        }
    }

    private static int Depth(string page) => page switch { "4K" => 0, "2M" => 1, _ => 2 };

    private static string Scenario(int guestLevels, int hostLevels, string guestPage, string eptPage) => $$"""
        guest paging {{guestLevels}}-level
        host paging {{hostLevels}}-level
        slot 0 gpa 0x0 size 4G hva 0x7f0000000000 backing {{eptPage}}
        process p { map 0x40000000 size 1G page {{guestPage}} to 0x40000000 rw }
        run p {
          read 0x40000000
          flush tlb
          mark "warm"
          read 0x40000000
        }
        """;

    [Test, TestCaseSource(nameof(Combinations))]
    public void Complete_walk_length(int guestLevels, int hostLevels, string guestPage, string eptPage, int expected)
    {
        var result = Support.Scenario.Run(Scenario(guestLevels, hostLevels, guestPage, eptPage), MmuMode.Ept, trace: true);
        var lastMiss = result.Trace.OfType<TlbMissEvent>().Last();
        Assert.That(lastMiss.WalkRefs, Is.EqualTo(expected));
        var delta = result.Counters.Subtract(result.Marks.Single().Counters);
        Assert.That(delta.WalkRefs, Is.EqualTo(expected), "one complete walk after warming up");
        Assert.That(delta.Exits, Is.Zero, "a warm walk takes no exit");
    }

    [TestCase(4, "4K", 4), TestCase(4, "2M", 3), TestCase(4, "1G", 2), TestCase(5, "4K", 5), TestCase(5, "2M", 4), TestCase(5, "1G", 3)]
    public void Native_and_shadow_walks_take_one_reference_per_level(int guestLevels, string page, int expected)
    {
        foreach (var mode in new[] { MmuMode.Native, MmuMode.Shadow })
        {
            var result = Support.Scenario.Run(Scenario(guestLevels, 4, page, "1G"), mode, trace: true);
            Assert.That(result.Trace.OfType<TlbMissEvent>().Last().WalkRefs, Is.EqualTo(expected), $"{mode}");
        }
    }
}
