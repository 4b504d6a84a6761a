using System.Globalization;
using System.Text;
using MemScript.Engine.Accounting;
using MemScript.Language;
using MemScript.Language.Syntax;

namespace MemScript.Engine.Tracing;

/// <summary>
/// Prints trace events one per line: the running cycle count, the access number, the event and its
/// details. The format is documented in docs/trace.md and locked by snapshot tests.
/// </summary>
public static class TraceFormatter
{
    public static string Format(TraceEvent e)
    {
        var (name, detail) = Describe(e);
        return string.Create(CultureInfo.InvariantCulture, $"{e.Cycle,12} {e.Access,8}  {name,-14} {detail}").TrimEnd();
    }

    public static void WriteAll(TextWriter writer, IEnumerable<TraceEvent> events, long dropped = 0)
    {
        writer.WriteLine($"{"cycle",12} {"access",8}  {"event",-14} details");
        foreach (var e in events) writer.WriteLine(Format(e));
        if (dropped > 0) writer.WriteLine($"... {dropped} more events not shown");
    }

    private static string Kind(AccessKind kind) => kind switch { AccessKind.Read => "read", AccessKind.Write => "write", _ => "exec" };

    private static string ExitName(ExitReason reason) =>
        reason.Number() is { } n ? $"{reason.Name()}({n})" : reason.Name();

    private static (string Name, string Detail) Describe(TraceEvent e) => e switch
    {
        TlbMissEvent m => ("tlb-miss", $"{m.Address} {Kind(m.Kind)}, {m.WalkRefs} walk ref{(m.WalkRefs == 1 ? "" : "s")}"),
        GuestFaultEvent f => ("guest-fault", $"{f.Address} {Kind(f.Kind)} {(f.NotPresent ? "not-present" : "protection")} -> {(f.Filled ? "demand page allocated" : "segv")}"),
        NonCanonicalEvent n => ("segv", $"{n.Address} non-canonical"),
        HostFaultEvent h => ("host-fault", $"gpa {h.Gpa} hva {h.Hva} -> hpa {h.Hpa} ({h.Size.Text()})"),
        EptViolationExit v => ("exit", $"{ExitName(v.Reason)} gpa {v.Gpa} qual {Hex(v.Qualification)} ({DecodeQualification(v.Qualification)}) gla {v.Linear}"),
        EptMisconfigExit m => ("exit", $"{ExitName(m.Reason)} gpa {m.Gpa}"),
        PageFaultExit p => ("exit", $"{ExitName(p.Reason)} #PF info {Hex(PageFaultExit.InterruptionInfo)} error {Hex(p.ErrorCode)} ({DecodeErrorCode(p.ErrorCode)}) addr {p.Linear}"),
        CrAccessExit c => ("exit", $"{ExitName(c.Reason)} mov to cr3 {c.Cr3} ({c.Process})"),
        InvlpgExit i => ("exit", $"{ExitName(i.Reason)} {i.Linear}"),
        MmuTrapExit t => ("exit", $"{ExitName(t.Reason)} {t.Linear} {Kind(t.Kind)}"),
        EptMapEvent m => m.Mmio
            ? ("ept-map", $"gpa {m.Gpa} -> MMIO entry (4K)")
            : ("ept-map", $"gpa {m.Gpa} -> hpa {m.Hpa} ({m.Size.Text()}, {(m.Writable ? "rwx" : "r-x")})"),
        ShadowMapEvent s => s.Mmio
            ? ("shadow-map", $"gva {s.Gva} -> MMIO entry (4K)")
            : ("shadow-map", $"gva {s.Gva} -> hpa {s.Hpa} ({s.Size.Text()}{(s.Writable ? "" : ", read-only")})"),
        ShadowZapEvent z => ("shadow-zap", $"{(z.Direct ? "direct table for gpa" : "table shadowing gpa")} {z.GuestTable} level {z.Level} ({(z.Cause == ZapCause.Limit ? "shadow-page limit" : "write flooding")})"),
        ShadowUnsyncEvent u => ("shadow-unsync", $"leaf table at gpa {u.GuestTable}"),
        ShadowSyncEvent s => ("shadow-sync", $"leaf table at gpa {s.GuestTable}: {s.Entries} entr{(s.Entries == 1 ? "y" : "ies")} read, {s.Cleared} cleared"),
        ShadowPrefetchEvent p => ("shadow-prefetch", $"{p.Count} lea{(p.Count == 1 ? "f" : "ves")} beside gva {p.Page}"),
        PmlFullExit p => ("exit", $"{ExitName(p.Reason)} logging gpa {p.Gpa}"),
        DirtyCollectEvent d => ("dirty-collect", $"{d.Pages} dirty page{(d.Pages == 1 ? "" : "s")}"),
        EmulatedWriteEvent w => ("emulate", $"guest page-table write at gpa {w.Entry}"),
        MmioEvent m => ("mmio", $"{m.Gva} -> gpa {m.Gpa} {Kind(m.Kind)}"),
        Cr3Event c => ("cr3", c.Reload ? $"reload {c.Process} root {c.Root}" : $"load {c.Process} root {c.Root}"),
        InvlpgEvent i => ("invlpg", i.Address.ToString()),
        PageTableEditEvent p => ("pt-edit", $"{p.Operation} {p.Start} size {Hex(p.Size)}, {p.PagesChanged} page{(p.PagesChanged == 1 ? "" : "s")}"),
        MarkEvent m => ("mark", $"\"{m.Label}\""),
        ExpectFailedEvent x => ("expect-failed", x.Message),
        _ => ("?", e.GetType().Name),
    };

    private static string Hex(ulong value) => Memory.Hex.Format(value);

    /// <summary>Exit qualification bits of an EPT violation (SDM table 28-7) in words.</summary>
    public static string DecodeQualification(ulong q)
    {
        var access = (q & 1) != 0 ? "read" : (q & 2) != 0 ? "write" : "fetch";
        var allowed = $"{((q & 8) != 0 ? 'r' : '-')}{((q & 16) != 0 ? 'w' : '-')}{((q & 32) != 0 ? 'x' : '-')}";
        var where = (q & (1UL << 8)) != 0 ? "final" : "paging-structure";
        return $"{access}, ept {allowed}, {where}";
    }

    /// <summary>The #PF error code bits in words.</summary>
    public static string DecodeErrorCode(uint code)
    {
        var sb = new StringBuilder();
        sb.Append((code & 1) != 0 ? "present" : "not-present");
        sb.Append((code & 2) != 0 ? " write" : " read");
        sb.Append((code & 4) != 0 ? " user" : " kernel");
        if ((code & 8) != 0) sb.Append(" rsvd");
        if ((code & 16) != 0) sb.Append(" fetch");
        return sb.ToString();
    }
}
