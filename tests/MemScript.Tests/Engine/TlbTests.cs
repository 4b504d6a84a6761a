using FsCheck;
using FsCheck.Fluent;
using MemScript.Engine.Translation;

namespace MemScript.Tests.Engine;

/// <summary>
/// The TLB against a plain reference model: a list per set, most recently used first, where a fill
/// replaces the entry with the same key or else an invalid entry or else the least recently used one.
/// Random operation sequences on small TLBs must give the same hits and permissions.
/// </summary>
public class TlbTests
{
    private sealed class ReferenceTlb(int entries, int ways)
    {
        private readonly int _sets = entries / ways;
        private readonly List<(ulong Va, int Tag, int Size, int GuestSize, TlbPerms Perms)>[] _lists =
            Enumerable.Range(0, entries / ways).Select(_ => new List<(ulong, int, int, int, TlbPerms)>()).ToArray();

        private static int Shift(int size) => 12 + 9 * size;
        private int SetOf(ulong va, int size) => (int)((va >> Shift(size)) % (ulong)_sets);
        private static bool Covers(ulong entryVa, int size, ulong va) => (entryVa >> Shift(size)) == (va >> Shift(size));

        public bool Lookup(ulong va, int tag, out TlbPerms perms)
        {
            for (var size = 0; size < 3; size++)
            {
                var list = _lists[SetOf(va, size)];
                var i = list.FindIndex(e => e.Tag == tag && e.Size == size && Covers(e.Va, size, va));
                if (i < 0) continue;
                var e = list[i];
                list.RemoveAt(i);
                list.Insert(0, e);
                perms = e.Perms;
                return true;
            }
            perms = TlbPerms.None;
            return false;
        }

        public void Fill(ulong va, int tag, int size, TlbPerms perms, int guestSize)
        {
            var list = _lists[SetOf(va, size)];
            list.RemoveAll(e => e.Tag == tag && e.Size == size && Covers(e.Va, size, va));
            if (list.Count == ways) list.RemoveAt(list.Count - 1);
            list.Insert(0, (va, tag, size, Math.Max(size, guestSize), perms));
        }

        public void RemoveWhere(Func<(ulong Va, int Tag, int Size, int GuestSize, TlbPerms Perms), bool> drop)
        {
            foreach (var list in _lists) list.RemoveAll(e => drop(e));
        }
    }

    public sealed record Operation(int Kind, ulong Va, int Tag, int Size, int GuestSize, int Perms)
    {
        public override string ToString() => $"{Kind}:{Va:x}/{Tag}/{Size}/{GuestSize}/{Perms}";
    }

    public static class Operations
    {
        // Few distinct pages and tags, so that sets fill, entries collide and flushes hit something.
        public static Arbitrary<Operation[]> Sequences() =>
            Gen.ArrayOf((from kind in Gen.Choose(0, 99)
                         from page in Gen.Choose(0, 40)
                         from tag in Gen.Choose(0, 2)
                         from size in Gen.Frequency((8, Gen.Constant(0)), (2, Gen.Constant(1)), (1, Gen.Constant(2)))
                         from guest in Gen.Choose(0, 2)
                         from perms in Gen.Choose(0, 7)
                         select new Operation(kind, (ulong)page * 0x1000 + (ulong)(page % 3) * 0x200000, tag, size, guest, perms)))
               .ToArbitrary();
    }

    [FsCheck.NUnit.Property(MaxTest = 3000, Arbitrary = [typeof(Operations)], QuietOnSuccess = true, Replay = "20261124,3")]
    public bool Lookups_match_the_reference_LRU_model(Operation[] operations)
    {
        foreach (var (entries, ways) in new[] { (8, 2), (8, 8), (12, 4), (6, 3), (10, 5), (24, 12) })
        {
            var tlb = new Tlb(entries, ways);
            var reference = new ReferenceTlb(entries, ways);
            foreach (var op in operations)
            {
                var perms = (TlbPerms)op.Perms;
                switch (op.Kind)
                {
                    case < 50:
                        var hit = tlb.Lookup(op.Va, op.Tag, out var got);
                        var expectedHit = reference.Lookup(op.Va, op.Tag, out var expected);
                        if (hit != expectedHit || got != expected)
                            throw new AssertionException($"tlb {entries}/{ways}: lookup {op} gave {hit}/{got}, the model {expectedHit}/{expected}");
                        break;
                    case < 88:
                        tlb.Fill(op.Va, op.Tag, op.Size, perms, op.Va & ~0xfffUL, op.GuestSize);
                        reference.Fill(op.Va, op.Tag, op.Size, perms, op.GuestSize);
                        break;
                    case < 92:
                        tlb.InvalidatePage(op.Va, op.Tag);
                        reference.RemoveWhere(e => e.Tag == op.Tag && (e.Va >> (12 + 9 * e.GuestSize)) == (op.Va >> (12 + 9 * e.GuestSize)));
                        break;
                    case < 95:
                        tlb.FlushTag(op.Tag);
                        reference.RemoveWhere(e => e.Tag == op.Tag);
                        break;
                    case < 98:
                        var (start, last) = (op.Va, op.Va + 0x2fff);
                        tlb.FlushRange(op.Tag, start, last);
                        reference.RemoveWhere(e =>
                        {
                            var pageStart = e.Va >> (12 + 9 * e.Size) << (12 + 9 * e.Size);
                            return e.Tag == op.Tag && pageStart <= last && start <= pageStart + ((1UL << (12 + 9 * e.Size)) - 1);
                        });
                        break;
                    default:
                        tlb.FlushAll();
                        reference.RemoveWhere(_ => true);
                        break;
                }
            }
        }
        return true;
    }

