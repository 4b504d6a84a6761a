namespace MemScript.Cli;

/// <summary>The exit codes of LANGUAGE.md, and this project's code for failures that are not the scenario's.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int RunFailed = 1;
    public const int Usage = 2;

    /// <summary>
    /// The output could not be written (a full disk, a file-size limit, a closed pipe), memory ran out,
    /// or MemScript has a bug: never 1, so that a script cannot mistake it for a failed <c>expect</c>.
    /// </summary>
    public const int InternalError = 3;
}
