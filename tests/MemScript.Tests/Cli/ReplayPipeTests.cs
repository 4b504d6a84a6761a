using System.Diagnostics;
using MemScript.Cli.Commands;

namespace MemScript.Tests.Cli;

/// <summary>
/// replay of a pipe (a FIFO, a process substitution) that waits for its writer: Ctrl-C stops the run,
/// whether the pipe has no writer yet or a writer that has gone quiet.
/// </summary>
[NonParallelizable]
public class ReplayPipeTests
{
    private string _directory = "";

    private string Fifo => Path.Combine(_directory, "trace.fifo");

    [SetUp]
    public void MakeFifo()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("mkfifo");
        _directory = Path.Combine(Path.GetTempPath(), $"memscript-fifo-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
        using var mkfifo = Process.Start("mkfifo", [Fifo]);
        mkfifo.WaitForExit();
        File.WriteAllText(Path.Combine(_directory, "s.memscript"), "slot 0 gpa 0x0 size 1M hva 0x7f0000000000\nprocess p { demand all rwx }\nrun p { replay \"trace.fifo\" }\n");
    }

    [TearDown]
    public void Remove()
    {
        if (_directory.Length > 0) Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Runs the replay, lets <paramref name="writer"/> act on the pipe, waits, then presses Ctrl-C.</summary>
    private (int Code, string Out) RunUntilInterrupted(Action? writer = null)
    {
        var output = new StringWriter();
        using var interrupt = new CancellationTokenSource();
        var run = Task.Run(() => RunCommand.Execute(new RunCommand.Settings(Path.Combine(_directory, "s.memscript"), "native", false, "text", 0, false), output, TextWriter.Null, interrupt.Token));
        writer?.Invoke();
        Thread.Sleep(800);
        interrupt.Cancel();
        if (!run.Wait(TimeSpan.FromSeconds(30)))
        {
            // Unblock the reader so that it does not outlive the test, then fail.
            using (File.OpenWrite(Fifo)) { }
            Assert.Fail("Ctrl-C did not stop a replay waiting on a pipe");
        }
        return (run.Result, output.ToString());
    }

    [Test]
    public void A_pipe_without_a_writer_stops_at_ctrl_c()
    {
        var (code, output) = RunUntilInterrupted();
        // The abandoned open still waits for a writer: give it one, briefly, so that it ends.
        using (var release = Process.Start("timeout", ["5", "sh", "-c", ": > \"$0\"", Fifo])) release.WaitForExit();
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.Contain("interrupted (native)"));
    }

    [Test]
    public void A_pipe_whose_writer_went_quiet_stops_at_ctrl_c_after_what_it_read()
    {
        FileStream? pipe = null;
        try
        {
            var (code, output) = RunUntilInterrupted(() =>
            {
                pipe = new FileStream(Fifo, FileMode.Open, FileAccess.Write);
                pipe.Write(" L 00001000,8\n L 00002000,8\n"u8);
                pipe.Flush();
            });
            Assert.That(code, Is.EqualTo(1));
            Assert.That(output, Does.Contain("interrupted (native)"));
            Assert.That(output, Does.Match(@"\| accesses +\| +2 \|"), "the two accesses read before Ctrl-C ran");
        }
        finally
        {
            pipe?.Dispose();
        }
    }
}
