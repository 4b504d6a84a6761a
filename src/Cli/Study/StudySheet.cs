using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using MemScript.Cli.Reports;
using MemScript.Engine.Interpreter;
using MemScript.Language.Diagnostics;

namespace MemScript.Cli.Study;

/// <summary>One line of a study's CSV: the line as written and its fields, with the fields that name the row read.</summary>
public sealed record SheetRow(string Line, ImmutableArray<string> Fields, int Combination, ImmutableArray<string> Values, MmuMode Mode, int? Segment, string SegmentName, string Error);

/// <summary>
/// A study's CSV (<c>memscript grid --format csv</c>) read back: the form in which shards are merged
/// and from which the study's chart is drawn. Drawing the chart from the CSV, in a live study as after
/// a merge, is what makes <c>--merge ... --format html</c> the same bytes as the whole study's page.
/// </summary>
public sealed class StudySheet
{
    private StudySheet(string header, ImmutableArray<string> columns, ImmutableArray<string> parameters, ImmutableArray<SheetRow> rows)
    {
        Header = header;
        Columns = columns;
        Parameters = parameters;
        Rows = rows;
    }

    /// <summary>The header line as written.</summary>
    public string Header { get; }

    public ImmutableArray<string> Columns { get; }

    /// <summary>The parameters' names: the columns between the combination and the mode.</summary>
    public ImmutableArray<string> Parameters { get; }

    public ImmutableArray<SheetRow> Rows { get; }

    /// <summary>The index of a column by name; -1 when there is none.</summary>
    public int Column(string name) => Columns.IndexOf(name, 0, StringComparer.Ordinal);

    /// <summary>The sheet of a study this process ran.</summary>
    public static StudySheet Of(StudyResult study) =>
        Parse(StudyCsvReport.Render(study), out var problem) ?? throw new InvalidOperationException("the study's own CSV did not read back: " + problem);

