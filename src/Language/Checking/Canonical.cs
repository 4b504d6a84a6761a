namespace MemScript.Language.Checking;

/// <summary>x86-64 canonical addresses: the bits above the virtual-address width copy its top bit.</summary>
public static class Canonical
{
    public static bool IsCanonical(ulong address, int bits)
    {
        var shifted = (long)(address << (64 - bits)) >> (64 - bits);
        return (ulong)shifted == address;
    }
}
