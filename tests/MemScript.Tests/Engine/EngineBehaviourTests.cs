using MemScript.Engine.Tracing;
using MemScript.Tests.Support;

namespace MemScript.Tests.Engine;

/// <summary>Rules of SEMANTICS.md beyond the worked examples, one behaviour per test.</summary>
public class EngineBehaviourTests
{
    private static readonly MmuMode[] AllModes = [MmuMode.Native, MmuMode.Software, MmuMode.Shadow, MmuMode.Ept];
    private const string Slot = "slot 0 gpa 0x0 size 16M hva 0x7f0000000000\n";

    // ------------------------------------------------------------ faults

    [Test]
    public void The_access_limit_stops_a_sweep_at_exactly_that_many_accesses()
    {
        // Stride 8 in one page: after the first access, every access hits the page the last one hit.
        // The 1001st access is refused before it is counted, in the middle of such a run of hits.
        var script = Scenario.Check(Slot + "process p { map 0x400000 size 64K to 0x100000 rw }\nrun p { sweep read 0x400000 size 64K stride 8 }");
        foreach (var mode in AllModes)
        {
            var r = MemScript.Engine.Interpreter.ScriptInterpreter.Run(script, new MemScript.Engine.Interpreter.RunOptions { Mode = mode, MaxAccesses = 1000 });
            Assert.That(r.Error?.Code, Is.EqualTo("MS0606"), $"{mode}");
            // 1000 accesses of 8 bytes span two pages: all but the first access of each hit.
            Assert.That((r.Counters.Accesses, r.Counters.TlbHits), Is.EqualTo((1000L, 998L)), $"{mode}");
        }
    }

    [Test]
    public void Unmapped_address_is_a_guest_fault_and_a_segv_in_every_mode()
    {
        foreach (var mode in AllModes)
        {
            var r = Scenario.Run(Slot + "process p { map 0x400000 to 0x100000 rw }\nrun p { read 0x900000  read 0x400000 }", mode);
            Assert.That((r.Counters.GuestFaults, r.Counters.Segv, r.Counters.Accesses), Is.EqualTo((1L, 1L, 2L)), $"{mode}");
        }
    }

    [TestCase("write 0x400000", "r")]
    [TestCase("exec 0x400000", "rw")]
    [TestCase("read 0x400000", "rw kernel")]
    public void Forbidden_access_is_a_protection_fault_and_a_segv(string access, string perms)
    {
        foreach (var mode in AllModes)
        {
            var r = Scenario.Run(Slot + $"process p {{ map 0x400000 to 0x100000 {perms} }}\nrun p {{ {access} }}", mode, trace: true);
            Assert.That((r.Counters.GuestFaults, r.Counters.Segv), Is.EqualTo((1L, 1L)), $"{mode}");
            Assert.That(r.Trace.OfType<GuestFaultEvent>().Single().NotPresent, Is.False, $"{mode}: a protection fault");
        }
    }

    [Test]
    public void Kernel_access_to_a_kernel_page_is_allowed_and_a_user_one_is_not()
    {
        foreach (var mode in AllModes)
        {
            var r = Scenario.Run(Slot + "process p { map 0x400000 to 0x100000 rw kernel }\nrun p { write 0x400000 as kernel  read 0x400008 }", mode);
            Assert.That((r.Counters.Segv, r.Counters.TlbHits), Is.EqualTo((1L, 0L)), $"{mode}: the user read misses the TLB (no U bit) and faults");
        }
    }

    [Test]
    public void Non_canonical_address_is_a_segv_without_a_guest_fault()
    {
        foreach (var mode in AllModes)
        {
            var r = Scenario.Run(Slot + "process p { map 0x400000 to 0x100000 rw }\nrun p { read 0x0000800000000000 }", mode);
            Assert.That((r.Counters.Segv, r.Counters.GuestFaults, r.Counters.TlbMisses, r.Counters.Accesses), Is.EqualTo((1L, 0L, 0L, 1L)), $"{mode}");
        }
    }