    /// <summary>Reads a study's CSV; null with the first problem (its line number included) when it is not one.</summary>
    public static StudySheet? Parse(string csv, out string? problem)
    {
        problem = null;
        var lines = csv.Split('\n');
        // A file ends with a line break, so the last piece is empty; an empty file has no header.
        if (lines.Length < 2 || lines[^1].Length != 0)
        {
            problem = lines.Length < 2 && lines[0].Length == 0 ? "it is empty" : "it does not end with a line break: is it cut short?";
            return null;
        }
        var header = lines[0];
        var columns = Fields(header);
        var mode = columns?.IndexOf(StudyTable.ModeColumn) ?? -1;
        if (columns is null || columns.Value.Length < 4 || columns.Value[0] != StudyTable.CombinationColumn || mode < 1
            || columns.Value[^1] != StudyTable.ErrorColumn || mode + 2 >= columns.Value.Length
            || columns.Value[mode + 1] != StudyTable.SegmentColumn || columns.Value[mode + 2] != StudyTable.SegmentNameColumn)
        {
            problem = "line 1 is not the header of a study's CSV (memscript grid --format csv)";
            return null;
        }
        var rows = ImmutableArray.CreateBuilder<SheetRow>(lines.Length - 2);
        for (var n = 1; n < lines.Length - 1; n++)
        {
            var fields = Fields(lines[n]);
            string? wrong = null;
            if (fields is not { } f || f.Length != columns.Value.Length) wrong = $"has {(fields?.Length ?? 0).ToString(CultureInfo.InvariantCulture)} fields where the header has {columns.Value.Length.ToString(CultureInfo.InvariantCulture)}";
            else if (!int.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out _)) wrong = "does not start with a combination's index";
            else if (!Vocabulary.TryParseMode(f[mode], out _)) wrong = $"has '{DiagnosticFormatter.Escape(f[mode])}' where the mode should be";
            else if (f[mode + 1].Length > 0 && !int.TryParse(f[mode + 1], NumberStyles.None, CultureInfo.InvariantCulture, out _)) wrong = "has a segment that is not an index";
            if (wrong is not null)
            {
                problem = $"line {(n + 1).ToString(CultureInfo.InvariantCulture)} {wrong}";
                return null;
            }
            var values = fields!.Value;
            Vocabulary.TryParseMode(values[mode], out var m);
            rows.Add(new SheetRow(lines[n], values, int.Parse(values[0], CultureInfo.InvariantCulture), values[1..mode], m,
                values[mode + 1].Length == 0 ? null : int.Parse(values[mode + 1], CultureInfo.InvariantCulture), values[mode + 2], values[^1]));
        }
        return new StudySheet(header, columns.Value, columns.Value[1..mode], rows.MoveToImmutable());
    }

    /// <summary>
    /// The shards of one study (each the CSV of <c>--shard I/N</c>) as the whole study's sheet: their
    /// rows sorted by combination index, each combination's rows in the order its shard wrote them
    /// (mode order, then segment). Every combination of <paramref name="plan"/> must come from exactly
    /// one shard, with the values the plan gives it and a run in each of <paramref name="modes"/>; null
    /// with the problem otherwise, so that a missing or doubled shard cannot pass for the study.
    /// </summary>
    public static StudySheet? Merge(StudyPlan plan, ImmutableArray<MmuMode> modes, IReadOnlyList<(string Name, StudySheet Sheet)> shards, out string? problem)
    {
        problem = null;
        var header = StudyCsvReport.Header(plan);
        // Which of the shards each combination came from (by position: one file given twice is two shards).
        var owner = new int?[plan.Count];
        var rows = new List<SheetRow>();
        for (var s = 0; s < shards.Count; s++)
        {
            var (name, sheet) = shards[s];
            var shown = DiagnosticFormatter.Escape(name);
            if (sheet.Header != header)
            {
                problem = $"{shown} is not a shard of this study: its columns are not those of these --set parameters (its header differs)";
                return null;
            }
            var previous = -1;
            foreach (var row in sheet.Rows)
            {
                var index = row.Combination;
                if (index >= plan.Count)
                {
                    problem = $"{shown} has combination {index.ToString(CultureInfo.InvariantCulture)}, but these --set lists make {plan.Count.ToString(CultureInfo.InvariantCulture)} (0 to {(plan.Count - 1).ToString(CultureInfo.InvariantCulture)})";
                    return null;
                }
                if (index < previous)
                {
                    problem = $"{shown} is not in the order memscript grid writes (combination {index.ToString(CultureInfo.InvariantCulture)} after {previous.ToString(CultureInfo.InvariantCulture)})";
                    return null;
                }
                var expected = plan.Values(index).Select(StudyParameter.Display).ToImmutableArray();
                if (!row.Values.SequenceEqual(expected, StringComparer.Ordinal))
                {
                    problem = $"{shown} has combination {index.ToString(CultureInfo.InvariantCulture)} with {string.Join(' ', row.Values)}, where these --set lists give it {string.Join(' ', expected)}";
                    return null;
                }
                if (owner[index] is { } other && (other != s || index != previous))
                {
                    problem = other == s
                        ? $"{shown} has combination {index.ToString(CultureInfo.InvariantCulture)} twice"
                        : $"combination {index.ToString(CultureInfo.InvariantCulture)} is in {DiagnosticFormatter.Escape(shards[other].Name)} and in {shown}: is a shard given twice?";
                    return null;
                }
                owner[index] = s;
                previous = index;
                rows.Add(row);
            }
        }
        var missing = Enumerable.Range(0, (int)plan.Count).Where(i => owner[i] is null).ToList();
        if (missing.Count > 0)
        {
            problem = $"{Plural(missing.Count, "combination")} of {plan.Count.ToString(CultureInfo.InvariantCulture)} {(missing.Count == 1 ? "is" : "are")} in no shard " +
                      $"({string.Join(", ", missing.Take(8).Select(i => i.ToString(CultureInfo.InvariantCulture)))}{(missing.Count > 8 ? ", ..." : "")}): is a shard missing?";
            return null;
        }
        // A stable sort: a combination's rows all come from one shard, in the order it wrote them.
        var merged = rows.OrderBy(r => r.Combination).ToImmutableArray();
        foreach (var group in merged.GroupBy(r => r.Combination))
        {
            var ran = group.Select(r => r.Mode).Distinct().ToList();
            if (!ran.SequenceEqual(modes))
            {
                problem = $"combination {group.Key.ToString(CultureInfo.InvariantCulture)} ran in {string.Join(", ", ran.Select(Vocabulary.ModeName))}, not in the modes asked for ({string.Join(", ", modes.Select(Vocabulary.ModeName))}): give the merge the shards' --mode";
                return null;
            }
        }
        var columns = Fields(header)!.Value;
        return new StudySheet(header, columns, [.. plan.Parameters.Select(p => p.Name)], merged);
    }

    /// <summary>The sheet as CSV: the header, then every row as it was written.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var row in Rows) sb.Append(row.Line).Append('\n');
        return sb.ToString();
    }

    /// <summary>The fields of a line as <see cref="StudyCsvReport"/> writes them (RFC 4180 quotes, no line break in a field); null when a quote is unbalanced.</summary>
    public static ImmutableArray<string>? Fields(string line)
    {
        var fields = ImmutableArray.CreateBuilder<string>();
        var field = new StringBuilder();
        var i = 0;
        while (true)
        {
            field.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length) return null;
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    field.Append(line[i++]);
                }
                if (i < line.Length && line[i] != ',') return null;
            }
            else
            {
                var end = line.IndexOf(',', i);
                if (end < 0) end = line.Length;
                field.Append(line, i, end - i);
                i = end;
            }
            fields.Add(field.ToString());
            if (i >= line.Length) return fields.ToImmutable();
            i++; // the comma
        }
    }

    private static string Plural(int n, string what) => $"{n.ToString(CultureInfo.InvariantCulture)} {what}{(n == 1 ? "" : "s")}";
}
