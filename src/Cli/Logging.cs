using Microsoft.Extensions.Logging;

namespace MemScript.Cli;

/// <summary>Engine logging to stderr only, so reports on stdout stay clean; silent unless --verbose.</summary>
public static class Logging
{
    public static ILoggerFactory Create(bool verbose) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Warning);
        builder.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
    });
}