    [Test]
    public void Demand_region_with_read_only_permission_segfaults_on_write()
    {
        foreach (var mode in AllModes)
        {
            var r = Scenario.Run(Slot + "process p { demand 0x10000000 size 1M r }\nrun p { write 0x10000000  read 0x10000000 }", mode);
            Assert.That((r.Counters.GuestFaults, r.Counters.Segv, r.Counters.PagesGuestPt), Is.EqualTo((2L, 1L, 4L)), $"{mode}: the write is refused, the read is filled");
        }
    }

    // ------------------------------------------------------------ exit reasons

    [Test]
    public void Invlpg_exits_only_under_shadow_paging()
    {
        foreach (var mode in AllModes)
        {
            var r = Scenario.Run(Slot + "process p { map 0x400000 to 0x100000 rw }\nrun p { read 0x400000  invlpg 0x400000  read 0x400000 }", mode);
            Assert.That(r.Counters.Get("exits.INVLPG"), Is.EqualTo(mode == MmuMode.Shadow ? 1 : 0), $"{mode}");
            Assert.That(r.Counters.TlbHits, Is.Zero, $"{mode}: invlpg dropped the entry");
        }
        var shadow = Scenario.Run(Slot + "process p { map 0x400000 to 0x100000 rw }\nrun p { read 0x400000  invlpg 0x400000  read 0x400000 }", MmuMode.Shadow);
        // KVM cleared the shadow leaf: the second read faults again (CR3 + 2 shadow misses + INVLPG).
        Assert.That(shadow.Counters.Get("exits.EXCEPTION_NMI"), Is.EqualTo(2));
    }

    [Test]
    public void Cr3_loads_exit_only_under_shadow_paging()
    {
        const string text = Slot + "process a { map 0x400000 to 0x100000 rw }\nprocess b { map 0x400000 to 0x200000 rw }\nrun a { read 0x400000  switch b  switch a  flush tlb  switch a }";
        foreach (var mode in AllModes)
            Assert.That(Scenario.Run(text, mode).Counters.Get("exits.CR_ACCESS"), Is.EqualTo(mode == MmuMode.Shadow ? 4 : 0), $"{mode}: run, switch b, switch a, flush; the switch to the current process loads nothing");
    }

    // ------------------------------------------------------------ MMIO and readonly slots

    private const string ReadonlySlot = """
        slot 0 gpa 0x0 size 1M hva 0x7f0000000000
        slot 1 gpa 0x100000 size 1M hva 0x7f0000100000 readonly
        process p { map 0x400000 to 0x100000 rw }
        run p { read 0x400000  read 0x400008  write 0x400010  write 0x400018 }
        """;

    [Test]
    public void Readonly_slot_reads_fill_the_TLB_and_writes_go_to_the_VMM_in_every_mode()
    {
        foreach (var mode in AllModes)
        {
            var r = Scenario.Run(ReadonlySlot, mode);
            Assert.That((r.Counters.Mmio, r.Counters.TlbHits, r.Counters.GuestFaults, r.Counters.Segv), Is.EqualTo((2L, 1L, 0L, 0L)), $"{mode}");
        }
        var ept = Scenario.Run(ReadonlySlot, MmuMode.Ept, trace: true);
        var writes = ept.Trace.OfType<EptViolationExit>().Where(v => (v.Qualification & 2) != 0).ToList();
        Assert.That(writes, Has.Count.EqualTo(2), "each write to the read-only EPT entry is a violation");
        Assert.That(writes.All(v => (v.Qualification >> 3 & 7) == 0b101), "the EPT path allowed read and execute, not write");
        var shadow = Scenario.Run(ReadonlySlot, MmuMode.Shadow);
        Assert.That(shadow.Counters.Get("exits.EXCEPTION_NMI"), Is.EqualTo(3), "one shadow fill, then each write faults on the read-only leaf");
    }

