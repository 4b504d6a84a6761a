using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using MemScript.Cli.Commands;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary><c>memscript report</c>: a self-contained page whose charts and diagram are really drawn, checked in headless Chromium.</summary>
public class HtmlReportTests
{
    private static string Report(string example, string? mode = null, string? at = null)
    {
        var output = Path.Combine(Path.GetTempPath(), $"memscript-report-{Guid.NewGuid():N}.html");
        var code = ReportCommand.Execute(new ReportCommand.Settings(Path.Combine(Paths.Examples, example), output, mode, at), TextWriter.Null, TextWriter.Null);
        Assert.That(code, Is.Zero);
        return output;
    }

    private static int Count(string html, string pattern) => Regex.Matches(html, pattern).Count;

    [Test]
    public void The_page_is_self_contained()
    {
        var html = File.ReadAllText(Report("02-three-generations.memscript"));
        Assert.That(html, Does.Not.Contain("http://").And.Not.Contain("https://"), "no network");
        Assert.That(html, Does.Not.Contain("<script").And.Not.Contain("<link").And.Not.Contain("<img"), "nothing loaded from elsewhere");
        Assert.That(html, Does.Contain("@media print"));
    }

    [Test]
    public void It_has_every_part_with_the_right_numbers()
    {
        var html = File.ReadAllText(Report("01-demo-page.memscript"));
        // One bar segment per mode and non-zero cost category (see the text report of this example).
        Assert.That(Count(html, "class=\"bar-segment\""), Is.EqualTo(3 + 5 + 7 + 7));
        // A diagram per mode: 4 + 4 (software's hypervisor walk) + 4 (shadow) + 24 (ept) numbered references.
        Assert.That(Count(html, "class=\"walk-ref "), Is.EqualTo(4 + 4 + 4 + 24));
        Assert.That(Count(html, "<polyline class=\"mark-line\""), Is.EqualTo(2 * 4), "cycles and exits, a line per mode");
        Assert.That(Count(html, "<span class=\"ln\">"), Is.EqualTo(File.ReadAllLines(Path.Combine(Paths.Examples, "01-demo-page.memscript")).Length));
        Assert.That(html, Does.Contain("<strong>software</strong> is the fastest virtualized mode"));
    }

    [Test]
    public void The_same_scenario_gives_the_same_bytes()
    {
        Assert.That(File.ReadAllText(Report("07-mmio.memscript")), Is.EqualTo(File.ReadAllText(Report("07-mmio.memscript"))));
    }

    // ------------------------------------------------------------ in a real browser

    private static string Chromium()
    {
        foreach (var candidate in new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" })
            if (File.Exists(candidate)) return candidate;
        if (Environment.GetEnvironmentVariable("CI") is not null) Assert.Fail("chromium is missing: .ci/run installs Debian's chromium package");
        Assert.Ignore("chromium is not installed (apt-get install chromium)");
        return "";
    }

    internal static (string Stdout, string Stderr) Browse(string html, params string[] args)
    {
        var start = new ProcessStartInfo(Chromium()) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0",
                     "--user-data-dir=" + Directory.CreateTempSubdirectory("memscript-chromium").FullName })
            start.ArgumentList.Add(a);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.ArgumentList.Add("file://" + html);
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("chromium did not finish in 90 s");
        }
        return (stdout.Result, stderr.Result);
    }

    [Test]
    public void Chromium_renders_the_charts_and_the_diagram_without_console_errors()
    {
        var html = Report("01-demo-page.memscript");
        var (dom, log) = Browse(html, "--dump-dom");
        // The DOM Chromium built: every SVG element made it through its parser.
        Assert.That(Count(dom, "<rect class=\"bar-segment\""), Is.EqualTo(22));
        Assert.That(Count(dom, "<g class=\"walk-ref "), Is.EqualTo(36));
        Assert.That(Count(dom, "<svg class=\"diagram\""), Is.EqualTo(4));
        Assert.That(Count(dom, "<polyline class=\"mark-line\""), Is.EqualTo(8));
        Assert.That(log, Does.Not.Contain("CONSOLE").And.Not.Contain("Uncaught").And.Not.Contain("Failed to load"), "no console errors");

        var png = Path.ChangeExtension(html, ".png");
        Browse(html, "--window-size=1280,5200", "--screenshot=" + png);
        var image = Png.Read(png);
        Assert.That(image.Width, Is.EqualTo(1280));
        // The diagram's blue reference boxes (#dbeafe) and the chart's colours are really on screen.
        Assert.That(image.Count(0xdb, 0xea, 0xfe), Is.GreaterThan(36 * 1500), "reference boxes drawn");
        Assert.That(image.Count(0x3b, 0x82, 0xf6), Is.GreaterThan(2000), "hardware page walk bars drawn");
        Assert.That(image.Count(0xef, 0x44, 0x44), Is.GreaterThan(2000), "VM exit bars drawn");
    }

    /// <summary>Just enough of a PNG reader to count pixels of a colour in Chromium's screenshots (8-bit RGB/RGBA).</summary>
    internal sealed record Png(int Width, int Height, int Channels, byte[] Pixels)
    {
        public int Count(byte r, byte g, byte b)
        {
            var n = 0;
            for (var i = 0; i + 2 < Pixels.Length; i += Channels)
                if (Pixels[i] == r && Pixels[i + 1] == g && Pixels[i + 2] == b) n++;
            return n;
        }

        public static Png Read(string path)
        {
            var data = File.ReadAllBytes(path);
            int width = 0, height = 0, channels = 0;
            using var idat = new MemoryStream();
            for (var pos = 8; pos < data.Length;)
            {
                var length = (data[pos] << 24) | (data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3];
                var type = System.Text.Encoding.ASCII.GetString(data, pos + 4, 4);
                if (type == "IHDR")
                {
                    width = (data[pos + 8] << 24) | (data[pos + 9] << 16) | (data[pos + 10] << 8) | data[pos + 11];
                    height = (data[pos + 12] << 24) | (data[pos + 13] << 16) | (data[pos + 14] << 8) | data[pos + 15];
                    channels = data[pos + 17] == 6 ? 4 : 3;
                }
                else if (type == "IDAT") idat.Write(data, pos + 8, length);
                pos += 12 + length;
            }
            idat.Position = 0;
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            using var raw = new MemoryStream();
            z.CopyTo(raw);
            var bytes = raw.ToArray();
            var stride = width * channels;
            var pixels = new byte[stride * height];
            for (var y = 0; y < height; y++)
            {
                var filter = bytes[y * (stride + 1)];
                for (var x = 0; x < stride; x++)
                {
                    int value = bytes[y * (stride + 1) + 1 + x];
                    int a = x >= channels ? pixels[y * stride + x - channels] : 0;
                    int b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
                    int c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
                    value += filter switch
                    {
                        1 => a,
                        2 => b,
                        3 => (a + b) >> 1,
                        4 => Math.Abs(b - c) <= Math.Abs(a - c) && Math.Abs(b - c) <= Math.Abs(a + b - 2 * c) ? a : Math.Abs(a - c) <= Math.Abs(a + b - 2 * c) ? b : c,
                        _ => 0,
                    };
                    pixels[y * stride + x] = (byte)value;
                }
            }
            return new Png(width, height, channels, pixels);
        }
    }
}
