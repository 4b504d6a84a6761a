namespace MemScript.Engine.Accounting;

/// <summary>VM exit reasons the model produces; the values index counters, the numbers are VMX basic exit reasons.</summary>
public enum ExitReason { ExceptionNmi, Invlpg, CrAccess, EptViolation, EptMisconfig, MmuTrap }

public static class ExitReasons
{
    public const int Count = 6;

    public static string Name(this ExitReason reason) => reason switch
    {
        ExitReason.ExceptionNmi => "EXCEPTION_NMI",
        ExitReason.Invlpg => "INVLPG",
        ExitReason.CrAccess => "CR_ACCESS",
        ExitReason.EptViolation => "EPT_VIOLATION",
        ExitReason.EptMisconfig => "EPT_MISCONFIG",
        _ => "MMU_TRAP",
    };

    /// <summary>The VMX basic exit reason; MMU_TRAP is this model's own and has none.</summary>
    public static int? Number(this ExitReason reason) => reason switch
    {
        ExitReason.ExceptionNmi => 0,
        ExitReason.Invlpg => 14,
        ExitReason.CrAccess => 28,
        ExitReason.EptViolation => 48,
        ExitReason.EptMisconfig => 49,
        _ => null,
    };
}