    [Test]
    public void Mmio_costs_a_round_trip_to_the_VMM_except_natively()
    {
        const string text = Slot + "process p { map 0x500000 to 0xfee00000 rw }\nrun p { write 0x500000 }";
        foreach (var mode in AllModes)
        {
            var r = Scenario.Run(text, mode);
            Assert.That(r.Counters.Mmio, Is.EqualTo(1), $"{mode}");
            Assert.That(r.Counters.CyclesByKind[(int)MemScript.Engine.Accounting.CostKind.MmioExit], Is.EqualTo(mode == MmuMode.Native ? 0 : 4000), $"{mode}");
        }
    }

    // ------------------------------------------------------------ page sizes

    private static string Splinter(string backing, string extra = "") => $$"""
        slot 0 gpa 0x0 size 16M hva 0x7f0000000000 backing {{backing}} {{extra}}
        process p { map 0x40000000 size 2M page 2M to 0x400000 rw }
        run p {
          sweep read 0x40000000 size 32K stride 4K
          flush tlb
          mark "warm"
          sweep read 0x40000000 size 32K stride 4K
        }
        """;

    [Test]
    public void Guest_2M_page_over_4K_backing_fills_4K_TLB_entries()
    {
        Assert.That(Misses(Splinter("4K"), MmuMode.Ept), Is.EqualTo(8), "ept: splintered into 4 KiB entries");
        Assert.That(Misses(Splinter("4K"), MmuMode.Shadow), Is.EqualTo(8), "shadow: split by direct shadow tables");
        Assert.That(Misses(Splinter("4K"), MmuMode.Software), Is.EqualTo(8), "software: limited by the host mapping");
        Assert.That(Misses(Splinter("4K"), MmuMode.Native), Is.EqualTo(1), "native: one 2 MiB entry");
        Assert.That(Misses(Splinter("2M"), MmuMode.Ept), Is.EqualTo(1), "ept over 2 MiB backing: one 2 MiB entry");
        Assert.That(Misses(Splinter("2M"), MmuMode.Shadow), Is.EqualTo(1));
    }

    [Test]
    public void Dirty_logging_forces_4K_EPT_pages()
    {
        Assert.That(Misses(Splinter("2M", "dirty-log"), MmuMode.Ept), Is.EqualTo(8));
        var plain = Scenario.Run(Splinter("2M"), MmuMode.Ept);
        var logged = Scenario.Run(Splinter("2M", "dirty-log"), MmuMode.Ept);
        // Plain: one 2 MiB mapping covers the three table frames, one the data. Logged: each of the
        // three table frames and each of the eight data pages is its own 4 KiB mapping.
        Assert.That(plain.Counters.Get("exits.EPT_VIOLATION"), Is.EqualTo(2));
        Assert.That(logged.Counters.Get("exits.EPT_VIOLATION"), Is.EqualTo(11));
        Assert.That(logged.Counters.PagesHost, Is.EqualTo(plain.Counters.PagesHost), "the host still backs it with 2 MiB pages");
    }

    private static long Misses(string text, MmuMode mode)
    {
        var r = Scenario.Run(text, mode);
        return r.Counters.Subtract(r.Marks.Single().Counters).TlbMisses;
    }

    [Test]
    public void Unaligned_hva_keeps_EPT_at_4K_even_over_huge_backing()
    {
        // gpa - hva must be a multiple of the mapping size: here they differ by 1 MiB.
        const string text = """
            slot 0 gpa 0x100000 size 8M hva 0x7f0000000000 backing 2M
            process p { map 0x40000000 size 2M page 2M to 0x400000 rw }
            run p { sweep read 0x40000000 size 32K stride 4K  flush tlb  mark "warm"  sweep read 0x40000000 size 32K stride 4K }
            """;
        Assert.That(Misses(text, MmuMode.Ept), Is.EqualTo(8));
    }

    // ------------------------------------------------------------ TLB tagging

    private const string TwoProcesses = """
        slot 0 gpa 0x0 size 16M hva 0x7f0000000000
        process a { map 0x400000 size 16K to 0x100000 rw }
        process b { map 0x400000 size 16K to 0x200000 rw }
        run a {
          sweep read 0x400000 size 16K stride 4K
          switch b
          sweep read 0x400000 size 16K stride 4K
          switch a
          sweep read 0x400000 size 16K stride 4K
        }
        """;

