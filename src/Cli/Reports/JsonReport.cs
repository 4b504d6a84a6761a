using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using MemScript.Engine.Accounting;
using MemScript.Engine.Interpreter;
using MemScript.Language;
using MemScript.Language.Syntax;

namespace MemScript.Cli.Reports;

/// <summary><c>--format json</c>: the document shape of LANGUAGE.md, counters named as <c>expect</c> names them.</summary>
public static class JsonReport
{
    public static string Render(ReportContext context)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("file", context.DisplayPath);
            w.WriteStartArray("runs");
            foreach (var run in context.Runs) WriteRun(w, run, context.Source);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()).Replace("\r\n", "\n") + "\n";
    }

    private static void WriteCounters(Utf8JsonWriter w, string name, CounterSet counters)
    {
        w.WriteStartObject(name);
        foreach (var (counter, value) in counters.Named()) w.WriteNumber(counter, value);
        w.WriteEndObject();
    }

    private static void WriteRun(Utf8JsonWriter w, RunResult run, SourceText source)
    {
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
        w.WriteStartArray("expects");
        foreach (var e in run.Expects)
        {
            w.WriteStartObject();
            w.WriteNumber("line", source.GetLineColumn(e.Span.Start).Line);
            w.WriteString("counter", e.Counter);
            if (e.Since is not null) w.WriteString("since", e.Since);
            w.WriteString("op", AstPrinter.CompareText(e.Op));
            w.WriteNumber("expected", e.Expected);
            w.WriteNumber("actual", e.Actual);
            w.WriteBoolean("passed", e.Passed);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (run.Error is { } error)
        {
            w.WriteStartObject("error");
            w.WriteString("code", error.Code);
            w.WriteString("message", error.Message);
            w.WriteNumber("line", source.GetLineColumn(error.Span.Start).Line);
            w.WriteEndObject();
        }
        if (run.Interrupted) w.WriteBoolean("interrupted", true);
        w.WriteEndObject();
    }
}
