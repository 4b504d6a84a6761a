using MemScript.Language.Checking;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Cli;

/// <summary>Reads, parses and checks a scenario file, printing its diagnostics.</summary>
public static class ScenarioLoader
{
    public sealed record Loaded(SourceText Source, CheckedScript? Script, IReadOnlyList<Diagnostic> Diagnostics)
    {
        /// <summary>Where the scenario's relative paths (replay traces) are resolved.</summary>
        public string BaseDirectory => Path.GetDirectoryName(Path.GetFullPath(Source.Path)) ?? ".";
    }

    /// <summary>Null when the file cannot be read (the reason is printed to <paramref name="error"/>).</summary>
    public static Loaded? Load(string path, TextWriter error)
    {
        var text = InputFile.Read(path, error);
        if (text is null) return null;
        var source = new SourceText(path, text);
        var result = Checker.CheckText(text);
        error.Write(DiagnosticFormatter.FormatAll(source, result.Diagnostics));
        return new Loaded(source, result.Script, result.Diagnostics);
    }
}
