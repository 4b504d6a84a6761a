using FsCheck;
using FsCheck.Fluent;
using MemScript.Engine.Interpreter;
using MemScript.Engine.Tracing;
using MemScript.Language;
using MemScript.Language.Checking;
using MemScript.Tests.Support;

namespace MemScript.Tests.Engine;

/// <summary>
/// The edges of the address space: non-canonical aliases of cached pages (a #GP before any TLB lookup),
/// the last entry of the root table, and ranges that end exactly at 2^64.
/// </summary>
public class AddressSpaceEdgeTests
{
    private const string Slot = "slot 0 gpa 0x0 size 8M hva 0x7f0000000000\n";

    // ------------------------------------------------------------ non-canonical aliases

    [TestCase(4, 0x0000_0000_0040_0000UL, 0x1000_0000_0040_0000UL)]
    [TestCase(4, 0x0000_0000_0040_0000UL, 0x0000_8000_0040_0000UL)] // bit 47 set, bits 63..48 clear
    [TestCase(4, 0xffff_8000_0040_0000UL, 0x7fff_8000_0040_0000UL)] // the upper half with bit 63 cleared
    [TestCase(5, 0x0000_0000_0040_0000UL, 0x0100_0000_0040_0000UL)] // bit 56 set, bits 63..57 clear
    [TestCase(5, 0xff00_0000_0040_0000UL, 0x7f00_0000_0040_0000UL)]
    public void A_non_canonical_alias_of_a_cached_page_is_a_segv_not_a_hit(int levels, ulong page, ulong alias)
    {
        var text = $"guest paging {levels}-level\n" + Slot +
                   $"process p {{ map {Hex(page)} to 0x1000 rw }}\nrun p {{ read {Hex(page)}  read {Hex(alias)}  read {Hex(page + 8)} }}";
        foreach (var mode in Vocabulary.AllModes)
        {
            var r = Scenario.Run(text, mode, trace: true);
            Assert.Multiple(() =>
            {
                Assert.That(r.Counters.Segv, Is.EqualTo(1), $"{mode}: the alias faults");
                Assert.That(r.Counters.GuestFaults, Is.EqualTo(0), $"{mode}: a #GP is not a page fault");
                Assert.That(r.Counters.TlbHits, Is.EqualTo(1), $"{mode}: only the third read hits");
                Assert.That(r.Trace.OfType<NonCanonicalEvent>().Select(e => e.Address.Value), Is.EqualTo(new[] { alias }), $"{mode}");
            });
        }
    }

    [Test]
    public void An_address_canonical_only_with_five_levels_faults_with_four()
    {
        // 0x0080_0000_0000_0000 is canonical with 57-bit addresses and not with 48.
        var text = Slot + "process p { demand all rw }\nrun p { read 0x0080000000000000 }";
        foreach (var mode in Vocabulary.AllModes)
            Assert.That(Scenario.Run(text, mode).Counters.Segv, Is.EqualTo(1), $"{mode}");
        foreach (var mode in Vocabulary.AllModes)
            Assert.That(Scenario.Run("guest paging 5-level\n" + text, mode).Counters.Segv, Is.EqualTo(0), $"{mode}, 5-level");
    }

    [Test]
    public void Invlpg_of_a_non_canonical_alias_drops_nothing()
    {
        // INVLPG of a non-canonical address is a NOP; under shadow paging it still exits.
        var text = Slot + "process p { map 0x400000 to 0x1000 rw }\nrun p { read 0x400000  invlpg 0x1000000000400000  read 0x400008 }";
        foreach (var mode in Vocabulary.AllModes)
        {
            var r = Scenario.Run(text, mode);
            Assert.That(r.Counters.TlbHits, Is.EqualTo(1), $"{mode}: the page's entry survives");
            Assert.That(r.Counters.ExitsByReason[(int)ExitReason.Invlpg], Is.EqualTo(mode == MmuMode.Shadow ? 1 : 0), $"{mode}");
        }
    }

    /// <summary>Addresses just around the canonical boundaries of both halves, for both paging depths.</summary>
    public static class Boundaries
    {
        public static Arbitrary<(int Levels, ulong Page, ulong Alias)> Cases() =>
            (from levels in Gen.Elements(4, 5)
             let bits = levels == 5 ? 57 : 48
             from upper in Gen.Elements(false, true)
             from offset in Gen.Choose(0, 63)
             from flip in Gen.Choose(bits - 1, 63)
             let edge = upper ? ~0UL << (bits - 1) : (1UL << (bits - 1)) - 0x40_0000
             let page = (edge + (ulong)offset * 0x1000) & ~0xfffUL
             where Canonical.IsCanonical(page, bits)
             let alias = page ^ (1UL << flip)
             where !Canonical.IsCanonical(alias, bits)
             select (levels, page, alias)).ToArbitrary();
    }

    [FsCheck.NUnit.Property(MaxTest = 60, Arbitrary = [typeof(Boundaries)], QuietOnSuccess = true, Replay = "20261202,1")]
    public bool Every_alias_near_the_canonical_boundary_faults_in_every_mode((int Levels, ulong Page, ulong Alias) c)
    {
        var text = $"guest paging {c.Levels}-level\n" + Slot +
                   $"process p {{ map {Hex(c.Page)} to 0x1000 rw }}\nrun p {{ read {Hex(c.Page)}  write {Hex(c.Alias)}  read {Hex(c.Alias)} }}";
        foreach (var mode in Vocabulary.AllModes)
        {
            var r = Scenario.Run(text, mode);
            if (r.Counters.Segv != 2 || r.Counters.TlbHits != 0 || r.Counters.GuestFaults != 0)
                throw new AssertionException($"{mode}: {c}: segv {r.Counters.Segv}, hits {r.Counters.TlbHits}, guest faults {r.Counters.GuestFaults}");
        }
        return true;
    }

