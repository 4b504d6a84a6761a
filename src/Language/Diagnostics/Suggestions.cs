namespace MemScript.Language.Diagnostics;

/// <summary>
/// "Did you mean": the known word nearest to a misspelt one, by edit distance (insertions, deletions,
/// substitutions and transpositions of neighbours, each one edit), ignoring case.
/// </summary>
public static class Suggestions
{
    /// <summary>Words longer than this are not compared: a hostile 10 MB token must not cost seconds.</summary>
    private const int MaxLength = 64;

    /// <summary>The nearest candidate within a distance that grows with the word's length, or null; ties go to the earlier candidate.</summary>
    public static string? Nearest(string word, IEnumerable<string> candidates)
    {
        if (word.Length == 0 || word.Length > MaxLength) return null;
        var limit = word.Length <= 3 ? 1 : word.Length <= 6 ? 2 : 3;
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            if (candidate == word || Math.Abs(candidate.Length - word.Length) > limit || candidate.Length > MaxLength) continue;
            var d = Distance(word.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d <= limit && d < bestDistance && Shared(word, candidate) * 2 >= word.Length + 1)
            {
                best = candidate;
                bestDistance = d;
            }
        }
        return best;
    }

    /// <summary>"; did you mean 'x'?" for the nearest candidate, or nothing.</summary>
    public static string DidYouMean(string word, IEnumerable<string> candidates) =>
        Nearest(word, candidates) is { } s ? $"; did you mean '{s}'?" : "";

    /// <summary>
    /// Letters the two words have in common (as multisets, ignoring case): a one-letter name is one
    /// edit from every other, and 'q' is no misspelling of 'p'.
    /// </summary>
    private static int Shared(string a, string b)
    {
        var counts = new Dictionary<char, int>();
        foreach (var c in a.ToLowerInvariant()) counts[c] = counts.GetValueOrDefault(c) + 1;
        var shared = 0;
        foreach (var c in b.ToLowerInvariant())
        {
            if (counts.GetValueOrDefault(c) <= 0) continue;
            counts[c]--;
            shared++;
        }
        return shared;
    }

    /// <summary>Optimal string alignment distance.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
