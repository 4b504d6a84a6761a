using System.Text;
using MemScript.Engine.Interpreter;
using MemScript.Language.Syntax;

namespace MemScript.Tests.Engine;

/// <summary>The batched lackey reader gives every access in order whatever the batch size, and the accesses before a bad line before its error.</summary>
public class LackeyReaderTests
{
    private static (string Text, List<(ulong, AccessKind)> Accesses) Trace(int lines, int seed)
    {
        var rng = new Random(seed);
        var text = new StringBuilder("==1234== Lackey\n");
        var accesses = new List<(ulong, AccessKind)>();
        for (var i = 0; i < lines; i++)
        {
            var address = (ulong)rng.NextInt64(1L << 40);
            switch (rng.Next(6))
            {
                case 0: text.Append($"I  {address:x8},{rng.Next(1, 16)}\n"); accesses.Add((address, AccessKind.Exec)); break;
                case 1: text.Append($" L {address:x8},8\n"); accesses.Add((address, AccessKind.Read)); break;
                case 2: text.Append($" S {address:X},4\r\n"); accesses.Add((address, AccessKind.Write)); break;
                case 3: text.Append($" M {address:x},8\n"); accesses.Add((address, AccessKind.Read)); accesses.Add((address, AccessKind.Write)); break;
                case 4: text.Append('\n'); break;
                default: text.Append("==1234== note\n"); break;
            }
        }
        return (text.ToString(), accesses);
    }

    private static List<(ulong, AccessKind)> ReadAll(string path, int batch, out TraceFormatException? error)
    {
        var got = new List<(ulong, AccessKind)>();
        var (addresses, kinds) = (new ulong[batch], new AccessKind[batch]);
        using var reader = LackeyReader.Open(path, "t.lackey");
        error = null;
        try
        {
            int n;
            while ((n = reader.Read(addresses, kinds)) > 0)
                for (var i = 0; i < n; i++) got.Add((addresses[i], kinds[i]));
        }
        catch (TraceFormatException e)
        {
            error = e;
        }
        return got;
    }

    [TestCase(2), TestCase(3), TestCase(7), TestCase(4096)]
    public void Every_access_comes_out_in_order_whatever_the_batch(int batch)
    {
        // More than the reader's 1 MiB buffer, so that lines also straddle refills.
        var (text, expected) = Trace(120_000, batch);
        var path = Path.Combine(Path.GetTempPath(), $"memscript-lackey-{Guid.NewGuid():N}.lackey");
        try
        {
            File.WriteAllText(path, text + " L 1000,8"); // a last line without a newline
            expected.Add((0x1000, AccessKind.Read));
            var got = ReadAll(path, batch, out var error);
            Assert.That(error, Is.Null);
            Assert.That(got, Is.EqualTo(expected));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void The_accesses_before_a_bad_line_come_out_before_its_error()
    {
        var (text, expected) = Trace(5_000, 11);
        var path = Path.Combine(Path.GetTempPath(), $"memscript-lackey-{Guid.NewGuid():N}.lackey");
        try
        {
            File.WriteAllText(path, text + " X 1000,8\n L 2000,8\n");
            var got = ReadAll(path, 4096, out var error);
            Assert.That(got, Is.EqualTo(expected));
            Assert.That(error?.Message, Does.StartWith($"t.lackey:{5_002}: not a lackey line"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    // The reader parses lines in valgrind's own form in one pass and hands any other line to the
    // general parser. Lines one edit away from that form must come out as the format says: this
    // oracle is the format written as a pattern, line by line.
    private static readonly System.Text.RegularExpressions.Regex Access =
        new(@"^(I  | [LSM] ) *([0-9a-fA-F]{1,16}),[0-9]{1,9}[ \t]*$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    // Variants one edit away from valgrind's form that are still accesses, or carry none.
    private static string NearlyCanonical(Random rng)
    {
        var (kind, address, size) = Parts(rng);
        return rng.Next(10) switch
        {
            0 => $"{kind}{address},{size}\r",
            1 => $"{kind}{address},{size} ",
            2 => $"{kind}{address},{size}\t",
            3 => $"{kind}{new string('f', 16)},{size}",
            4 => $"{kind}{address},123456789",
            5 => $"{kind}{address.ToUpperInvariant()},{size}",
            6 => $"{kind}   {address},{size}",
            7 => rng.Next(3) switch { 0 => "", 1 => "==7== x", _ => " \t " },
            _ => $"{kind}{address},{size}",
        };
    }

    // Variants one edit away that are not lackey lines, by number.
    private static string Malformed(Random rng, int which)
    {
        var (kind, address, size) = Parts(rng);
        return which switch
        {
            1 => $"{kind}1{new string('0', 16)},{size}",
            2 => $"{kind}{address},1234567890",
            3 => $"{kind}{address}{size}",
            4 => $"{kind}{address},",
            5 => $"{kind}{address}g,{size}",
            _ => $"{kind.Replace(' ', '\t')}{address},{size}",
        };
    }

    private static (string Kind, string Address, string Size) Parts(Random rng)
    {
        var kind = rng.Next(4) switch { 0 => "I  ", 1 => " L ", 2 => " S ", _ => " M " };
        var address = ((ulong)rng.NextInt64() << 1 | (uint)rng.Next(2)).ToString("x").TrimStart('0');
        return (kind, address.Length == 0 ? "0" : address, rng.Next(1, 64).ToString());
    }

    [Test]
    public void Lines_near_valgrind_form_come_out_as_the_format_says([Range(1, 6)] int seed)
    {
        var rng = new Random(seed);
        // More than the reader's 1 MiB buffer of lines, then one malformed line.
        var lines = Enumerable.Range(0, 100_000).Select(_ => NearlyCanonical(rng)).Append(Malformed(rng, seed)).ToList();
        var expected = new List<(ulong, AccessKind)>();
        var errorLine = 0;
        for (var n = 0; n < lines.Count && errorLine == 0; n++)
        {
            var line = lines[n].EndsWith('\r') ? lines[n][..^1] : lines[n];
            var match = Access.Match(line);
            if (match.Success)
            {
                var address = Convert.ToUInt64(match.Groups[2].Value, 16);
                switch (match.Groups[1].Value)
                {
                    case "I  ": expected.Add((address, AccessKind.Exec)); break;
                    case " L ": expected.Add((address, AccessKind.Read)); break;
                    case " S ": expected.Add((address, AccessKind.Write)); break;
                    default: expected.Add((address, AccessKind.Read)); expected.Add((address, AccessKind.Write)); break;
                }
            }
            else if (!(line.Length == 0 || line.StartsWith("==") || line.All(c => c is ' ' or '\t')))
            {
                errorLine = n + 1;
            }
        }
        var path = Path.Combine(Path.GetTempPath(), $"memscript-lackey-{Guid.NewGuid():N}.lackey");
        try
        {
            File.WriteAllText(path, string.Join('\n', lines) + "\n");
            var got = ReadAll(path, 4096, out var error);
            Assert.That(got, Is.EqualTo(expected));
            Assert.That(errorLine, Is.EqualTo(lines.Count), "the oracle finds the error in the last line only");
            Assert.That(error?.Message, Does.StartWith($"t.lackey:{errorLine}: not a lackey line"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