    // A fill right after a probe's miss of the same key skips the search of the set. A second fill of
    // that key must search again: it replaces the entry the first made. Random sequences rarely show
    // a duplicate, since it is usually evicted first; this order makes it the entry lookups find.
    [Test]
    public void A_second_fill_after_a_miss_replaces_the_first()
    {
        var tlb = new Tlb(2, 2);
        const ulong a = 0x1000, b = 0x2000, c = 0x3000;
        tlb.Fill(a, 0, 0, TlbPerms.None, a, 0);
        tlb.Fill(b, 0, 0, TlbPerms.None, b, 0);
        Assert.That(tlb.Lookup(a, 0, out _), Is.True);
        Assert.That(tlb.Lookup(c, 0, out _), Is.False);
        tlb.Fill(c, 0, 0, TlbPerms.None, c, 0);
        tlb.Fill(c, 0, 0, TlbPerms.Write, c, 0);
        Assert.Multiple(() =>
        {
            Assert.That(tlb.Lookup(c, 0, out var perms), Is.True);
            Assert.That(perms, Is.EqualTo(TlbPerms.Write));
            Assert.That(tlb.Lookup(a, 0, out _), Is.True, "the second fill of c evicted a");
        });
    }

    // A range at the very top of the address space: its end, one past its last byte, is 2^64 and
    // wraps to 0 as a 64-bit number. The flush takes the last address instead.
    [Test]
    public void A_flush_of_the_topmost_page_drops_its_entry()
    {
        var tlb = new Tlb(16, 4);
        const ulong top = 0xffff_ffff_ffff_f000, bottom = 0x0000_7fff_ffff_f000;
        tlb.Fill(top, 0, 0, TlbPerms.Write, 0x5000, 0);
        tlb.Fill(bottom, 0, 0, TlbPerms.Write, 0x6000, 0);
        tlb.FlushRange(0, top, ulong.MaxValue);
        Assert.Multiple(() =>
        {
            Assert.That(tlb.Lookup(top, 0, out _), Is.False, "the topmost page is flushed");
            Assert.That(tlb.Lookup(bottom, 0, out _), Is.True, "the top of the lower half is another page");
        });
    }

    /// <summary>
    /// With a 1 GiB bank (tlb1g), 1 GiB entries live apart from the others: the TLB behaves as two
    /// reference TLBs, the main one without 1 GiB entries and the 1 GiB one, and an entry of either that
    /// allows the access is a hit (SEMANTICS.md 13.1).
    /// </summary>
    [FsCheck.NUnit.Property(MaxTest = 3000, Arbitrary = [typeof(Operations)], QuietOnSuccess = true, Replay = "20261202,5")]
    public bool With_a_1G_bank_lookups_match_two_reference_models(Operation[] operations)
    {
        foreach (var (entries, ways, huge, hugeWays) in new[] { (8, 2, 4, 2), (12, 4, 4, 4), (6, 3, 2, 1), (24, 12, 16, 4) })
        {
            var tlb = new Tlb(entries, ways, huge, hugeWays);
            var main = new ReferenceTlb(entries, ways);
            var big = new ReferenceTlb(huge, hugeWays);
            foreach (var op in operations)
            {
                var perms = (TlbPerms)op.Perms;
                switch (op.Kind)
                {
                    case < 50:
                        var hit = tlb.Hits(op.Va, op.Tag, perms);
                        var expected = (main.Lookup(op.Va, op.Tag, out var p1) && (p1 & perms) == perms)
                                       | (big.Lookup(op.Va, op.Tag, out var p2) && (p2 & perms) == perms);
                        if (hit != expected)
                            throw new AssertionException($"tlb {entries}/{ways} + {huge}/{hugeWays}: lookup {op} gave {hit}, the models {expected}");
                        break;
                    case < 88:
                        tlb.Fill(op.Va, op.Tag, op.Size, perms, op.Va & ~0xfffUL, op.GuestSize);
                        (op.Size == 2 ? big : main).Fill(op.Va, op.Tag, op.Size, perms, op.GuestSize);
                        break;
                    case < 92:
                        tlb.InvalidatePage(op.Va, op.Tag);
                        foreach (var r in new[] { main, big })
                            r.RemoveWhere(e => e.Tag == op.Tag && (e.Va >> (12 + 9 * e.GuestSize)) == (op.Va >> (12 + 9 * e.GuestSize)));
                        break;
                    case < 95:
                        tlb.FlushTag(op.Tag);
                        foreach (var r in new[] { main, big }) r.RemoveWhere(e => e.Tag == op.Tag);
                        break;
                    default:
                        tlb.FlushAll();
                        foreach (var r in new[] { main, big }) r.RemoveWhere(_ => true);
                        break;
                }
            }
        }
        return true;
    }
}