    [Test]
    public void Pcid_keeps_entries_across_switches()
    {
        foreach (var mode in AllModes)
        {
            var off = Scenario.Run(TwoProcesses, mode);
            var on = Scenario.Run("pcid on\n" + TwoProcesses, mode);
            Assert.That(off.Counters.TlbHits, Is.Zero, $"{mode}: without PCID every switch flushes");
            Assert.That(on.Counters.TlbHits, Is.EqualTo(4), $"{mode}: with PCID, a's entries survive b");
        }
    }

    [Test]
    public void Without_vpid_every_vm_entry_flushes_the_TLB()
    {
        var on = Scenario.Run("pcid on\n" + TwoProcesses, MmuMode.Ept);
        var off = Scenario.Run("pcid on\nvpid off\n" + TwoProcesses, MmuMode.Ept);
        Assert.That(on.Counters.TlbHits, Is.EqualTo(4));
        Assert.That(off.Counters.TlbHits, Is.Zero, "b's EPT violations flushed a's entries");
        Assert.That(Scenario.Run("vpid off\n" + TwoProcesses, MmuMode.Native).Counters.TlbMisses,
            Is.EqualTo(Scenario.Run(TwoProcesses, MmuMode.Native).Counters.TlbMisses), "natively there is no VM entry");
    }

    [Test]
    public void Set_associative_TLB_evicts_least_recently_used()
    {
        // 2 sets of 2 ways: pages 0, 2, 4 share set 0; touching 0 again before 4 keeps 0 and evicts 2.
        const string text = Slot + """
            tlb 4 ways 2
            process p { map 0x400000 size 64K to 0x100000 rw }
            run p { read 0x400000  read 0x402000  read 0x400000  read 0x404000  read 0x400000  read 0x402000 }
            """;
        var r = Scenario.Run(text, MmuMode.Native);
        Assert.That((r.Counters.TlbHits, r.Counters.TlbMisses), Is.EqualTo((2L, 4L)));
    }

    // ------------------------------------------------------------ shadow tables

    [Test]
    public void Shadow_tables_are_bounded_and_the_oldest_is_zapped_first()
    {
        // 16 pages in 16 different 2 MiB regions: 16 page tables under one PD.
        var text = "cost shadow-pages 8\nslot 0 gpa 0x0 size 64M hva 0x7f0000000000\nprocess p {\n"
                   + string.Concat(Enumerable.Range(0, 16).Select(i => $"  map {0x40000000 + i * 0x200000:x} to 0x{0x1000000 + i * 0x1000:x} rw\n")).Replace("map ", "map 0x")
                   + "}\nrun p { sweep read 0x40000000 size 32M stride 2M }";
        var r = Scenario.Run(text, MmuMode.Shadow, trace: true);
        Assert.That(r.Counters.PagesShadow, Is.LessThanOrEqualTo(8));
        var zaps = r.Trace.OfType<ShadowZapEvent>().ToList();
        Assert.That(zaps, Is.Not.Empty);
        Assert.That(zaps[0].Level, Is.EqualTo(1), "the root, PDPT and PD are on the path being built; the oldest page table goes first");
        Assert.That(r.Counters.Segv, Is.Zero);
    }

    [Test]
    public void Shadow_traps_run_time_writes_to_shadowed_tables()
    {
        const string text = Slot + "process p { map 0x400000 to 0x100000 rw }\nrun p { read 0x400000  map 0x401000 to 0x101000 rw  read 0x401000 }";
        var r = Scenario.Run(text, MmuMode.Shadow, trace: true);
        Assert.That(r.Trace.OfType<EmulatedWriteEvent>().Count(), Is.EqualTo(1), "the PT page is shadowed and write-protected");
        var ept = Scenario.Run(text, MmuMode.Ept);
        Assert.That(ept.Counters.Get("exits.EXCEPTION_NMI"), Is.Zero, "under EPT the guest writes its tables freely");
    }

    // ------------------------------------------------------------ unmap, protect and the flush ceiling

