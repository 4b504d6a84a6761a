namespace MemScript.Tests.Support;

/// <summary>
/// Compares output with an expected file beside the case (Scriban's layout). On a mismatch it writes
/// NAME.received beside it for review; with MEMSCRIPT_ACCEPT=1 it writes the expected file instead.
/// </summary>
public static class ExpectedFile
{
    public static void Verify(string expectedPath, string actual)
    {
        actual = actual.Replace("\r\n", "\n");
        var received = expectedPath + ".received";
        if (Environment.GetEnvironmentVariable("MEMSCRIPT_ACCEPT") == "1")
        {
            File.WriteAllText(expectedPath, actual);
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        if (!File.Exists(expectedPath))
        {
            File.WriteAllText(received, actual);
            Assert.Fail($"{Paths.Relative(expectedPath)} does not exist; the output is in {Paths.Relative(received)}");
        }
        var expected = File.ReadAllText(expectedPath).Replace("\r\n", "\n");
        if (expected == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        File.WriteAllText(received, actual);
        Assert.That(actual, Is.EqualTo(expected), $"{Paths.Relative(expectedPath)} differs; the output is in {Paths.Relative(received)}");
    }
}
