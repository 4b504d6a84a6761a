using System.Collections.Immutable;
using System.Globalization;
using MemScript.Language.Diagnostics;
using MemScript.Language.Parsing;
using MemScript.Language.Syntax;

namespace MemScript.Cli.Study;

/// <summary>One <c>--set NAME=V1,V2,...</c> of a study: a parameter and the expressions it takes in turn, as written.</summary>
public sealed record StudyParameter(string Name, ImmutableArray<string> Values)
{
    /// <summary>A value as the reports show it: trimmed, control characters escaped (it came from the command line).</summary>
    public static string Display(string value) => DiagnosticFormatter.Escape(value.Trim());
}

/// <summary>
/// <c>--shard I/N</c>: this process runs only the combinations whose index modulo <see cref="Count"/> is
/// <see cref="Index"/>, so that N processes (an array job) share one study.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>The whole study in one process.</summary>
    public static Shard Whole => new(0, 1);

    public bool IsWhole => Count == 1;

    public bool Includes(long combination) => combination % Count == Index;

    /// <summary>Reads <c>I/N</c> (0 &lt;= I &lt; N); null with the reason in words when it is not that.</summary>
    public static Shard? Parse(string text, out string? problem)
    {
        problem = null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0
            && int.TryParse(text.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            && int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            && count >= 1 && index < count)
            return new Shard(index, count);
        problem = $"--shard takes I/N, the 0-based shard I of N (0 <= I < N), such as 0/4 or $SLURM_ARRAY_TASK_ID/4, not '{DiagnosticFormatter.Escape(text)}'";
        return null;
    }

    public override string ToString() => $"{Index}/{Count}";
}

/// <summary>
/// The combinations of a study: the cartesian product of the parameters' values, the first parameter
/// varying slowest, numbered from 0 in that order (LANGUAGE.md v2, "Parameters and studies").
/// </summary>
public sealed class StudyPlan
{
    /// <summary>More combinations than this cannot be numbered (nor run in a lifetime).</summary>
    public const long MaxCombinations = int.MaxValue;

    public StudyPlan(ImmutableArray<StudyParameter> parameters)
    {
        Parameters = parameters;
        long count = 1;
        foreach (var p in parameters) count = count > MaxCombinations ? count : count * p.Values.Length;
        Count = count;
    }

    public ImmutableArray<StudyParameter> Parameters { get; }

    /// <summary>How many combinations the whole study has (1 without parameters: the file as it is).</summary>
    public long Count { get; }

    /// <summary>The expressions of combination <paramref name="index"/>, one per parameter, the last parameter varying fastest.</summary>
    public ImmutableArray<string> Values(long index)
    {
        var values = new string[Parameters.Length];
        for (var p = Parameters.Length - 1; p >= 0; p--)
        {
            var n = Parameters[p].Values.Length;
            values[p] = Parameters[p].Values[(int)(index % n)];
            index /= n;
        }
        return [.. values];
    }

    /// <summary>The combinations a shard runs, in index order.</summary>
    public IEnumerable<int> Indices(Shard shard)
    {
        for (var i = shard.Index; i < Count; i += shard.Count) yield return i;
    }

    /// <summary>
    /// Reads the <c>--set NAME=V1,V2,...</c> arguments against the file's parameters (its top-level
    /// lets). Each list splits at its top-level commas (not inside parentheses) and each value must read
    /// as an expression; an argument without '=', an unknown name (with the nearest parameter
    /// suggested) or a name set twice is a problem, with the same codes and words as <c>--set</c> on
    /// the other commands, its caret under the offending part of the argument.
    /// </summary>
    public static ImmutableArray<StudyParameter> Read(IEnumerable<string> sets, Script script, out ImmutableArray<OptionDiagnostic> problems)
    {
        const string option = "--set";
        var names = script.Items.OfType<LetItem>().Select(l => l.Let.Name.Text).Distinct(StringComparer.Ordinal).ToList();
        var found = ImmutableArray.CreateBuilder<OptionDiagnostic>();
        var parameters = ImmutableArray.CreateBuilder<StudyParameter>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var argument in sets)
        {
            var eq = argument.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? "" : argument[..eq].Trim();
            if (name.Length == 0)
            {
                found.Add(new(option, argument, Errors.BadAssignment(new TextSpan(0, argument.Length))));
                continue;
            }
            var nameStart = argument.IndexOf(name, StringComparison.Ordinal);
            var nameSpan = new TextSpan(nameStart, nameStart + name.Length);
            if (!names.Contains(name, StringComparer.Ordinal))
            {
                found.Add(new(option, argument, Errors.UnknownParameter(nameSpan, name, names)));
                continue;
            }
            if (!seen.Add(name))
            {
                found.Add(new(option, argument, Errors.ParameterSetTwice(nameSpan, name)));
                continue;
            }
            var values = ImmutableArray.CreateBuilder<string>();
            foreach (var (value, start) in SplitList(argument, eq + 1))
            {
                foreach (var d in ScriptParser.ParseExpression(value).Diagnostics)
                    found.Add(new(option, argument, d with { Span = new TextSpan(d.Span.Start + start, d.Span.End + start) }));
                values.Add(value);
            }
            parameters.Add(new StudyParameter(name, values.ToImmutable()));
        }
        problems = found.ToImmutable();
        return parameters.ToImmutable();
    }

    /// <summary>The values of a list from <paramref name="from"/> on, split at commas outside parentheses, each with where it starts.</summary>
    public static IEnumerable<(string Value, int Start)> SplitList(string text, int from)
    {
        var depth = 0;
        var start = from;
        for (var i = from; i <= text.Length; i++)
        {
            if (i == text.Length || (text[i] == ',' && depth == 0))
            {
                yield return (text[start..i], start);
                start = i + 1;
            }
            else if (text[i] == '(') depth++;
            else if (text[i] == ')' && depth > 0) depth--;
        }
    }
}
