using System.CommandLine;
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

    /// <summary>
    /// Null when the file cannot be read (the reason is printed to <paramref name="error"/>). The script is
    /// null when the file, or an option's <c>--set</c>, has an error, or a warning under
    /// <paramref name="warningsAsErrors"/>.
    /// </summary>
    public static Loaded? Load(string path, TextWriter error, CheckOptions? options = null, bool warningsAsErrors = false)
    {
        var bytes = InputFile.ReadBytes(path, error);
        if (bytes is null) return null;
        var (text, notUtf8) = ScenarioBytes.Decode(bytes);
        var source = new SourceText(path, text);
        var result = notUtf8 is null ? Checker.CheckText(text, options ?? CheckOptions.None) : new CheckResult(null, [notUtf8]);
        if (warningsAsErrors) result = WarningsAsErrors(result);
        foreach (var o in result.OptionDiagnostics) error.Write(o.Format());
        error.Write(DiagnosticFormatter.FormatAll(source, result.Diagnostics));
        return new Loaded(source, result.Script, result.Diagnostics);
    }

    /// <summary>--warnings-as-errors: every warning becomes an error, and the file is not run.</summary>
    private static CheckResult WarningsAsErrors(CheckResult result) =>
        result.Diagnostics.Any(d => !d.IsError)
            ? result with { Script = null, Diagnostics = [.. result.Diagnostics.Select(d => d.IsError ? d : d with { Severity = Severity.Error, Message = d.Message + " [--warnings-as-errors]" })] }
            : result;

    /// <summary>The options every command that checks a scenario takes: <c>--set NAME=EXPR</c> and <c>--profile</c>.</summary>
    public sealed class ScenarioOptions
    {
        private readonly Option<string[]> _set = new("--set")
        {
            Description = "replace the expression of the file's top-level 'let NAME' (a parameter) with EXPR; repeatable",
            HelpName = "NAME=EXPR",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };

        private readonly Option<string> _profile = new("--profile")
        {
            Description = "the machine's defaults: classic (v1) or modern; replaces the file's profile line, not its explicit declarations",
        };

        public ScenarioOptions(Command command)
        {
            _profile.AcceptOnlyFromAmong("classic", "modern");
            command.Options.Add(_set);
            command.Options.Add(_profile);
        }

        /// <summary>The check options of a parsed command line; null, with the problem printed, when a --set is not NAME=EXPR.</summary>
        public CheckOptions? Read(ParseResult parse, TextWriter error)
        {
            var options = CheckOptions.FromCommandLine(parse.GetValue(_set) ?? [], parse.GetValue(_profile), out var problems);
            foreach (var p in problems) error.Write(p.Format());
            return problems.IsEmpty ? options : null;
        }
    }
}
