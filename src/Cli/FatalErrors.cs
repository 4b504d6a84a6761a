using MemScript.Language.Diagnostics;

namespace MemScript.Cli;

/// <summary>
/// What the process does with an error no command handled (a full disk, a file-size limit, memory
/// running out, a bug): one coded line on stderr and exit code 3, never a stack trace, and never 1,
/// which means a failed <c>expect</c>.
/// </summary>
public static class FatalErrors
{
    /// <summary>Runs the command line, turning any escaping exception into its diagnostic and exit code 3.</summary>
    public static int Guard(Func<int> main, TextWriter error)
    {
        try
        {
            return main();
        }
        catch (Exception e)
        {
            // Writing the message may fail too (stderr on a full device): then the exit code is all that is left.
            try
            {
                error.Write(Describe(e));
                error.Flush();
            }
            catch (Exception)
            {
            }
            return ExitCodes.InternalError;
        }
    }

    /// <summary>
    /// Whether an exception from a write means the write failed: an IOException (a full disk, a closed
    /// pipe), or the ArgumentOutOfRangeException that .NET makes of EFBIG (a file-size limit).
    /// </summary>
    public static bool IsWriteFailure(Exception e) => e is IOException or ArgumentOutOfRangeException;

    /// <summary>Why a write failed, in words; EFBIG's own message speaks of a parameter.</summary>
    public static string WriteFailure(Exception e) =>
        e is ArgumentOutOfRangeException ? "the file would be larger than this process may write (ulimit -f)" : e.Message;

    /// <summary>The one line printed for an exception that reached the top.</summary>
    public static string Describe(Exception e) => e switch
    {
        // Runs on several workers (a study, run --mode all) fail as one AggregateException: say what the first was.
        AggregateException { InnerExceptions.Count: > 0 } all => Describe(all.Flatten().InnerExceptions[0]),
        OutputFailedException output => CommandErrors.Format("memscript", CommandErrors.CannotWrite(output.Stream, WriteFailure(output.InnerException!))),
        OutOfMemoryException => CommandErrors.Format("memscript", CommandErrors.OutOfMemory()),
        _ => CommandErrors.Format("memscript", CommandErrors.Internal($"{e.GetType().Name}: {e.Message}")),
    };
}
