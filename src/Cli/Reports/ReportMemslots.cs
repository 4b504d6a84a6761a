using System.Collections.Immutable;
using MemScript.Engine;
using MemScript.Engine.Translation;
using MemScript.Language.Checking;

namespace MemScript.Cli.Reports;

/// <summary>
/// Where the guest's page tables and data pages live among the memslots at the end of a run, read from
/// the machine's guest tables (the same in every mode). Contiguous data pages of a process merge into one
/// range, and each list is cut at <see cref="MaxListed"/> with the rest counted, so that a scenario with
/// millions of pages still gives a small page.
/// </summary>
public static class ReportMemslots
{
    /// <summary>Ranges listed per slot and kind at most.</summary>
    public const int MaxListed = 24;

    /// <summary>Ranges gathered at most before sorting: beyond, the data pages are only counted.</summary>
    private const int MaxRanges = 200_000;

    public static MemslotMap Of(Machine machine, CheckedScript script)
    {
        var slots = script.Slots.OrderBy(s => s.Gpa).ToList();
        var tables = new List<PlacedRange>();
        var data = new List<PlacedRange>();
        var tooScattered = false;
        var dataBytes = new ulong[slots.Count];
        foreach (var process in script.Processes)
        {
            PlacedRange? run = null;
            foreach (var (table, level, entries) in machine.GuestTables(process.Name))
            {
                tables.Add(new PlacedRange(process.Name, level, table, 4096));
                foreach (var entry in entries.Span)
                {
                    if ((entry & Pte.Present) == 0 || !Pte.IsLeaf(entry, level)) continue;
                    var size = Pte.Coverage(level);
                    var gpa = entry & Pte.AddressMask & ~(size - 1);
                    foreach (var (index, start, length) in Split(slots, gpa, size))
                    {
                        if (index >= 0) dataBytes[index] += length;
                        // Pages walked in address order are mostly contiguous in guest-physical memory too.
                        if (run is { } r && r.Gpa + r.Size == start && SlotIndex(slots, r.Gpa) == index)
                        {
                            run = r with { Size = r.Size + length };
                            continue;
                        }
                        if (run is { } done) tooScattered |= !Keep(data, done);
                        run = new PlacedRange(process.Name, 0, start, length);
                    }
                }
            }
            if (run is { } last) tooScattered |= !Keep(data, last);
        }

        var views = ImmutableArray.CreateBuilder<SlotView>();
        for (var i = 0; i < slots.Count; i++)
        {
            var slot = slots[i];
            var inTables = Merge(tables.Where(t => t.Gpa >= slot.Gpa && t.Gpa < slot.End)).ToList();
            var inData = tooScattered ? [] : Merge(data.Where(d => d.Gpa >= slot.Gpa && d.Gpa < slot.End)).ToList();
            views.Add(new SlotView(slot, [.. inTables.Take(MaxListed)], Math.Max(0, inTables.Count - MaxListed),
                tables.Count(t => t.Gpa >= slot.Gpa && t.Gpa < slot.End), [.. inData.Take(MaxListed)], Math.Max(0, inData.Count - MaxListed), dataBytes[i]));
        }
        var outside = tooScattered ? [] : Merge(data.Where(d => SlotIndex(slots, d.Gpa) < 0)).Take(MaxListed).ToImmutableArray();
        return new MemslotMap(views.ToImmutable(), outside, tooScattered);
    }

    private static bool Keep(List<PlacedRange> data, PlacedRange range)
    {
        if (data.Count >= MaxRanges) return false;
        data.Add(range);
        return true;
    }

    /// <summary>Sorted by address, then process; touching ranges of one process and one kind (level) merged.</summary>
    private static IEnumerable<PlacedRange> Merge(IEnumerable<PlacedRange> ranges)
    {
        PlacedRange? current = null;
        foreach (var r in ranges.OrderBy(r => r.Gpa).ThenBy(r => r.Process, StringComparer.Ordinal).ThenBy(r => r.Level))
        {
            if (current is { } c && c.Process == r.Process && c.Level == r.Level && c.Gpa + c.Size == r.Gpa)
            {
                current = c with { Size = c.Size + r.Size };
                continue;
            }
            if (current is not null) yield return current;
            current = r;
        }
        if (current is not null) yield return current;
    }

    private static int SlotIndex(List<SlotInfo> slots, ulong gpa) => slots.FindIndex(s => gpa >= s.Gpa && gpa < s.End);

    /// <summary>A guest-physical range cut at slot boundaries: each part with its slot's index, or -1 outside every slot.</summary>
    private static IEnumerable<(int Index, ulong Start, ulong Length)> Split(List<SlotInfo> slots, ulong start, ulong length)
    {
        var end = start + length; // a leaf never wraps: its address is aligned to its size
        while (start < end)
        {
            var index = SlotIndex(slots, start);
            var stop = index >= 0 ? Math.Min(end, slots[index].End)
                : slots.Where(s => s.Gpa > start).Select(s => s.Gpa).DefaultIfEmpty(end).Min() is var next && next < end ? next : end;
            yield return (index, start, stop - start);
            start = stop;
        }
    }
}
