using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using MemScript.Engine.Accounting;
using MemScript.Engine.Interpreter;
using MemScript.Language;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Cli.Reports;

/// <summary><c>--format json</c>: the document shape of LANGUAGE.md, counters named as <c>expect</c> names them.</summary>
public static class JsonReport
{
    public static string Render(ReportContext context) => Document(w =>
    {
        w.WriteStartObject();
        w.WriteString("file", context.DisplayPath);
        w.WriteStartArray("runs");
        foreach (var run in context.Runs) WriteRun(w, run, context);
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>One indented JSON document as every <c>--format json</c> writes it: user text unescaped but for JSON's needs, LF line ends, a final newline.</summary>
    internal static string Document(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(w);
        return Encoding.UTF8.GetString(stream.ToArray()).Replace("\r\n", "\n") + "\n";
    }

    private static void WriteCounters(Utf8JsonWriter w, string name, CounterSet counters)
    {
        w.WriteStartObject(name);
        foreach (var (counter, value) in counters.Named()) w.WriteNumber(counter, value);
        w.WriteEndObject();
    }

    /// <summary>Where a diagnostic points: the file, then the one-based line and column, as in the text.</summary>
    private static void WritePosition(Utf8JsonWriter w, ReportContext context, TextSpan span, bool withFile)
    {
        var (line, column) = context.Source.GetLineColumn(span.Start);
        if (withFile) w.WriteString("file", context.DisplayPath);
        w.WriteNumber("line", line);
        w.WriteNumber("column", column);
    }

    /// <summary>
    /// Each segment (LANGUAGE.md v2): index, name, counters and the derived figures, rounded to three
    /// decimals (null where a figure has no value; slowdown only when a native run is in the document).
    /// </summary>
    private static void WriteSegments(Utf8JsonWriter w, RunResult run, ReportContext context)
    {
        var native = context.Runs.FirstOrDefault(r => r.Mode == MmuMode.Native) is { } n ? Segments.Of(n) : default(System.Collections.Immutable.ImmutableArray<Segment>?);
        w.WriteStartArray("segments");
        foreach (var segment in Segments.Of(run))
        {
            w.WriteStartObject();
            w.WriteNumber("index", segment.Index);
            w.WriteString("name", segment.Name);
            WriteCounters(w, "counters", segment.Counters);
            WriteFigures(w, segment, native is { } ns && segment.Index < ns.Length ? ns[segment.Index] : null, withSlowdown: native is not null, run.Options.ClockHz);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>
    /// A segment's derived figures, rounded to three decimals (null where one has no value); slowdown
    /// against <paramref name="native"/> only <paramref name="withSlowdown"/>.
    /// </summary>
    internal static void WriteFigures(Utf8JsonWriter w, Segment segment, Segment? native, bool withSlowdown, ulong clockHz)
    {
        Figure(w, "cycles_per_access", segment.CyclesPerAccess);
        Figure(w, "tlb_miss_rate", segment.TlbMissRate);
        Figure(w, "exits_per_1000", segment.ExitsPerThousand);
        if (withSlowdown) Figure(w, "slowdown", native is null ? null : segment.SlowdownAgainst(native));
        Figure(w, "bandwidth_mbs", segment.Bandwidth(clockHz));
    }

    private static void Figure(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v) w.WriteNumber(name, Math.Round(v, 3, MidpointRounding.AwayFromZero));
        else w.WriteNull(name);
    }

    private static void WriteRun(Utf8JsonWriter w, RunResult run, ReportContext context)
    {
        var source = context.Source;
        w.WriteStartObject();
        w.WriteString("mode", Vocabulary.ModeName(run.Mode));
        WriteCounters(w, "counters", run.Counters);
        w.WriteStartArray("marks");
        foreach (var mark in run.Marks)
        {
            w.WriteStartObject();
            w.WriteString("label", mark.Label);
            w.WriteNumber("line", source.GetLineColumn(mark.Span.Start).Line);
            WriteCounters(w, "counters", mark.Counters);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        WriteSegments(w, run, context);
        w.WriteStartArray("expects");
        foreach (var e in run.Expects)
        {
            w.WriteStartObject();
            WritePosition(w, context, e.Span, withFile: false);
            w.WriteString("counter", e.Counter);
            if (e.Since is not null) w.WriteString("since", e.Since);
            w.WriteString("op", AstPrinter.CompareText(e.Op));
            w.WriteNumber("expected", e.Expected);
            w.WriteNumber("actual", e.Actual);
            w.WriteBoolean("passed", e.Passed);
            if (!e.Passed)
            {
                // A failed expectation is a diagnostic: it carries what the text report prints for it.
                var failed = Errors.ExpectFailed(e.Span, ScriptInterpreter.Describe(e, run.Mode));
                w.WriteString("file", context.DisplayPath);
                w.WriteString("code", failed.Code);
                w.WriteString("message", failed.Message);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (run.Error is { } error)
        {
            w.WriteStartObject("error");
            w.WriteString("code", error.Code);
            w.WriteString("message", error.Message);
            WritePosition(w, context, error.Span, withFile: true);
            w.WriteEndObject();
        }
        if (run.Interrupted) w.WriteBoolean("interrupted", true);
        w.WriteEndObject();
    }
}
