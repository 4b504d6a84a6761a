using System.Diagnostics;
using MemScript.Cli.Commands;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>Every way a scenario file cannot be read has its own code and says what to do (exit code 2).</summary>
public class InputFileTests
{
    private string _directory = "";

    [SetUp]
    public void NewDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"memscript-input-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
    }

    [TearDown]
    public void RemoveDirectory() => Directory.Delete(_directory, recursive: true);

    private static (int Code, string Err) Check(string file)
    {
        var error = new StringWriter();
        var code = CheckCommand.Execute([file], TextWriter.Null, error);
        return (code, error.ToString());
    }

    [Test]
    public void A_directory_is_named_as_one_with_a_scenario_in_it()
    {
        File.WriteAllText(Path.Combine(_directory, "b.memscript"), "");
        File.WriteAllText(Path.Combine(_directory, "a.memscript"), "");
        var (code, error) = Check(_directory);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Is.EqualTo($"{_directory}: error MS0902: this is a directory, not a scenario; name a .memscript file, such as '{Path.Combine(_directory, "a.memscript")}'\n"));
        Assert.That(error, Does.Not.Contain("denied"));
    }

    [Test]
    public void A_missing_file_suggests_the_name_with_its_extension()
    {
        File.WriteAllText(Path.Combine(_directory, "demo.memscript"), "");
        var (code, error) = Check(Path.Combine(_directory, "demo"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain("error MS0901: no such file; did you mean '" + Path.Combine(_directory, "demo.memscript") + "'?"));
        Assert.That(Check(Path.Combine(_directory, "other.memscript")).Err, Does.Contain("error MS0901: no such file; check the name"));
    }

    [Test]
    public void A_name_that_is_not_utf8_is_not_called_missing()
    {
        Assume.That(OperatingSystem.IsLinux(), "file names are bytes on Linux");
        // Only a shell can make the name: .NET cannot encode it, which is the point.
        using (var touch = Process.Start(new ProcessStartInfo("bash", ["-c", "printf 'process p { }\\n' > \"$0\"/$'bad\\xff.memscript'", _directory]))!) touch.WaitForExit();
        Assert.That(Directory.GetFiles(_directory), Has.Length.EqualTo(1));
        var (code, error) = Check(Path.Combine(_directory, "bad\uFFFD.memscript"));
        // Nor can .NET delete it.
        using (var rm = Process.Start(new ProcessStartInfo("bash", ["-c", "rm -- \"$0\"/$'bad\\xff.memscript'", _directory]))!) rm.WaitForExit();
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain("error MS0904: the file exists, but its name is not valid UTF-8"));
    }

    [Test]
    public void An_unreadable_file_says_permission_denied()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName == "root") Assert.Ignore("root reads any file");
        var file = Path.Combine(_directory, "secret.memscript");
        File.WriteAllText(file, "");
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(file, UnixFileMode.None);
        Assert.That(Check(file).Err, Does.Contain("error MS0903: permission denied"));
    }
}
