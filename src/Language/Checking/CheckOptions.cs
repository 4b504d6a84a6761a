using System.Collections.Immutable;

namespace MemScript.Language.Checking;

/// <summary>What the command line changes before a file is checked: its profile and its parameters.</summary>
public sealed record CheckOptions
{
    /// <summary>
    /// The profile when neither the file nor the options name one. SEMANTICS.md 13 makes it modern, but
    /// the engine does not implement the modern features yet, so it stays classic (every v1 number
    /// unchanged) until the lead lands section 13 in the engine and flips it here.
    /// </summary>
    public const Profile DefaultProfile = MemScript.Model.Profile.Classic;

    /// <summary>No profile override and no parameters.</summary>
    public static CheckOptions None { get; } = new();

    /// <summary><c>--profile</c>: replaces the file's <c>profile</c> line; the file's explicit feature declarations still win.</summary>
    public Profile? Profile { get; init; }

    /// <summary><c>--set NAME=EXPR</c>, in command-line order: each replaces the expression of the top-level <c>let NAME</c>.</summary>
    public ImmutableArray<(string Name, string Expression)> Parameters { get; init; } = [];
}
