using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace MemScript.Cli.Commands;

/// <summary>
/// Options that count accesses (<c>--max-accesses</c>, <c>--after</c>): a whole number, 0 or more. A
/// negative number is refused rather than read as "no limit", and a word gets a message in words
/// rather than the name of a .NET type.
/// </summary>
public static class CountOptions
{
    public static Option<long> Count(string name, string description, string zeroMeans) =>
        new(name) { Description = description, CustomParser = r => Parse(r, name, zeroMeans) ?? 0 };

    public static Option<long?> OptionalCount(string name, string description, string zeroMeans) =>
        new(name) { Description = description, CustomParser = r => Parse(r, name, zeroMeans) };

    private static long? Parse(ArgumentResult result, string name, string zeroMeans)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (long.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return value;
        result.AddError($"{name} takes a number of accesses, 0 or more (0: {zeroMeans}), not '{text}'");
        return null;
    }
}
