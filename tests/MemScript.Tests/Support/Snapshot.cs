using ApprovalTests;
using ApprovalTests.Core;
using ApprovalTests.Reporters.TestFrameworks;

namespace MemScript.Tests.Support;

/// <summary>
/// The one snapshot mechanism: ApprovalTests with files laid out by folder, not by test name.
/// NAME.approved.txt is the locked output; a mismatch writes NAME.received.txt beside it and fails.
/// With MEMSCRIPT_ACCEPT=1 every mismatch is approved instead (read the diff before you commit).
/// </summary>
public static class Snapshot
{
    /// <summary>Example snapshots: tests/snapshots/examples/NAME/MODE.KIND.approved.txt.</summary>
    public static string Examples => Path.Combine(Paths.RepositoryRoot, "tests", "snapshots", "examples");

    /// <summary>Explain snapshots: tests/snapshots/explain/NAME/AT.MODE.approved.txt.</summary>
    public static string Explain => Path.Combine(Paths.RepositoryRoot, "tests", "snapshots", "explain");

    /// <summary>Study snapshots: tests/snapshots/studies/NAME/FORMAT.approved.txt.</summary>
    public static string Studies => Path.Combine(Paths.RepositoryRoot, "tests", "snapshots", "studies");

    public static bool Accepting => Environment.GetEnvironmentVariable("MEMSCRIPT_ACCEPT") == "1";

    /// <summary>Verifies <paramref name="text"/> against DIRECTORY/NAME.approved.txt.</summary>
    public static void Verify(string directory, string name, string text)
    {
        Directory.CreateDirectory(directory);
        IApprovalFailureReporter reporter = Accepting ? AcceptReporter.Instance : NUnit4Reporter.INSTANCE;
        Approvals.Verify(new PlainTextWriter(text.Replace("\r\n", "\n")), new FolderNamer(directory, name), reporter);
    }

    /// <summary>Names a snapshot by an explicit folder and base name.</summary>
    private sealed class FolderNamer(string directory, string name) : IApprovalNamer
    {
        public string SourcePath => directory;
        public string Name => name;
    }

    /// <summary>Writes UTF-8 without a byte-order mark, so snapshots read as the command's own output does.</summary>
    private sealed class PlainTextWriter(string text) : IApprovalWriter
    {
        public string GetApprovalFilename(string basename) => basename + ".approved.txt";
        public string GetReceivedFilename(string basename) => basename + ".received.txt";

        public string WriteReceivedFile(string received)
        {
            File.WriteAllText(received, text, new System.Text.UTF8Encoding(false));
            return received;
        }
    }

    /// <summary>Approves what it is shown: the received file becomes the approved one.</summary>
    private sealed class AcceptReporter : IReporterWithApprovalPower
    {
        public static readonly AcceptReporter Instance = new();

        public void Report(string approved, string received) => File.Move(received, approved, overwrite: true);

        public bool ApprovedWhenReported() => true;
    }
}
