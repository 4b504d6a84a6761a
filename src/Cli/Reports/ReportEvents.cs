using System.Globalization;
using MemScript.Engine.Memory;
using MemScript.Engine.Tracing;
using MemScript.Language.Checking;
using MemScript.Language.Diagnostics;

namespace MemScript.Cli.Reports;

/// <summary>A named address on a drawn chain: "GVA 0x400010".</summary>
public sealed record ChainBox(string Name, string Value);

/// <summary>One chain of addresses (the hardware's, or software's beside it) with what makes it.</summary>
public sealed record AddressChain(string Title, IReadOnlyList<ChainBox> Boxes);

/// <summary>The report's words for trace events, address chains, slots and ranges: shared by the page and the data text.</summary>
public static class ReportEvents
{
    private static string H(ulong v) => Hex.Format(v);

    private static string Exit(ExitReason reason) => reason.Number() is { } n ? $"{reason.Name()} ({n.ToString(CultureInfo.InvariantCulture)})" : reason.Name();

    private static string Kind(AccessKind kind) => kind switch { AccessKind.Read => "read", AccessKind.Write => "write", _ => "fetch" };

    /// <summary>An event in words, with what the hardware reports decoded (SEMANTICS.md section 9).</summary>
    public static string Describe(TraceEvent e) => e switch
    {
        EptViolationExit v => $"{Exit(v.Reason)} at gpa {v.Gpa}: qualification {H(v.Qualification)} = {TraceFormatter.DecodeQualification(v.Qualification)} "
                              + ((v.Qualification & (1UL << 8)) != 0 ? "(bit 8 set: the final translation)" : "(bit 8 clear: translating a guest page-table page)"),
        EptMisconfigExit m => $"{Exit(m.Reason)} at gpa {m.Gpa}: KVM's MMIO entry",
        PageFaultExit p => $"{Exit(p.Reason)}: #PF (interruption information {H(PageFaultExit.InterruptionInfo)}), error code {H(p.ErrorCode)} = "
                           + $"{TraceFormatter.DecodeErrorCode(p.ErrorCode)}, address {p.Linear}",
        PmlFullExit p => $"{Exit(p.Reason)}: the page-modification log is full, logging gpa {p.Gpa}",
        MmuTrapExit t => $"{Exit(t.Reason)}: the software MMU traps the miss of {t.Linear} ({Kind(t.Kind)})",
        CrAccessExit c => $"{Exit(c.Reason)}: mov to CR3 {c.Cr3} ({c.Process})",
        InvlpgExit i => $"{Exit(i.Reason)}: {i.Linear}",
        GuestFaultEvent f => $"guest page fault at {f.Address} ({Kind(f.Kind)}, {(f.NotPresent ? "not present" : "protection")}): "
                             + (f.Filled ? "the guest kernel allocates the demand page" : "segmentation fault, the access is dropped"),
        HostFaultEvent h => $"host page fault: gpa {h.Gpa}, hva {h.Hva} -> hpa {h.Hpa} ({h.Size.Text()})",
        EptMapEvent m => m.Mmio ? $"KVM installs an MMIO entry for gpa {m.Gpa} in EPT"
            : $"KVM maps gpa {m.Gpa} -> hpa {m.Hpa} in EPT ({m.Size.Text()}, {(m.Writable ? "rwx" : "r-x")})",
        ShadowMapEvent s => s.Mmio ? $"KVM installs an MMIO shadow entry for gva {s.Gva}"
            : $"KVM maps gva {s.Gva} -> hpa {s.Hpa} in the shadow table ({s.Size.Text()}{(s.Writable ? "" : ", read-only")})",
        ShadowPrefetchEvent p => $"KVM prefetches {p.Count} shadow lea{(p.Count == 1 ? "f" : "ves")} beside gva {p.Page}",
        ShadowUnsyncEvent u => $"KVM lets the shadow of the leaf table at gpa {u.GuestTable} go unsync",
        ShadowSyncEvent s => $"KVM syncs the leaf table at gpa {s.GuestTable}: {s.Entries} entries read, {s.Cleared} cleared",
        ShadowZapEvent z => $"KVM zaps the shadow table of gpa {z.GuestTable} level {z.Level} ({(z.Cause == ZapCause.Limit ? "shadow-page limit" : "write flooding")})",
        EmulatedWriteEvent w => $"KVM emulates the guest's page-table write at gpa {w.Entry}",
        MmioEvent m => $"MMIO: {m.Gva} -> gpa {m.Gpa} ({Kind(m.Kind)}), handed to the VMM",
        _ => TraceFormatter.Format(e).Trim(),
    };