    private static string Unmap(int pages) => Slot + $"process p {{ map 0x400000 size {pages * 4}K to 0x100000 rw }}\nrun p {{ sweep read 0x400000 size {pages * 4}K stride 4K  unmap 0x400000 size {pages * 4}K }}";

    [Test]
    public void Up_to_33_changed_pages_are_flushed_with_invlpg_beyond_that_with_a_cr3_reload()
    {
        var small = Scenario.Run(Unmap(33), MmuMode.Shadow, trace: true);
        Assert.That(small.Counters.Get("exits.INVLPG"), Is.EqualTo(33));
        Assert.That(small.Trace.OfType<Cr3Event>().Count(c => c.Reload), Is.Zero);
        var large = Scenario.Run(Unmap(34), MmuMode.Shadow, trace: true);
        Assert.That(large.Counters.Get("exits.INVLPG"), Is.Zero);
        Assert.That(large.Trace.OfType<Cr3Event>().Count(c => c.Reload), Is.EqualTo(1));
        Assert.That(large.Counters.Get("exits.CR_ACCESS"), Is.EqualTo(2), "the first run and the reload");
    }

    [Test]
    public void Unmap_makes_later_accesses_segfault_and_protect_changes_what_is_allowed()
    {
        const string text = Slot + """
            process p { map 0x400000 size 8K to 0x100000 rw }
            run p {
              write 0x400000
              protect 0x400000 r
              write 0x400000
              read 0x400000
              unmap 0x401000
              read 0x401000
              protect 0x400000 rw
              write 0x400000
            }
            """;
        foreach (var mode in AllModes)
        {
            var r = Scenario.Run(text, mode);
            Assert.That((r.Counters.GuestFaults, r.Counters.Segv), Is.EqualTo((2L, 2L)), $"{mode}: the write after protect r, and the read after unmap");
        }
    }

    [Test]
    public void Unmapping_part_of_a_huge_page_is_a_run_time_error_with_its_position()
    {
        var r = Scenario.RunAllowingErrors(Slot + "process p { map 0x40000000 page 2M to 0x200000 rw }\nrun p {\n  unmap 0x40000000 size 4K\n}", MmuMode.Ept);
        Assert.That(r.Error, Is.Not.Null);
        Assert.That(r.Error!.Code, Is.EqualTo("MS0605"));
        Assert.That(r.Error.Message, Does.Contain("part of the 2M page"));
    }

    [Test]
    public void Out_of_guest_memory_names_the_process_and_address()
    {
        var r = Scenario.RunAllowingErrors("slot 0 gpa 0x0 size 64K hva 0x7f0000000000\nprocess big { demand 0x10000000 size 1M rw }\nrun big {\n  sweep write 0x10000000 size 1M stride 4K\n}", MmuMode.Native);
        Assert.That(r.Error!.Code, Is.EqualTo("MS0602"));
        Assert.That(r.Error.Message, Does.Contain("'big'").And.Contain("0x1000c000"));
        Assert.That(r.Counters.PagesGuestPt, Is.EqualTo(4), "what ran before the error is still counted");
    }

    // ------------------------------------------------------------ guest frame allocator

    [Test]
    public void Huge_demand_pages_take_the_lowest_free_aligned_range_and_4K_frames_fill_the_gaps()
    {
        const string text = """
            slot 0 gpa 0x0 size 8M hva 0x7f0000000000
            process p { demand 0x40000000 size 2M page 2M rw  demand 0x10000000 size 1M rw }
            run p { write 0x40000000  write 0x10000000 }
            """;
        var r = Scenario.Run(text, MmuMode.Ept, trace: true);
        var dataPages = r.Trace.OfType<EptViolationExit>().Where(v => (v.Qualification & (1 << 8)) != 0).Select(v => v.Gpa.Value).ToList();
        // Root 0x0, PDPT 0x1000, PD 0x2000 push the 2 MiB page to 0x200000. The 4 KiB page shares the
        // PDPT and gets a PD 0x3000 and PT 0x4000 from the gap below it, then the frame 0x5000.
        Assert.That(dataPages, Is.EqualTo(new ulong[] { 0x200000, 0x5000 }));
    }
}
