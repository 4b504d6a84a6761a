using MemScript.Engine.Memory;
using MemScript.Language;
using MemScript.Language.Syntax;

namespace MemScript.Tests.Engine;

/// <summary>Host pages found by address across many chunks, against a plain dictionary of what was faulted in.</summary>
public class HostMemoryTests
{
    private const ulong Base = 0x7f00_0000_0000UL;

    // Directories over part of the addresses touched (4 KiB, two overlapping 2 MiB ranges, 1 GiB), so
    // that pages are found both by directory and by the table, and ranges of other sizes do not catch them.
    private static readonly object[] Layouts =
    [
        new object[] { "no ranges", Array.Empty<(ulong, ulong, PageSize)>() },
        new object[] { "ranges", new[]
        {
            (Base + 0x1000, 1UL << 33, PageSize.Size4K),
            (Base, 1UL << 32, PageSize.Size2M),
            (Base + (1UL << 31), 1UL << 32, PageSize.Size2M),
            (Base + (1UL << 33), 1UL << 33, PageSize.Size1G),
            (Base + (1UL << 40), 1UL << 60, PageSize.Size4K),
            // Low addresses, where chunk numbers of 4 KiB pages equal those of larger pages higher up.
            (0UL, 1UL << 34, PageSize.Size4K),
        } },
    ];

    [TestCaseSource(nameof(Layouts))]
    public void Pages_are_found_again_across_thousands_of_chunks_and_sizes(string name, (ulong Hva, ulong Size, PageSize Backing)[] ranges)
    {
        var host = new HostMemory(ranges);
        var expected = new Dictionary<(ulong Page, PageSize Size), ulong>();
        var rng = new Random(20261201);
        var sizes = new[] { PageSize.Size4K, PageSize.Size2M, PageSize.Size1G };
        for (var i = 0; i < 20_000; i++)
        {
            var size = sizes[rng.Next(10) switch { < 8 => 0, 8 => 1, _ => 2 }];
            // Spread over far more chunks than the table starts with, so that it grows many times.
            var hva = (rng.Next(2) == 0 ? 0 : Base) + ((ulong)rng.NextInt64(1L << 34) & ~(size.Bytes() - 1));
            var key = (hva / size.Bytes(), size);
            if (expected.ContainsKey(key)) continue;
            expected[key] = host.FaultIn(hva, size);
        }
        Assert.That(host.PageCount, Is.EqualTo(expected.Count));
        foreach (var ((page, size), frame) in expected)
        {
            Assert.That(host.TryGet(page * size.Bytes() + 123, size, out var found), Is.True, $"{page:x}/{size}");
            Assert.That(found, Is.EqualTo(frame));
        }
        // A page beside a touched one, in the same chunk or not, was never touched.
        var untouched = expected.Keys.Select(k => (k.Page + 1, k.Size)).Where(k => !expected.ContainsKey(k)).Take(500).ToList();
        Assert.That(untouched, Is.Not.Empty);
        foreach (var (page, size) in untouched)
            Assert.That(host.TryGet(page * size.Bytes(), size, out _), Is.False, $"{page:x}/{size}");
        Assert.Throws<InvalidOperationException>(() => host.FaultIn(expected.Keys.First().Page * expected.Keys.First().Size.Bytes(), expected.Keys.First().Size));
    }
}
