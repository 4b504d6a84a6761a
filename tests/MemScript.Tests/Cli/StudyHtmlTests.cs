using System.Text.Json;
using System.Text.RegularExpressions;
using MemScript.Cli.Commands;
using MemScript.Cli.Reports;
using MemScript.Tests.Support;

namespace MemScript.Tests.Cli;

/// <summary>
/// <c>memscript grid --format html</c>: the chart's data and scales, the vendored uPlot inside the page,
/// and the page as headless Chromium draws it.
/// </summary>
public class StudyHtmlTests
{
    private static (int Code, string Html, string Err) Html(string[] sets, string? figure = null, string? mode = null, string? study = null)
    {
        var (code, html, error) = GridTests.Grid(new GridCommand.Settings(GridTests.TempStudy(study ?? GridTests.Study), sets, Format: "html", Figure: figure, Mode: mode));
        return (code, html, error);
    }

    /// <summary>The JSON the page's script draws from.</summary>
    private static JsonElement Data(string html)
    {
        var match = Regex.Match(html, "<script type=\"application/json\" id=\"study-data\">(.*?)</script>", RegexOptions.Singleline);
        Assert.That(match.Success, "the page carries its data");
        return JsonDocument.Parse(match.Groups[1].Value).RootElement;
    }

    [TestCase(new double[] { 1, 100 }, false, TestName = "Exactly two orders of magnitude: linear")]
    [TestCase(new double[] { 1, 100.5, 3 }, true, TestName = "More than two orders of magnitude: log")]
    [TestCase(new double[] { 0, 1, 1000 }, false, TestName = "A zero has no place on a log axis: linear")]
    [TestCase(new double[] { 60, 1458 }, false, TestName = "A span of 24: linear")]
    [TestCase(new double[0], false, TestName = "No values: linear")]
    public void The_scale_is_logarithmic_when_values_span_more_than_two_orders_of_magnitude(double[] values, bool log)
    {
        Assert.That(StudyHtmlReport.LogScale(values), Is.EqualTo(log));
    }

    [Test]
    public void The_page_carries_the_vendored_chart_library_and_the_data_it_draws()
    {
        var (code, html, error) = Html(["ws=16K,64K,1M,16M", "page=4K,2M"], mode: "native,software");
        Assert.That(code, Is.Zero, error);
        // The vendored uPlot the report uses too (its hashes are pinned by HtmlReportTests), unchanged.
        var assets = Path.Combine(Paths.RepositoryRoot, "src", "Cli", "Reports", "Assets", "uPlot");
        Assert.That(html, Does.Contain(File.ReadAllText(Path.Combine(assets, "uPlot.iife.min.js")).TrimEnd('\n')), "uPlot, unchanged");
        Assert.That(html, Does.Contain(File.ReadAllText(Path.Combine(assets, "uPlot.min.css")).TrimEnd('\n')));
        Assert.That(html, Does.Contain("The MIT License (MIT)"), "its licence travels with it");
        Assert.That(html, Does.Not.Match("(src|href)=\"").And.Not.Contain("<link").And.Not.Contain("<img"), "nothing loaded from elsewhere");

        var data = Data(html);
        Assert.That(data.GetProperty("figure").GetString(), Is.EqualTo("cycles/access"));
        var x = data.GetProperty("x");
        Assert.That(x.GetProperty("name").GetString(), Is.EqualTo("ws"));
        Assert.That(x.GetProperty("labels").EnumerateArray().Select(l => l.GetString()), Is.EqualTo(new[] { "16K", "64K", "1M", "16M" }));
        Assert.That(x.GetProperty("positions").EnumerateArray().Select(p => p.GetDouble()), Is.EqualTo(new double[] { 16384, 65536, 1 << 20, 16 << 20 }));
        Assert.That(x.GetProperty("log").GetBoolean(), Is.True, "16K to 16M: three orders of magnitude");
        // A chart per segment, the last first; a line per mode and page size.
        var charts = data.GetProperty("charts");
        Assert.That(charts.GetArrayLength(), Is.EqualTo(2));
        var lines = charts[0].GetProperty("lines");
        Assert.That(lines.EnumerateArray().Select(l => l.GetProperty("label").GetString()),
            Is.EqualTo(new[] { "native, page=4K", "software, page=4K", "native, page=2M", "software, page=2M" }));
        // 300 random reads over 16M of 4 KiB pages mostly miss; the software MMU pays an exit each time.
        var native4K = lines[0].GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList();
        var software4K = lines[1].GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList();
        Assert.That(native4K[..3], Is.All.EqualTo(1.0), "within the TLB's reach: every read hits");
        Assert.That(native4K[3], Is.GreaterThan(1.0));
        Assert.That(software4K[3], Is.GreaterThan(100 * native4K[0]));
        Assert.That(charts[0].GetProperty("logY").GetBoolean(), Is.True, "1 to hundreds of cycles per access");
        Assert.That(html, Does.Contain("cycles/access on a log scale"));
        // The numbers are in the page too, for reading without the pointer.
        Assert.That(html, Does.Contain("<th>software, page=4K</th>"));
    }