    // ------------------------------------------------------------ the top of the address space

    [TestCase(4)]
    [TestCase(5)]
    public void Unmap_in_the_last_root_entry_takes_effect(int levels)
    {
        var text = $"guest paging {levels}-level\n" + Slot +
                   "process p { map 0xffffffffc0000000 to 0x100000 rw }\nrun p { read 0xffffffffc0000000  unmap 0xffffffffc0000000  read 0xffffffffc0000000 }";
        foreach (var mode in Vocabulary.AllModes)
        {
            var r = Scenario.Run(text, mode);
            Assert.That(r.Counters.Segv, Is.EqualTo(1), $"{mode}: the unmapped page faults");
            if (mode == MmuMode.Shadow)
                Assert.That(r.Counters.ExitsByReason[(int)ExitReason.Invlpg], Is.EqualTo(1), "the kernel's INVLPG exits");
        }
    }

    [Test]
    public void Protect_in_the_last_root_entry_takes_effect()
    {
        var text = Slot + "process p { map 0xfffffffffffff000 to 0x100000 rw }\n" +
                   "run p { write 0xfffffffffffff000  protect 0xfffffffffffff000 r  write 0xfffffffffffff008  read 0xfffffffffffff010 }";
        foreach (var mode in Vocabulary.AllModes)
        {
            var r = Scenario.Run(text, mode);
            Assert.That((r.Counters.Segv, r.Counters.GuestFaults), Is.EqualTo((1L, 1L)), $"{mode}: the write after protect is refused");
        }
    }

    [Test]
    public void A_mapping_and_a_demand_region_may_end_exactly_at_two_to_the_64()
    {
        var text = Slot + "process p { map 0xfffffffffffff000 to 0x100000 rw\n demand 0xffffffffffe00000 size 1M rw }\n" +
                   "run p { read 0xfffffffffffff008  write 0xffffffffffe00000  sweep read 0xffffffffffffe000 size 8K stride 4K }";
        foreach (var mode in Vocabulary.AllModes)
        {
            var r = Scenario.Run(text, mode);
            // 0xffffffffffffe000 is in neither region: one segv; the demand page is filled.
            Assert.That((r.Counters.Accesses, r.Counters.Segv, r.Counters.GuestFaults), Is.EqualTo((4L, 1L, 2L)), $"{mode}");
        }
    }

    [Test]
    public void A_run_time_map_and_unmap_may_end_exactly_at_two_to_the_64()
    {
        var text = Slot + "process p { demand 0x400000 size 4K rw }\n" +
                   "run p { map 0xffffffffffffe000 size 8K to 0x100000 rw  read 0xfffffffffffff000  unmap 0xffffffffffffe000 size 8K  read 0xfffffffffffff000 }";
        foreach (var mode in Vocabulary.AllModes)
            Assert.That(Scenario.Run(text, mode).Counters.Segv, Is.EqualTo(1), $"{mode}");
    }

    [Test]
    public void A_range_that_really_passes_two_to_the_64_stays_an_error()
    {
        var map = Checker.CheckText(Slot + "process p { map 0xfffffffffffff000 size 8K to 0x100000 rw }\nrun p { }");
        Assert.That(map.Diagnostics.Select(d => d.Code), Does.Contain("MS0305"));
        var sweep = Scenario.RunAllowingErrors(Slot + "process p { demand all rw }\nlet big = 12K\nrun p { sweep read 0xffffffffffffe000 size big stride 4K }", MmuMode.Native);
        Assert.That(sweep.Error?.Code, Is.EqualTo("MS0601"));
    }

    // ------------------------------------------------------------ MMIO shadow entries keep the guest's permissions

    [Test]
    public void A_write_through_a_read_only_guest_mapping_of_an_mmio_page_is_a_guest_fault()
    {
        // The first read installs KVM's MMIO shadow entry with the guest leaf's permissions (no W).
        // The write reaches it, exits, and KVM's software walk finds the guest forbids it: a #PF is
        // injected, not an MMIO round trip. Every mode agrees on what the guest sees.
        var text = Slot + "process p { map 0x400000 to 0xfee00000 r }\nrun p { read 0x400000  write 0x400008  read 0x400010 }";
        foreach (var mode in Vocabulary.AllModes)
        {
            var r = Scenario.Run(text, mode, trace: true);
            Assert.That((r.Counters.Mmio, r.Counters.GuestFaults, r.Counters.Segv), Is.EqualTo((2L, 1L, 1L)), $"{mode}");
            if (mode == MmuMode.Shadow)
                Assert.That(r.Trace.OfType<PageFaultExit>().Select(e => e.ErrorCode), Is.EqualTo(new uint[] { 0b0100, 0b1111, 0b1101 }),
                    "not present; then present, write, user, reserved (the MMIO entry); then the read reaches it again");
        }
    }

    private static string Hex(ulong value) => "0x" + value.ToString("x");
}