    /// <summary>Whether an event is a VM exit (drawn as such beside a walk).</summary>
    public static bool IsExit(TraceEvent e) => e is ExitEvent;

    /// <summary>
    /// The chains of addresses of a path: the hardware's (what a TLB miss walks) and, beside it, what
    /// software knows or does (KVM's memslot, KVM's software walk on a shadow miss, the software MMU).
    /// </summary>
    public static IReadOnlyList<AddressChain> Chains(PathDrawing p)
    {
        var path = p.Path;
        var gva = new ChainBox("GVA", H(path.Gva));
        var gpa = path.Gpa is { } g ? new ChainBox("GPA", H(g)) : null;
        var hva = path.Hva is { } v ? new ChainBox("HVA", H(v)) : null;
        var hpa = path.Hpa is { } h ? new ChainBox("HPA", H(h)) : null;
        var slot = path.Slot is { } s ? new ChainBox("memslot", s.Id.ToString(CultureInfo.InvariantCulture)) : path.Gpa is null ? null : new ChainBox("no slot", "MMIO");
        static List<ChainBox> Of(params ChainBox?[] boxes) => [.. boxes.Where(b => b is not null).Select(b => b!)];
        return path.Mode switch
        {
            MmuMode.Native => [new AddressChain("the hardware walk", Of(gva, path.Gpa is { } pa ? new ChainBox("PA", H(pa)) : null))],
            MmuMode.Ept =>
            [
                new AddressChain("the hardware walk (two dimensions)", Of(gva, gpa, hpa)),
                new AddressChain("KVM's memslot, used when it maps a page in EPT", Of(gpa, slot, hva, hpa)),
            ],
            MmuMode.Shadow =>
            [
                new AddressChain("the hardware walk (the shadow table)", Of(gva, hpa)),
                new AddressChain("KVM's software walk, on a shadow miss", Of(gva, gpa, slot, hva, hpa)),
            ],
            _ => [new AddressChain("the software MMU's walk, after MMU_TRAP; the TLB then holds GVA to HPA", Of(gva, gpa, slot, hva, hpa))],
        };
    }

    public static IEnumerable<string> Chain(PathDrawing p) =>
        Chains(p).Select(c => $"{c.Title}: {string.Join(" -> ", c.Boxes.Select(b => $"{b.Name} {b.Value}"))}");

    public static string SlotLine(SlotInfo s)
    {
        var flags = new List<string>();
        if (s.Readonly) flags.Add("readonly");
        if (s.DirtyLog) flags.Add("dirty-log");
        if (s.Prealloc) flags.Add("prealloc");
        return $"slot {s.Id.ToString(CultureInfo.InvariantCulture)}: gpa {H(s.Gpa)}..{H(s.End - 1)} ({Bytes(s.Size)}) -> hva {H(s.Hva)}..{H(s.Hva + s.Size - 1)}, "
               + $"{s.Backing.Text()} backing{(flags.Count == 0 ? "" : ", " + string.Join(", ", flags))}";
    }

    /// <summary>"PT tables of demo at 0x4000 (4 KiB)", "data of demo at 0x1000..0x1fff (4 KiB)".</summary>
    public static string RangeText(PlacedRange r) =>
        $"{(r.Level == 0 ? "data" : ExplainPrinter.LevelName(r.Level, 5))} of {DiagnosticFormatter.Escape(r.Process)} at {H(r.Gpa)}"
        + (r.Size == 4096 ? "" : $"..{H(r.Gpa + r.Size - 1)}") + $" ({Bytes(r.Size)})";

    /// <summary>A byte count in the largest binary unit that divides it: "4 KiB", "1 MiB", "1536 KiB".</summary>
    public static string Bytes(ulong bytes)
    {
        foreach (var (unit, shift) in new[] { ("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10) })
            if (bytes >= 1UL << shift && bytes % (1UL << shift) == 0) return $"{(bytes >> shift).ToString(CultureInfo.InvariantCulture)} {unit}";
        return $"{bytes.ToString(CultureInfo.InvariantCulture)} bytes";
    }
}
