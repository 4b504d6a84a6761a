using System.Globalization;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Language.Checking;

/// <summary>
/// The warning a run ends with (MS0804): accesses dropped as segmentation faults, or handed to the VMM
/// as MMIO, while no <c>expect</c> of the file mentions that counter; usually a range or a map target
/// that is not what the author meant. The command prints it after the runs.
/// </summary>
public static class RunWarnings
{
    /// <summary>One warning per such counter, over the runs of every mode that ran.</summary>
    public static IEnumerable<Diagnostic> Unmentioned(CheckedScript script, IReadOnlyList<(MmuMode Mode, long Segv, long Mmio)> runs)
    {
        var first = script.Syntax.Items.OfType<RunBlock>().FirstOrDefault();
        if (first is null || runs.Count == 0) yield break;
        var span = TextSpan.Between(new TextSpan(first.Span.Start, first.Span.Start), first.Process.Span);
        var mentioned = SyntaxWalker.Statements(script.Syntax).OfType<ExpectStmt>().Select(e => e.Counter.Text).ToHashSet(StringComparer.Ordinal);
        foreach (var (counter, value, what) in new (string, Func<(MmuMode Mode, long Segv, long Mmio), long>, string)[]
        {
            ("faults.segv", r => r.Segv, "those accesses faulted and were dropped"),
            ("mmio", r => r.Mmio, "those accesses went to the VMM as MMIO, not to memory"),
        })
        {
            if (mentioned.Contains(counter) || runs.All(r => value(r) == 0)) continue;
            var values = runs.Select(value).Distinct().Count() == 1
                ? $"{value(runs[0]).ToString("N0", CultureInfo.InvariantCulture)} in {(runs.Count == 1 ? Vocabulary.ModeName(runs[0].Mode) : "every mode")}"
                : Errors.JoinAnd([.. runs.Select(r => $"{value(r).ToString("N0", CultureInfo.InvariantCulture)} in {Vocabulary.ModeName(r.Mode)}")]);
            yield return Errors.UnexpectedOutcome(span, counter, values, what);
        }
    }
}
