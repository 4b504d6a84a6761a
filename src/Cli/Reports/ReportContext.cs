using MemScript.Engine.Interpreter;
using MemScript.Language.Syntax;

namespace MemScript.Cli.Reports;

/// <summary>What a report prints: the file, its source and the runs of one invocation.</summary>
public sealed record ReportContext(string DisplayPath, SourceText Source, IReadOnlyList<RunResult> Runs);
