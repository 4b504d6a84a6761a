using System.Globalization;

namespace MemScript.Engine.Memory;

/// <summary>A guest-virtual address.</summary>
public readonly record struct Gva(ulong Value)
{
    public override string ToString() => Hex.Format(Value);
}

/// <summary>A guest-physical address.</summary>
public readonly record struct Gpa(ulong Value)
{
    public override string ToString() => Hex.Format(Value);
}

/// <summary>A host-virtual address in the VMM process.</summary>
public readonly record struct Hva(ulong Value)
{
    public override string ToString() => Hex.Format(Value);
}

/// <summary>A host-physical address.</summary>
public readonly record struct Hpa(ulong Value)
{
    public override string ToString() => Hex.Format(Value);
}

/// <summary>Hexadecimal formatting used by every printer, culture-free.</summary>
public static class Hex
{
    public static string Format(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);
}
