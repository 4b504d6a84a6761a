using MemScript.Engine.Accounting;
using MemScript.Engine.Memory;
using MemScript.Language.Syntax;

namespace MemScript.Engine.Tracing;

/// <summary>One event of a run's trace, stamped with the running cycle count and the access number.</summary>
public abstract record TraceEvent(ulong Cycle, long Access);

/// <summary>A TLB miss and the hardware walk it caused (references up to the entry that ended it).</summary>
public sealed record TlbMissEvent(ulong Cycle, long Access, Gva Address, AccessKind Kind, int WalkRefs) : TraceEvent(Cycle, Access);

/// <summary>A guest page fault: why, and what the guest kernel did about it.</summary>
public sealed record GuestFaultEvent(ulong Cycle, long Access, Gva Address, AccessKind Kind, bool NotPresent, bool Filled) : TraceEvent(Cycle, Access);

/// <summary>An access to a non-canonical address: a fault the guest cannot fix.</summary>
public sealed record NonCanonicalEvent(ulong Cycle, long Access, Gva Address) : TraceEvent(Cycle, Access);

/// <summary>The host kernel faulted in one page of a slot's backing.</summary>
public sealed record HostFaultEvent(ulong Cycle, long Access, Gpa Gpa, Hva Hva, Hpa Hpa, PageSize Size) : TraceEvent(Cycle, Access);

/// <summary>A VM exit, with what the hardware reports for its reason.</summary>
public abstract record ExitEvent(ulong Cycle, long Access, ExitReason Reason) : TraceEvent(Cycle, Access);

/// <summary>EPT_VIOLATION with the guest-physical address and exit qualification (SDM 28.2.3.2).</summary>
public sealed record EptViolationExit(ulong Cycle, long Access, Gpa Gpa, ulong Qualification, Gva Linear)
    : ExitEvent(Cycle, Access, ExitReason.EptViolation);

public sealed record EptMisconfigExit(ulong Cycle, long Access, Gpa Gpa) : ExitEvent(Cycle, Access, ExitReason.EptMisconfig);

/// <summary>EXCEPTION_NMI for a #PF: interruption information 0x80000B0E, the error code and the linear address.</summary>
public sealed record PageFaultExit(ulong Cycle, long Access, Gva Linear, uint ErrorCode) : ExitEvent(Cycle, Access, ExitReason.ExceptionNmi)
{
    public const uint InterruptionInfo = 0x80000B0E;
}

public sealed record CrAccessExit(ulong Cycle, long Access, string Process, Gpa Cr3) : ExitEvent(Cycle, Access, ExitReason.CrAccess);

public sealed record InvlpgExit(ulong Cycle, long Access, Gva Linear) : ExitEvent(Cycle, Access, ExitReason.Invlpg);

/// <summary>PML_FULL: a write to log found the page-modification log full; the gpa is the page it was to log.</summary>
public sealed record PmlFullExit(ulong Cycle, long Access, Gpa Gpa) : ExitEvent(Cycle, Access, ExitReason.PmlFull);

/// <summary>The software MMU's trap on a TLB miss (this model's MMU_TRAP).</summary>
public sealed record MmuTrapExit(ulong Cycle, long Access, Gva Linear, AccessKind Kind) : ExitEvent(Cycle, Access, ExitReason.MmuTrap);

/// <summary>KVM installed an EPT leaf (or an MMIO entry).</summary>
public sealed record EptMapEvent(ulong Cycle, long Access, Gpa Gpa, Hpa Hpa, PageSize Size, bool Writable, bool Mmio) : TraceEvent(Cycle, Access);

/// <summary>KVM installed a shadow leaf (or an MMIO shadow entry) for a guest-virtual page.</summary>
public sealed record ShadowMapEvent(ulong Cycle, long Access, Gva Gva, Hpa Hpa, PageSize Size, bool Writable, bool Mmio) : TraceEvent(Cycle, Access);

/// <summary>Why KVM zapped a shadow table.</summary>
public enum ZapCause { Limit, Flood }

/// <summary>KVM dropped a shadow table: to stay under the shadow-page limit, or after write flooding.</summary>
public sealed record ShadowZapEvent(ulong Cycle, long Access, Gpa GuestTable, int Level, bool Direct, ZapCause Cause) : TraceEvent(Cycle, Access);

/// <summary>KVM let the shadow tables of a guest leaf table go unsync instead of emulating a write to it.</summary>
public sealed record ShadowUnsyncEvent(ulong Cycle, long Access, Gpa GuestTable) : TraceEvent(Cycle, Access);

/// <summary>KVM synced an unsync shadow table at a CR3 load: the guest entries it read and the shadow entries it cleared.</summary>
public sealed record ShadowSyncEvent(ulong Cycle, long Access, Gpa GuestTable, int Entries, int Cleared) : TraceEvent(Cycle, Access);

/// <summary>KVM prefetched shadow leaves beside a fault's leaf.</summary>
public sealed record ShadowPrefetchEvent(ulong Cycle, long Access, Gva Page, int Count) : TraceEvent(Cycle, Access);

/// <summary>The VMM read and cleared the dirty log (<c>collect dirty</c>): the dirty pages it found.</summary>
public sealed record DirtyCollectEvent(ulong Cycle, long Access, long Pages) : TraceEvent(Cycle, Access);

/// <summary>KVM emulated a guest write to a write-protected page-table page.</summary>
public sealed record EmulatedWriteEvent(ulong Cycle, long Access, Gpa Entry) : TraceEvent(Cycle, Access);

/// <summary>An access handed to the VMM in user space (KVM_EXIT_MMIO).</summary>
public sealed record MmioEvent(ulong Cycle, long Access, Gva Gva, Gpa Gpa, AccessKind Kind) : TraceEvent(Cycle, Access);

/// <summary>A CR3 load: a switch to another process, or a reload of the same one that flushes its entries.</summary>
public sealed record Cr3Event(ulong Cycle, long Access, string Process, Gpa Root, bool Reload) : TraceEvent(Cycle, Access);

public sealed record InvlpgEvent(ulong Cycle, long Access, Gva Address) : TraceEvent(Cycle, Access);

/// <summary>A run-time page-table edit: map, unmap or protect, with the pages changed.</summary>
public sealed record PageTableEditEvent(ulong Cycle, long Access, string Operation, Gva Start, ulong Size, long PagesChanged) : TraceEvent(Cycle, Access);

public sealed record MarkEvent(ulong Cycle, long Access, string Label) : TraceEvent(Cycle, Access);

public sealed record ExpectFailedEvent(ulong Cycle, long Access, string Message, int Line) : TraceEvent(Cycle, Access);

/// <summary>Receives trace events as they happen.</summary>
public interface ITraceSink
{
    void Emit(TraceEvent traceEvent);
}

/// <summary>Keeps events in memory, up to a limit, counting what it dropped.</summary>
public sealed class ListTraceSink(int limit = int.MaxValue) : ITraceSink
{
    public List<TraceEvent> Events { get; } = new();
    public long Dropped { get; private set; }

    public void Emit(TraceEvent traceEvent)
    {
        if (Events.Count < limit) Events.Add(traceEvent);
        else Dropped++;
    }
}
