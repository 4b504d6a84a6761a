using MemScript.Language.Syntax;

namespace MemScript.Language.Diagnostics;

public enum Severity { Error, Warning }

/// <summary>One problem found in a file: a stable code, a severity, a message and the span it concerns.</summary>
public sealed record Diagnostic(string Code, Severity Severity, string Message, TextSpan Span)
{
    public bool IsError => Severity == Severity.Error;
}
