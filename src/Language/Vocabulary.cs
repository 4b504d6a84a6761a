using System.Collections.Immutable;
using MemScript.Language.Syntax;

namespace MemScript.Language;

/// <summary>The fixed words of the language that name engine concepts: counters, costs, exit reasons, sizes.</summary>
public static class Vocabulary
{
    /// <summary>Counters in the order reports print them (LANGUAGE.md, "Counters that expect can name").</summary>
    public static readonly ImmutableArray<string> Counters =
    [
        "accesses", "cycles", "tlb.hits", "tlb.misses", "walk.refs", "hv.refs", "faults.guest", "faults.host",
        "faults.segv", "exits", "mmio", "pages.guest-pt", "pages.shadow", "pages.ept", "pages.host",
    ];

    /// <summary>Exit reasons the engine produces, with their VMX basic exit reason numbers (MMU_TRAP is this model's own).</summary>
    public static readonly ImmutableArray<(string Name, int? Number)> ExitReasons =
    [
        ("EXCEPTION_NMI", 0), ("INVLPG", 14), ("CR_ACCESS", 28), ("EPT_VIOLATION", 48), ("EPT_MISCONFIG", 49), ("MMU_TRAP", null),
    ];

    /// <summary>Cost names of SEMANTICS.md section 8, in its order.</summary>
    public static readonly ImmutableArray<string> Costs =
    [
        "access", "walk-ref", "hv-ref", "slot-lookup", "vm-exit", "guest-fault", "host-fault", "zero-page",
        "pte-write", "emulate", "shadow-fill", "ept-fill", "cr3-switch", "mmio-exit", "shadow-pages",
    ];

    public static bool IsCounter(string name) =>
        Counters.Contains(name) || (name.StartsWith("exits.", StringComparison.Ordinal) && ExitReasons.Any(r => "exits." + r.Name == name));

    public static string ModeName(MmuMode mode) => mode switch
    {
        MmuMode.Native => "native", MmuMode.Software => "software", MmuMode.Shadow => "shadow", _ => "ept",
    };

    public static MmuMode ParseMode(string text) => text switch
    {
        "native" => MmuMode.Native, "software" => MmuMode.Software, "shadow" => MmuMode.Shadow, "ept" => MmuMode.Ept,
        _ => throw new ArgumentException($"unknown mode '{text}'", nameof(text)),
    };

    public static readonly ImmutableArray<MmuMode> AllModes = [MmuMode.Native, MmuMode.Software, MmuMode.Shadow, MmuMode.Ept];

    public static PageSize ParsePageSize(string text) => text switch
    {
        "4K" => PageSize.Size4K, "2M" => PageSize.Size2M, "1G" => PageSize.Size1G,
        _ => throw new ArgumentException($"unknown page size '{text}'", nameof(text)),
    };

    public static ulong Bytes(this PageSize size) => size switch
    {
        PageSize.Size4K => 1UL << 12, PageSize.Size2M => 1UL << 21, _ => 1UL << 30,
    };

    public static int Shift(this PageSize size) => size switch
    {
        PageSize.Size4K => 12, PageSize.Size2M => 21, _ => 30,
    };

    public static string Text(this PageSize size) => size switch
    {
        PageSize.Size4K => "4K", PageSize.Size2M => "2M", _ => "1G",
    };
}
