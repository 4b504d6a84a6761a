using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>
/// Failures that are not the scenario's (a full device, memory running out) end with one coded line and
/// exit code 3: never a stack trace, never an abort, never 1 (a failed expect).
/// </summary>
[NonParallelizable]
public class FatalErrorTests
{
    private static string Demo => Path.Combine(Paths.Examples, "01-demo-page.memscript");

    private static void OnLinux() => Assume.That(File.Exists("/dev/full"), "needs /dev/full");

    [TestCase("run", "--format", "json")]
    [TestCase("run", "--mode", "all")]
    [TestCase("explain", "--at", "0x400010")]
    public void A_full_standard_output_is_exit_3_with_a_message(params string[] arguments)
    {
        OnLinux();
        var (code, _, error) = CliProcess.Bash("exec $MEMSCRIPT \"$@\" > /dev/full", [arguments[0], Demo, .. arguments[1..]]);
        Assert.That(code, Is.EqualTo(3), error);
        Assert.That(error, Does.Contain("error MS0909: cannot write standard output: No space left on device"));
        CliProcess.AssertNoStackTrace(error);
    }

    [Test]
    public void Standard_output_past_a_file_size_limit_is_exit_3_with_a_message()
    {
        OnLinux();
        var target = Path.Combine(Path.GetTempPath(), $"memscript-fatal-{Guid.NewGuid():N}.json");
        // 4 KiB: the JSON of every mode of this example is larger. (The runtime starts under a size
        // limit only without its double-mapped code pages.)
        var (code, _, error) = CliProcess.Bash("ulimit -f 4; exec $MEMSCRIPT \"$@\" > \"$TARGET\"",
            ["run", Path.Combine(Paths.Examples, "06-streaming.memscript"), "--mode", "all", "--format", "json"],
            new Dictionary<string, string> { ["DOTNET_EnableWriteXorExecute"] = "0", ["TARGET"] = target });
        File.Delete(target);
        Assert.That(code, Is.EqualTo(3), error);
        Assert.That(error, Does.Contain("error MS0909: cannot write standard output: the file would be larger than this process may write (ulimit -f)"));
        CliProcess.AssertNoStackTrace(error);
    }

    [Test]
    public void A_full_standard_error_is_exit_3_not_an_abort()
    {
        OnLinux();
        var (code, _, _) = CliProcess.Bash("exec $MEMSCRIPT \"$@\" 2> /dev/full", ["check", Demo, TempFile("mmu fast\n")]);
        Assert.That(code, Is.EqualTo(3));
    }

    [Test]
    public void Running_out_of_memory_is_exit_3_with_a_message()
    {
        OnLinux();
        // An endless loop of TLB flushes, traced, grows the trace (up to its 5,000,000 events, far past
        // the heap limit given to this process): the managed OutOfMemoryException must become MS0910,
        // whichever thread it is thrown on.
        var file = TempFile("slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { map 0x1000 to 0x1000 rw }\nrun p { repeat 0xffffffffff { flush tlb read 0x1000 } }\n");
        var (code, _, error) = CliProcess.Bash("exec $MEMSCRIPT \"$@\"", ["run", file, "--mode", "native", "--trace"],
            new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x8000000" });
        Assert.That(code, Is.EqualTo(3), error);
        Assert.That(error, Does.Contain("error MS0910: out of memory"));
        CliProcess.AssertNoStackTrace(error);
    }

    [Test]
    public void A_bug_is_one_coded_line_and_exit_3()
    {
        var error = new StringWriter();
        var code = MemScript.Cli.FatalErrors.Guard(() => throw new InvalidOperationException("no such state"), error);
        Assert.That(code, Is.EqualTo(3));
        Assert.That(error.ToString(), Is.EqualTo("memscript: error MS0911: internal error (InvalidOperationException: no such state); this is a bug in MemScript: please report it with the scenario\n"));
    }

    [Test]
    public void A_failure_to_report_the_failure_still_exits_3()
    {
        Assert.That(MemScript.Cli.FatalErrors.Guard(() => throw new OutOfMemoryException(), new FailingWriter()), Is.EqualTo(3));
    }

    private sealed class FailingWriter : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void Write(char value) => throw new IOException("No space left on device");
    }

    internal static string TempFile(string text, string extension = ".memscript")
    {
        var path = Path.Combine(Path.GetTempPath(), $"memscript-fatal-{Guid.NewGuid():N}{extension}");
        File.WriteAllText(path, text);
        return path;
    }
}
