using System.Collections.Immutable;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Language.Checking;

/// <summary>What the command line changes before a file is checked: its profile and its parameters.</summary>
public sealed record CheckOptions
{
    /// <summary>
    /// The profile when neither the file nor the options name one: modern, a machine and a KVM of today
    /// (SEMANTICS.md 13). The v1 numbers are the classic profile's.
    /// </summary>
    public const Profile DefaultProfile = MemScript.Model.Profile.Modern;

    /// <summary>No profile override and no parameters.</summary>
    public static CheckOptions None { get; } = new();

    /// <summary><c>--profile</c>: replaces the file's <c>profile</c> line; the file's explicit feature declarations still win.</summary>
    public Profile? Profile { get; init; }

    /// <summary>The profile when neither <see cref="Profile"/> nor the file names one (null: <see cref="DefaultProfile"/>); for tests of the v1 rules.</summary>
    public Profile? Fallback { get; init; }

    /// <summary><c>--set NAME=EXPR</c>, in command-line order: each replaces the expression of the top-level <c>let NAME</c>.</summary>
    public ImmutableArray<(string Name, string Expression)> Parameters { get; init; } = [];

    /// <summary>
    /// The options of the command line: each <c>--set</c> argument split at its first '=' (spaces
    /// around the name ignored), and the <c>--profile</c> word. An argument that is not NAME=EXPR is a
    /// problem, returned for the command to print as a usage error.
    /// </summary>
    public static CheckOptions FromCommandLine(IEnumerable<string> sets, string? profile, out ImmutableArray<OptionDiagnostic> problems)
    {
        var parameters = ImmutableArray.CreateBuilder<(string, string)>();
        var found = ImmutableArray.CreateBuilder<OptionDiagnostic>();
        foreach (var set in sets)
        {
            var eq = set.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? "" : set[..eq].Trim();
            if (name.Length == 0) found.Add(new OptionDiagnostic("--set", set, Errors.BadAssignment(new TextSpan(0, set.Length))));
            else parameters.Add((name, set[(eq + 1)..]));
        }
        problems = found.ToImmutable();
        return new CheckOptions
        {
            Parameters = parameters.ToImmutable(),
            Profile = profile switch { "classic" => MemScript.Model.Profile.Classic, "modern" => MemScript.Model.Profile.Modern, _ => null },
        };
    }
}
