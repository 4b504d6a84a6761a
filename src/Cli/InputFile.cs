using MemScript.Language.Diagnostics;

namespace MemScript.Cli;

/// <summary>Reads a scenario file, turning each way that can fail into a coded diagnostic that says what to do.</summary>
public static class InputFile
{
    /// <summary>The file's bytes, or null when it cannot be read (the diagnostic is printed to <paramref name="error"/>).</summary>
    public static byte[]? ReadBytes(string path, TextWriter error)
    {
        var (bytes, problem) = Read(path);
        if (problem is not null) error.Write(CommandErrors.Format(path, problem));
        return bytes;
    }

    /// <summary>The file's bytes (the language decodes them, and says where they are not UTF-8), or the problem.</summary>
    public static (byte[]? Bytes, Diagnostic? Problem) Read(string path)
    {
        // Reading a directory fails with "access denied", which sends the user to the permissions.
        if (Directory.Exists(path)) return (null, CommandErrors.InputIsDirectory(Example(path)));
        try
        {
            return (File.ReadAllBytes(path), null);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (null, NotFound(path));
        }
        catch (UnauthorizedAccessException)
        {
            return (null, CommandErrors.ReadNotPermitted());
        }
        catch (Exception e) when (e is IOException or ArgumentException or NotSupportedException)
        {
            return (null, CommandErrors.CannotRead(e.Message));
        }
    }

    private static Diagnostic NotFound(string path)
    {
        // .NET decodes a name that is not UTF-8 with U+FFFD and cannot encode it back: the file is there,
        // but no path string reaches it.
        if (path.Contains('\uFFFD') && Listed(path)) return CommandErrors.NameNotUtf8();
        if (!Path.HasExtension(path) && File.Exists(path + ".memscript")) return CommandErrors.FileNotFound(path + ".memscript");
        return CommandErrors.FileNotFound(null);
    }

    private static bool Listed(string path)
    {
        try
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            var name = Path.GetFileName(path);
            return directory is not null && Directory.EnumerateFileSystemEntries(directory).Any(e => Path.GetFileName(e) == name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The first scenario in a directory (in ordinal order, so the message is the same everywhere), as an example to name.</summary>
    private static string? Example(string directory)
    {
        try
        {
            return Directory.EnumerateFiles(directory, "*.memscript").Order(StringComparer.Ordinal).FirstOrDefault();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
