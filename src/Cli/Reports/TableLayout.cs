using Spectre.Console;
using Spectre.Console.Rendering;

namespace MemScript.Cli.Reports;

/// <summary>A table's content before layout: a title, a header per column, rows of cell text.</summary>
public sealed class Grid(string title, IReadOnlyList<string> headers)
{
    public string Title { get; } = title;
    public IReadOnlyList<string> Headers { get; } = headers;
    public List<string[]> Rows { get; } = [];

    public void Add(params string[] cells) => Rows.Add(cells);
}

/// <summary>
/// Writes tables so that no cell is ever wrapped or cut: each table is as wide as its content, and one
/// wider than the width allowed is split into several tables that repeat the first column (the row
/// names), each with some of the other columns. Only a first column and one other column that are
/// together wider than the width are written wider than it: a number is never broken.
/// </summary>
public static class TableLayout
{
    /// <summary>Cells, padding and borders (one character each in the ASCII and rounded borders) of a table of these columns.</summary>
    private static int TableWidth(IReadOnlyList<int> widths, IEnumerable<int> columns)
    {
        var total = widths[0] + 2 + 2; // the first column, its padding, the outer borders
        foreach (var c in columns) total += widths[c] + 2 + 1;
        return total;
    }

    /// <summary>Each column's width in terminal cells (wide characters count two), the header's included.</summary>
    public static int[] ColumnWidths(Grid grid)
    {
        var widths = grid.Headers.Select(h => h.GetCellWidth()).ToArray();
        foreach (var row in grid.Rows)
            for (var c = 0; c < row.Length; c++)
                widths[c] = Math.Max(widths[c], row[c].GetCellWidth());
        return widths;
    }

    /// <summary>
    /// The other columns (1..n-1) in consecutive groups that each fit <paramref name="width"/> beside the
    /// first column: as few groups as possible, of as equal a size as fits.
    /// </summary>
    public static IReadOnlyList<int[]> Groups(IReadOnlyList<int> widths, int? width)
    {
        var others = Enumerable.Range(1, widths.Count - 1).ToArray();
        if (width is not { } max || others.Length == 0 || TableWidth(widths, others) <= max) return [others];
        var greedy = new List<int[]>();
        var current = new List<int>();
        foreach (var c in others)
        {
            if (current.Count > 0 && TableWidth(widths, [.. current, c]) > max)
            {
                greedy.Add([.. current]);
                current.Clear();
            }
            current.Add(c);
        }
        greedy.Add([.. current]);
        // Greedy packing can leave one column alone in the last table; the same number of tables with
        // sizes as equal as possible reads better when it fits.
        var count = greedy.Count;
        var even = new List<int[]>();
        for (int g = 0, start = 0; g < count; g++)
        {
            var size = others.Length / count + (g < others.Length % count ? 1 : 0);
            even.Add(others[start..(start + size)]);
            start += size;
        }
        return even.All(g => g.Length == 1 || TableWidth(widths, g) <= max) ? even : greedy;
    }

    /// <summary>Writes the grid in as many tables as <paramref name="width"/> needs (null: one table as wide as its content).</summary>
    public static void Write(IAnsiConsole console, TableBorder border, Grid grid, int? width, CancellationToken cancel = default)
    {
        var widths = ColumnWidths(grid);
        var groups = Groups(widths, width);
        for (var g = 0; g < groups.Count; g++)
        {
            cancel.ThrowIfCancellationRequested();
            if (g > 0) console.Profile.Out.Writer.Write("\n");
            var title = groups.Count == 1 ? grid.Title : $"{grid.Title} ({g + 1} of {groups.Count})";
            var table = new Table().Border(border).Title(Markup.Escape(title));
            int[] columns = [0, .. groups[g]];
            foreach (var c in columns)
            {
                var column = new TableColumn(Markup.Escape(grid.Headers[c])).NoWrap();
                if (c > 0) column.RightAligned();
                table.AddColumn(column);
            }
            for (var r = 0; r < grid.Rows.Count; r++)
            {
                if ((r & 1023) == 1023) cancel.ThrowIfCancellationRequested();
                var row = grid.Rows[r];
                table.AddRow(columns.Select(c => (IRenderable)new Text(row[c])).ToArray());
            }
            WriteUnwrapped(console, table, Math.Max(TableWidth(widths, groups[g]), title.GetCellWidth()));
        }
    }

    /// <summary>
    /// Writes with the console at least as wide as the table, so that Spectre never wraps or cuts a cell
    /// to fit the terminal; a table is not expanded, so a wider console changes nothing else.
    /// </summary>
    private static void WriteUnwrapped(IAnsiConsole console, Table table, int needed)
    {
        var saved = console.Profile.Width;
        console.Profile.Width = Math.Max(saved, needed);
        try
        {
            console.Write(table);
        }
        finally
        {
            console.Profile.Width = saved;
        }
    }
}
