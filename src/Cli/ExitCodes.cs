namespace MemScript.Cli;

/// <summary>The exit codes of LANGUAGE.md.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int RunFailed = 1;
    public const int Usage = 2;
}