    [Test]
    public void Lines_are_labelled_by_the_parameters_that_vary_and_a_narrow_span_is_linear()
    {
        var (code, html, error) = Html(["ws=16K,64K", "reads=100"], figure: "tlb.misses", mode: "ept");
        Assert.That(code, Is.Zero, error);
        var data = Data(html);
        Assert.That(data.GetProperty("figure").GetString(), Is.EqualTo("tlb.misses"));
        Assert.That(data.GetProperty("x").GetProperty("log").GetBoolean(), Is.False, "16K to 64K");
        var chart = data.GetProperty("charts")[0];
        Assert.That(chart.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("label").GetString()), Is.EqualTo(new[] { "ept" }), "reads does not vary");
        Assert.That(chart.GetProperty("logY").GetBoolean(), Is.False);
        Assert.That(chart.GetProperty("lines")[0].GetProperty("values").EnumerateArray().Select(v => v.GetDouble()), Is.All.Zero, "the warm reads all hit");
    }

    [Test]
    public void A_value_that_needs_the_file_puts_the_values_in_their_order()
    {
        var (code, html, error) = Html(["reads=ws / 1K,64,ws / 4K"], mode: "native");
        Assert.That(code, Is.Zero, error);
        var x = Data(html).GetProperty("x");
        Assert.That(x.GetProperty("labels").EnumerateArray().Select(l => l.GetString()), Is.EqualTo(new[] { "ws / 1K", "64", "ws / 4K" }));
        Assert.That(x.GetProperty("positions").EnumerateArray().Select(p => p.GetDouble()), Is.EqualTo(new double[] { 0, 1, 2 }));
        Assert.That(html, Does.Contain("reads&#39;s values in the order given"));
    }

    [Test]
    public void A_failed_combination_leaves_a_gap_and_is_listed()
    {
        var (code, html, _) = Html(["page=4K,3K,2M"], mode: "native");
        Assert.That(code, Is.EqualTo(1));
        var data = Data(html);
        Assert.That(data.GetProperty("x").GetProperty("labels").EnumerateArray().Select(l => l.GetString()), Is.EqualTo(new[] { "3K", "4K", "2M" }), "by value");
        var values = data.GetProperty("charts")[0].GetProperty("lines")[0].GetProperty("values");
        Assert.That(values[0].ValueKind, Is.EqualTo(JsonValueKind.Null), "3K did not check: no point");
        Assert.That(values[1].ValueKind, Is.EqualTo(JsonValueKind.Number));
        Assert.That(html, Does.Contain("<li class=\"problem\">combination 1 page=3K (native): ").And.Contain("MS0310"));
    }

    [Test]
    public void An_unknown_figure_is_a_usage_error_with_a_suggestion()
    {
        var file = GridTests.TempStudy();
        var (code, output, error) = GridTests.Grid(new GridCommand.Settings(file, ["ws=16K"], Format: "html", Figure: "cycles/acess"));
        Assert.That((code, output), Is.EqualTo((2, "")));
        Assert.That(error, Does.StartWith("memscript: --figure 'cycles/acess' is not a figure or a counter of a study; did you mean 'cycles/access'?"));
        (code, _, error) = GridTests.Grid(new GridCommand.Settings(file, ["ws=16K"], Format: "csv", Figure: "cycles/access"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--figure chooses what --format html draws"));
    }

    [Test]
    public void Chromium_draws_a_line_per_mode_and_combination_with_a_legend_and_axes()
    {
        var (code, html, error) = Html(["ws=16K,64K,1M,16M", "page=4K,2M"], mode: "software,ept");
        Assert.That(code, Is.Zero, error);
        var path = Path.ChangeExtension(GridTests.TempStudy(), ".html");
        File.WriteAllText(path, html);
        var (dom, log) = HtmlReportTests.Browse(path, "--dump-dom");
        Assert.That(log, Does.Not.Contain("CONSOLE").And.Not.Contain("Uncaught"), "no script error");
        // uPlot built two charts, each with its canvas, axis labels and a legend row per line (and one for x).
        Assert.That(Regex.Matches(dom, "<canvas").Count, Is.EqualTo(2));
        Assert.That(Regex.Matches(dom, "<tr class=\"u-series\"").Count, Is.EqualTo(2 * (1 + 4)));
        Assert.That(dom, Does.Contain("<div class=\"u-label\">software, page=2M</div>"));
        Assert.That(dom, Does.Contain("border: 3px dashed rgb(230, 159, 0)"), "2M's lines are dashed, and so is their legend marker");

        // Hover: the pointer over the last point (ws=16M) shows each line's value there in the legend.
        var hovered = Path.ChangeExtension(path, ".hover.html");
        const string pointer = "<script>var u = window.studyCharts[0]; u.setCursor({ left: u.valToPos(16777216, 'x'), top: 10 });</script>\n</main>";
        File.WriteAllText(hovered, html.Replace("</main>", pointer, StringComparison.Ordinal));
        var (hover, _) = HtmlReportTests.Browse(hovered, "--dump-dom");
        var shown = Regex.Matches(hover, "<td class=\"u-value\">([^<]*)</td>").Select(m => m.Groups[1].Value).Take(5).ToList();
        var software = Data(html).GetProperty("charts")[0].GetProperty("lines")[0].GetProperty("values")[3].GetDouble();
        Assert.That(shown[0], Is.EqualTo("16M"), "x as written");
        Assert.That(shown[1], Is.EqualTo(software.ToString("N3", System.Globalization.CultureInfo.InvariantCulture)), "software, page=4K at 16M");

        var png = Path.ChangeExtension(path, ".png");
        HtmlReportTests.Browse(path, "--window-size=1200,800", "--screenshot=" + png);
        var image = HtmlReportTests.Png.Read(png);
        // The software MMU's orange line and EPT's blue one (the report's mode colours) are on the canvas.
        Assert.That(image.Count(0xe6, 0x9f, 0x00), Is.GreaterThan(150), "software's line");
        Assert.That(image.Count(0x00, 0x72, 0xb2), Is.GreaterThan(150), "ept's line");
    }
}
