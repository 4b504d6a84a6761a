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
}
