namespace MemScript.Model;

/// <summary>The MMU modes of the engine (see <see cref="Vocabulary.Modes"/> for their names).</summary>
public enum MmuMode { Native, Software, Shadow, Ept }

/// <summary>What an access does: a data read, a data write or an instruction fetch.</summary>
public enum AccessKind { Read, Write, Exec }

/// <summary>A page size of the machine: 4 KiB, 2 MiB or 1 GiB.</summary>
public enum PageSize { Size4K, Size2M, Size1G }

/// <summary>Mapping permissions: reads are always allowed; <c>kernel</c> makes a supervisor-only page.</summary>
public readonly record struct Perms(bool Write, bool Exec, bool Kernel)
{
    public override string ToString() => "r" + (Write ? "w" : "") + (Exec ? "x" : "") + (Kernel ? " kernel" : "");
}

/// <summary>Sizes and names of the page sizes.</summary>
public static class PageSizes
{
    public static ulong Bytes(this PageSize size) => 1UL << size.Shift();

    public static int Shift(this PageSize size) => size switch
    {
        PageSize.Size4K => 12, PageSize.Size2M => 21, _ => 30,
    };

    public static string Text(this PageSize size) => size switch
    {
        PageSize.Size4K => "4K", PageSize.Size2M => "2M", _ => "1G",
    };

    /// <summary>The page size of a byte count, when it is one.</summary>
    public static PageSize? OfBytes(ulong bytes) => bytes switch
    {
        1UL << 12 => PageSize.Size4K, 1UL << 21 => PageSize.Size2M, 1UL << 30 => PageSize.Size1G, _ => null,
    };

    public static PageSize Parse(string text) => text switch
    {
        "4K" => PageSize.Size4K, "2M" => PageSize.Size2M, "1G" => PageSize.Size1G,
        _ => throw new ArgumentException($"unknown page size '{text}'", nameof(text)),
    };
}

/// <summary>The defaults of the machine and of KVM (SEMANTICS.md section 13): the v1 textbook machine, or a machine of today.</summary>
public enum Profile { Classic, Modern }

/// <summary>How writes to a <c>dirty-log</c> slot are logged (SEMANTICS.md 13.4).</summary>
public enum DirtyTrack { Pml, Wp, Free }
