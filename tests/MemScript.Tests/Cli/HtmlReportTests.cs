using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using MemScript.Cli.Commands;
using MemScript.Cli.Reports;
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
        Assert.That(html, Does.Not.Match("(src|href)=\"?(https?:)?//"), "nothing loaded from the network");
        Assert.That(html, Does.Not.Contain("<script src").And.Not.Contain("<link").And.Not.Contain("<img"), "nothing loaded from elsewhere");
        Assert.That(Count(html, "<script"), Is.EqualTo(3), "uPlot, the data and the chart script, all inline");
        Assert.That(html, Does.Contain("uPlot 1.6.32").And.Contain("The MIT License"), "the vendored library carries its notice");
        Assert.That(html, Does.Contain("@media print").And.Contain("name=\"viewport\""));
    }

    [Test]
    public void The_vendored_chart_library_is_the_published_one()
    {
        // Assets/uPlot/README.md pins these: an edit by accident shows here.
        var folder = Path.Combine(Paths.RepositoryRoot, "src", "Cli", "Reports", "Assets", "uPlot");
        Assert.That(Sha256(Path.Combine(folder, "uPlot.iife.min.js")), Is.EqualTo("19c8d4c6ad88929a79f4ae49d6f7161566dfd0ba3d15cc495e974f787eb78f1f"));
        Assert.That(Sha256(Path.Combine(folder, "uPlot.min.css")), Is.EqualTo("df630c6a8d6f8eeaff264b50f73ce5b114f646ffd9a0bb74f049b0a00135fa04"));
    }

    private static string Sha256(string file) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));

    [Test]
    public void It_has_every_part_with_the_right_numbers()
    {
        var html = File.ReadAllText(Report("01-demo-page.memscript"));
        foreach (var (id, _) in HtmlReport.Sections) Assert.That(html, Does.Contain($"<section id=\"{id}\">"), id);
        // One bar segment per mode and non-zero cost category (see the text report of this example).
        Assert.That(Count(html, "class=\"bar-segment\""), Is.EqualTo(3 + 5 + 7 + 7));
        // A path drawing per mode: 4 (native) + 4 (software's hypervisor walk) + 4 + 4 (shadow, and KVM's walk
        // beside it) + 24 (ept) numbered references, each also printed with its raw entry and flags.
        Assert.That(Count(html, "<g class=\"walk-ref "), Is.EqualTo(4 + 4 + 8 + 24));
        Assert.That(Count(html, "<tr><td>s?[0-9]+</td><td>(EPT|guest|shadow)"), Is.EqualTo(40));
        Assert.That(Count(html, "<div class=\"plot timeline\""), Is.EqualTo(4), "a timeline per mode");
        Assert.That(Count(html, "<span class=\"ln\">"), Is.EqualTo(File.ReadAllLines(Path.Combine(Paths.Examples, "01-demo-page.memscript")).Length));
        Assert.That(html, Does.Contain("is the fastest virtualized mode"));
    }

    [Test]
    public void The_shadow_path_is_drawn_GVA_to_HPA_with_KVMs_walk_beside_it()
    {
        var html = File.ReadAllText(Report("00-spec-w1.memscript", "shadow"));
        var path = Regex.Match(html, "<div class=\"path\" id=\"path-shadow\">(.*?)\n</div>\n</section>", RegexOptions.Singleline).Groups[1].Value;
        var chains = Regex.Matches(path, "<div class=\"chain( side)?\">(.*?)</div>").Select(m => (Side: m.Groups[1].Success, Boxes: Regex.Matches(m.Groups[2].Value, "<b>([A-Za-z ]+)</b>").Select(b => b.Groups[1].Value).ToList())).ToList();
        Assert.That(chains[0], Is.EqualTo((false, new List<string> { "GVA", "HPA" })), "the hardware walk never sees a GPA or an HVA");
        Assert.That(chains[1].Side, "KVM's software walk is the side path");
        Assert.That(chains[1].Boxes, Is.EqualTo(new List<string> { "GVA", "GPA", "memslot", "HVA", "HPA" }));
    }

    [Test]
    public void A_huge_leaf_has_a_note_saying_which_levels_it_skips()
    {
        var html = File.ReadAllText(Report("05-pages-2m.memscript", "ept"));
        Assert.That(html, Does.Contain("EPT maps gpa 0x0 and 0x200000 with 2 MiB leaves in its PD: those translations read no EPT PT entry."));
        Assert.That(html, Does.Contain("the guest&#39;s PDE maps a 2 MiB page: the walk reads no guest PT entry."));
        Assert.That(html, Does.Not.Contain("EPT<tspan x=\"[0-9]+\" dy=\"14\">PT</tspan>"), "no empty EPT PT column");
    }

    [Test]
    public void Mode_colours_are_not_category_colours()
    {
        var html = File.ReadAllText(Report("01-demo-page.memscript"));
        var categories = Regex.Matches(html, "class=\"bar-segment\"[^>]* fill=\"(#[0-9A-Fa-f]{6})\"").Select(m => m.Groups[1].Value.ToUpperInvariant()).ToHashSet();
        var modes = Vocabulary.AllModes.Select(m => HtmlReport.ModeColor(m).ToUpperInvariant()).ToList();
        Assert.That(categories, Is.Not.Empty);
        Assert.That(modes, Is.Unique);
        Assert.That(modes.Intersect(categories), Is.Empty);
        // Okabe and Ito's colour-blind safe set.
        Assert.That(modes, Is.SubsetOf(new[] { "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7" }));
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
    public void Chromium_renders_every_section_and_chart_without_console_errors()
    {
        var html = Report("02-three-generations.memscript");
        var (dom, log) = Browse(html, "--dump-dom");
        // The DOM Chromium built: every section and SVG element made it through its parser, and the chart
        // script drew a canvas in every timeline and in the segment chart.
        foreach (var (id, _) in HtmlReport.Sections) Assert.That(dom, Does.Contain($"<section id=\"{id}\">"), id);
        Assert.That(Count(dom, "<rect class=\"bar-segment\""), Is.EqualTo(Count(File.ReadAllText(html), "<rect class=\"bar-segment\"")));
        Assert.That(Count(dom, "<svg class=\"diagram\""), Is.EqualTo(4));
        Assert.That(Count(dom, "<canvas"), Is.EqualTo(4 + 1), "four timelines and the segment chart");
        Assert.That(Count(dom, "class=\"uplot"), Is.EqualTo(5));
        Assert.That(log, Does.Not.Contain("CONSOLE").And.Not.Contain("Uncaught").And.Not.Contain("Failed to load"), "no console errors");

        // At 1280 px and at 700 px: the whole page in one tall window, its drawings really on screen, and
        // nothing past the page's right margin (a table or drawing too wide would stick out there).
        foreach (var width in new[] { 1280, 700 })
        {
            var png = Path.ChangeExtension(html, $".{width}.png");
            Browse(html, $"--window-size={width},16000", "--hide-scrollbars", "--screenshot=" + png);
            var image = Png.Read(png);
            Assert.That((image.Width, image.Height), Is.EqualTo((width, 16000)));
            Assert.That(image.Count(0xdb, 0xea, 0xfe), Is.GreaterThan(24 * 1000), $"EPT reference boxes drawn at {width} px");
            Assert.That(image.Count(0xCC, 0x66, 0x77), Is.GreaterThan(1000), $"VM exit bars drawn at {width} px");
            Assert.That(image.Count(0x00, 0x72, 0xB2), Is.GreaterThan(100), $"the ept line drawn at {width} px");
            Assert.That(image.CountInColumn(width - 3, 0xf8, 0xfa, 0xfc), Is.EqualTo(image.Height), $"nothing wider than the page at {width} px");
        }
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

        public int CountInColumn(int x, byte r, byte g, byte b)
        {
            var n = 0;
            for (var y = 0; y < Height; y++)
            {
                var i = (y * Width + x) * Channels;
                if (Pixels[i] == r && Pixels[i + 1] == g && Pixels[i + 2] == b) n++;
            }
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
