using System.Collections.Immutable;
using MemScript.Engine.Inspection;
using MemScript.Engine.Memory;
using MemScript.Engine.Translation;

namespace MemScript.Cli.Reports;

/// <summary>
/// Turns an explained <see cref="TranslationPath"/> into the references a walk reads, in walk order:
/// what the hardware reads (the two-dimensional walk in ept, the shadow table in shadow, the guest table
/// natively, nothing in software) and what software reads (KVM's or the software MMU's walk of the guest
/// table). Each list ends at the entry that stopped the walk.
/// </summary>
public static class ReportWalks
{
    public static ImmutableArray<WalkReference> Hardware(TranslationPath path) => path.Mode switch
    {
        MmuMode.Ept => Numbered(TwoDimensional(path)),
        MmuMode.Shadow => Numbered(path.ShadowSteps.Select(s => Ref(RefKind.Shadow, s, 0, path.Gva,
            (s.Entry & Pte.Present) == 0 ? RefState.NotPresent : (s.Entry & Pte.MmioMarker) != 0 ? RefState.Mmio : RefState.Ok))),
        MmuMode.Native => Numbered(GuestEntries(path, RefKind.Guest)),
        _ => [],
    };

    public static ImmutableArray<WalkReference> Software(TranslationPath path) =>
        path.Mode is MmuMode.Shadow or MmuMode.Software ? Numbered(GuestEntries(path, RefKind.Software)) : [];

    private static WalkReference Ref(RefKind kind, WalkStep s, int row, ulong translating, RefState state) =>
        new(0, kind, s.Level, row, translating, s.Table, s.Index, s.Entry, state);

    private static RefState GuestState(ulong entry) => (entry & Pte.Present) != 0 ? RefState.Ok : RefState.NotPresent;

    private static RefState EptState(ulong entry) =>
        (entry & EptEntry.Rwx) == 0 ? RefState.NotPresent : EptEntry.IsMisconfigured(entry) ? RefState.Mmio : RefState.Ok;

    private static IEnumerable<WalkReference> GuestEntries(TranslationPath path, RefKind kind) =>
        path.GuestSteps.Select(s => Ref(kind, s.Entry, 0, path.Gva, GuestState(s.Entry.Entry)));

    /// <summary>For each guest level: its table's EPT translation, then its entry; then the final address's EPT translation.</summary>
    private static IEnumerable<WalkReference> TwoDimensional(TranslationPath path)
    {
        var row = 0;
        foreach (var step in path.GuestSteps)
        {
            if (step.TableTranslation is { } ept)
                foreach (var s in ept.Steps) yield return Ref(RefKind.Ept, s, row, ept.Gpa, EptState(s.Entry));
            if (step.TableTranslation is null or { Result: EptResult.Mapped })
                yield return Ref(RefKind.Guest, step.Entry, row, path.Gva, GuestState(step.Entry.Entry));
            row++;
        }
        if (path.FinalTranslation is { } final)
            foreach (var s in final.Steps) yield return Ref(RefKind.Ept, s, row, final.Gpa, EptState(s.Entry));
    }

    /// <summary>Numbers the references from 1 and ends the list at the first one that stopped the walk.</summary>
    private static ImmutableArray<WalkReference> Numbered(IEnumerable<WalkReference> references)
    {
        var list = ImmutableArray.CreateBuilder<WalkReference>();
        foreach (var r in references)
        {
            list.Add(r with { Number = list.Count + 1 });
            if (r.State != RefState.Ok) break;
        }
        return list.ToImmutable();
    }

    /// <summary>The last reference marked as the one that ended a walk that stopped without a usable translation.</summary>
    public static ImmutableArray<WalkReference> EndedHere(ImmutableArray<WalkReference> references) =>
        references.IsEmpty || references[^1].State != RefState.Ok ? references : references.SetItem(references.Length - 1, references[^1] with { State = RefState.Forbids });

    // ------------------------------------------------------------ words

    /// <summary>"PML4E", "PDPTE", "PDE", "PTE" (and "PML5E").</summary>
    public static string EntryName(int level) => ExplainPrinter.LevelName(level, 5) + "E";

    public static string KindName(RefKind kind) => kind switch
    {
        RefKind.Ept => "EPT",
        RefKind.Guest => "guest",
        RefKind.Shadow => "shadow",
        _ => "guest (software walk)",
    };

    /// <summary>The flags of the raw entry in words (EPT or x86 paging bits).</summary>
    public static string Flags(WalkReference r) => r.Kind == RefKind.Ept
        ? EptEntry.Flags(r.Entry)
        : r.State == RefState.Mmio ? Pte.Flags(r.Entry & ~Pte.MmioMarker) + " MMIO (reserved bit 51)" : Pte.Flags(r.Entry);

    /// <summary>What was being translated and where the entry sits: "EPT PML4E[0] at hpa 0x100000000, for gpa 0x0".</summary>
    public static string Describe(WalkReference r)
    {
        var at = r.Kind is RefKind.Guest or RefKind.Software ? "gpa" : "hpa";
        var of = r.Kind == RefKind.Ept ? $"for gpa {Hex.Format(r.Translating)}" : $"for gva {Hex.Format(r.Translating)}";
        return $"{KindName(r.Kind)} {EntryName(r.Level)}[{r.Index}] at {at} {Hex.Format(r.Table + (ulong)r.Index * 8)}, {of}";
    }

    public static string Raw(ulong entry) => "0x" + entry.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>"PD or PT", "PDPT, PD or PT": the levels below a leaf, from the top.</summary>
    private static string LevelsBelow(int level, int lowest, string prefix)
    {
        var names = Enumerable.Range(lowest, level - lowest).Reverse().Select(l => prefix + ExplainPrinter.LevelName(l, 5)).ToList();
        return names.Count <= 1 ? string.Concat(names) : string.Join(", ", names.Take(names.Count - 1)) + " or " + names[^1];
    }

    /// <summary>
    /// A note for each huge leaf on the path: which levels its walk does not read. A column or row of the
    /// drawing with nothing in it is always explained by one of these.
    /// </summary>
    public static ImmutableArray<string> HugeLeafNotes(ImmutableArray<WalkReference> references)
    {
        // One note per kind and level, in the order the walk meets them; EPT names every region it maps so.
        var notes = new List<string>();
        foreach (var group in references.Where(r => r.IsLeaf && r.Level > 1).GroupBy(r => (r.Kind == RefKind.Software ? RefKind.Guest : r.Kind, r.Level)))
        {
            var (kind, level) = group.Key;
            var size = level == 2 ? "2 MiB" : level == 3 ? "1 GiB" : $"level-{level}";
            var below = LevelsBelow(level, 1, "");
            if (kind == RefKind.Ept)
            {
                var regions = group.Select(r => r.Translating & ~(Pte.Coverage(level) - 1)).Distinct().Select(Hex.Format).ToList();
                notes.Add(regions.Count == 1
                    ? $"EPT maps gpa {regions[0]} with a {size} leaf in its {ExplainPrinter.LevelName(level, 5)}: that translation reads no EPT {below} entry"
                    : $"EPT maps gpa {string.Join(", ", regions.Take(regions.Count - 1))} and {regions[^1]} with {size} leaves in its {ExplainPrinter.LevelName(level, 5)}: "
                      + $"those translations read no EPT {below} entry");
            }
            else if (kind == RefKind.Shadow)
                notes.Add($"the shadow {EntryName(level)} maps a {size} page: the hardware walk reads no shadow {below} entry");
            else
                notes.Add($"the guest's {EntryName(level)} maps a {size} page: the walk reads no guest {below} entry");
        }
        return [.. notes];
    }
}
