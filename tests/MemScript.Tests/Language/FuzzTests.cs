using System.Text;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using MemScript.Engine.Interpreter;
using MemScript.Language;
using MemScript.Language.Checking;
using MemScript.Language.Diagnostics;
using MemScript.Tests.Support;

namespace MemScript.Tests.Language;

/// <summary>A mutated scenario: which file it came from, the mutations applied, and the text.</summary>
public sealed record Mutant(string Origin, string Mutations, string Text, string BaseDirectory)
{
    public override string ToString() => $"{Origin} with {Mutations}:\n{(Text.Length > 600 ? Text[..600] + "..." : Text)}";
}

/// <summary>FsCheck generators of mutated scenarios from every example and test case.</summary>
public static class MutantArbitraries
{
    private static readonly Lazy<(string Name, string Text, string Dir)[]> Corpus = new(() =>
    {
        var files = Directory.GetFiles(Paths.Examples, "*.memscript", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(Paths.Cases, "*.memscript", SearchOption.AllDirectories))
            .Concat(Directory.Exists(Path.Combine(Paths.Shared, "conformance")) ? Directory.GetFiles(Path.Combine(Paths.Shared, "conformance"), "*.memscript") : [])
            .Order(StringComparer.Ordinal);
        return files.Select(f => (Paths.Relative(f), File.ReadAllText(f), Path.GetDirectoryName(f)!)).ToArray();
    });

    private static readonly string[] Words =
    [
        "read", "write", "exec", "map", "demand", "all", "unmap", "protect", "run", "process", "slot", "size", "page", "2M", "1G",
        "to", "rw", "rwx", "kernel", "repeat", "as", "{", "}", "(", ")", "+", "-", "*", "/", "%", "<<", ">>", "~", "|", "&", "^",
        "==", "expect", "mark", "\"", "#", "0x", "0b", "4K", "let", "=", "sweep", "random", "in", "switch", "invlpg", "flush", "tlb",
        "cost", "vm-exit", "mmu", "ept", "pwc", "on", "guest", "paging", "5-level", "replay", "\"x.lackey\"", "\n", "\t", "_",
        "18446744073709551615", "18446744073709551616", "0xffff_ffff_ffff_ffff", "demand all rw", "exits.EPT_VIOLATION",
    ];

    private static readonly Regex TokenPattern = new(@"\s+|[^\s]+", RegexOptions.Compiled);

    private static string Mutate(string text, int kind, int a, int b, int c)
    {
        var tokens = TokenPattern.Matches(text).Select(m => m.Value).ToList();
        int Pick(int x) => tokens.Count == 0 ? 0 : x % tokens.Count;
        switch (kind)
        {
            case 0 when tokens.Count > 0: tokens.RemoveAt(Pick(a)); break;
            case 1 when tokens.Count > 0: tokens.Insert(Pick(a), tokens[Pick(b)]); break;
            case 2 when tokens.Count > 1: (tokens[Pick(a)], tokens[Pick(b)]) = (tokens[Pick(b)], tokens[Pick(a)]); break;
            case 3: tokens.Insert(Pick(a), " " + Words[b % Words.Length] + " "); break;
            case 4:
            {
                var bytes = new StringBuilder();
                for (var i = 0; i < 1 + c % 8; i++) bytes.Append((char)((a * 31 + b * 17 + i * 7919) % 0x3000));
                tokens.Insert(Pick(a), bytes.ToString());
                break;
            }
            case 5: return text[..(text.Length == 0 ? 0 : a % (text.Length + 1))];
            case 6: tokens.Insert(Pick(a), " " + new string('9', 20 + c % 300) + " "); break;
            case 7: tokens.Insert(Pick(a), " 0x" + new string('f', 17 + c % 40) + " "); break;
            case 8: tokens.Insert(Pick(a), new string('(', 50 + c % 100) + "1" + new string(')', 50 + c % 100)); break;
            case 9: tokens.Insert(Pick(a), string.Concat(Enumerable.Repeat("repeat 1 { ", 40 + c % 60)) + string.Concat(Enumerable.Repeat("} ", 40 + c % 60))); break;
            case 10: tokens.Insert(Pick(a), string.Join(" + ", Enumerable.Repeat("1", 100 + c % 400))); break;
            case 11: tokens.Insert(Pick(a), new string('~', 100 + c % 2000) + "0"); break;
        }
        return string.Concat(tokens);
    }

    public static Arbitrary<Mutant> Mutants()
    {
        var corpus = Corpus.Value;
        var mutation = from kind in Gen.Choose(0, 11)
                       from a in Gen.Choose(0, 1 << 20)
                       from b in Gen.Choose(0, 1 << 20)
                       from c in Gen.Choose(0, 1 << 20)
                       select (kind, a, b, c);
        var gen = from index in Gen.Choose(0, corpus.Length - 1)
                  from count in Gen.Choose(1, 3)
                  from mutations in Gen.ArrayOf(mutation, count)
                  select Build(corpus[index], mutations);
        return gen.ToArbitrary();
    }

    private static Mutant Build((string Name, string Text, string Dir) origin, (int Kind, int A, int B, int C)[] mutations)
    {
        var text = origin.Text;
        foreach (var (kind, a, b, c) in mutations) text = Mutate(text, kind, a, b, c);
        return new Mutant(origin.Name, string.Join(", ", mutations.Select(m => $"op{m.Kind}({m.A},{m.B},{m.C})")), text, origin.Dir);
    }
}

/// <summary>
/// Mutated inputs never crash or hang the front end or the engine: every failure is a diagnostic whose
/// span lies inside the file, and a run that checks ends with a result or a located error.
/// </summary>
public class FuzzTests
{
    [FsCheck.NUnit.Property(MaxTest = 20000, Arbitrary = [typeof(MutantArbitraries)], QuietOnSuccess = true, Replay = "20261124,3")]
    public bool Never_an_exception_and_every_diagnostic_is_located(Mutant mutant)
    {
        var text = mutant.Text;
        var result = Checker.CheckText(text);
        var source = new SourceText("fuzz.memscript", text);
        foreach (var d in result.Diagnostics)
        {
            if (d.Span.Start < 0 || d.Span.End > text.Length || d.Span.Start > d.Span.End) return false;
            if (!DiagnosticFormatter.Format(source, d).StartsWith("fuzz.memscript:", StringComparison.Ordinal)) return false;
        }
        if (!result.Success) return result.Diagnostics.Any(d => d.IsError);

        // It checks: run it, bounded, in a mode picked from the text, and demand a result or a located error.
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var mode = Vocabulary.AllModes[(int)((uint)text.Length % 4)];
        var run = ScriptInterpreter.Run(result.Script!, new RunOptions
        {
            Mode = mode, MaxAccesses = 3000, MaxTablePages = 20_000, MaxHostPages = 20_000,
            BaseDirectory = mutant.BaseDirectory, Cancel = cancel.Token,
        });
        if (run.Error is { } error)
            return error.Span.Start >= 0 && error.Span.End <= text.Length && error.Code.StartsWith("MS", StringComparison.Ordinal);
        return true;
    }
}
