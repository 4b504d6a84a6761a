using System.Text;
using MemScript.Language.Diagnostics;

namespace MemScript.Cli;

/// <summary>
/// A file the command writes (the HTML report): checked before anything runs, and written whole or not
/// at all, through a temporary file beside the target that is renamed over it. A full disk, a
/// file-size limit or Ctrl-C leaves the previous file as it was, and a reader never sees half a file.
/// </summary>
public static class OutputFile
{
    /// <summary>Null when <paramref name="output"/> can be written without harm; otherwise why not.</summary>
    public static Diagnostic? Check(string output, string input)
    {
        if (string.IsNullOrWhiteSpace(output)) return CommandErrors.OutputNameEmpty();
        string target;
        try
        {
            target = Path.GetFullPath(output);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return CommandErrors.CannotWrite($"'{output}'", e.Message);
        }
        if (Directory.Exists(target)) return CommandErrors.OutputIsDirectory(output);
        if (SameFile(target, input)) return CommandErrors.OutputIsInput(input);
        var directory = Path.GetDirectoryName(target);
        if (directory is not null && !Directory.Exists(directory)) return CommandErrors.OutputDirectoryMissing(Path.GetDirectoryName(output) is { Length: > 0 } d ? d : directory);
        return null;
    }

    /// <summary>Whether two names reach the same file: compared as full paths after following symbolic links.</summary>
    public static bool SameFile(string a, string b)
    {
        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        return string.Equals(Resolved(a), Resolved(b), comparison);
    }

    private static string Resolved(string path)
    {
        try
        {
            var full = Path.GetFullPath(path);
            return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return path;
        }
    }

    /// <summary>Writes <paramref name="content"/> to <paramref name="output"/> whole; null on success, else why it was not written.</summary>
    public static Diagnostic? Write(string output, string content)
    {
        var target = Path.GetFullPath(output);
        var temporary = Path.Combine(Path.GetDirectoryName(target) ?? ".", $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(content);
                stream.Write(bytes);
                // On disk before the rename, so that a crash cannot leave an empty file under the old name.
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows() && File.Exists(target)) File.SetUnixFileMode(temporary, File.GetUnixFileMode(target));
            File.Move(temporary, target, overwrite: true);
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A file-size limit shows as an ArgumentOutOfRangeException (the length the stream could not reach), a full disk as an IOException: either way nothing was replaced.
            try
            {
                File.Delete(temporary);
            }
            catch (Exception)
            {
                // The temporary file may never have been created; the error that matters is the one above.
            }
            var reason = FatalErrors.WriteFailure(e).Replace($" : '{temporary}'", "", StringComparison.Ordinal).Replace(temporary, target, StringComparison.Ordinal);
            return CommandErrors.CannotWrite($"'{output}'", reason + "; the previous file, if any, is unchanged");
        }
    }
}
