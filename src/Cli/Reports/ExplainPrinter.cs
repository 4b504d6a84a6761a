using System.Globalization;
using System.Text;
using MemScript.Engine.Inspection;
using MemScript.Engine.Memory;
using MemScript.Engine.Translation;
using MemScript.Language;
using MemScript.Language.Syntax;

namespace MemScript.Cli.Reports;

/// <summary>Prints a <see cref="TranslationPath"/> as the level-by-level text of <c>memscript explain</c>.</summary>
public static class ExplainPrinter
{
    private static string H(ulong v) => Hex.Format(v);

    private static string Entry(ulong v) => "0x" + v.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>The SDM's name of a paging level (the same with 4- and 5-level paging: level 4 is always the PML4).</summary>
    public static string LevelName(int level, int levels) => level switch
    {
        5 => "PML5", 4 => "PML4", 3 => "PDPT", 2 => "PD", _ => "PT",
    };

    /// <summary>
    /// The explanation of <paramref name="path"/>; <paramref name="requested"/> is the <c>--after</c> that
    /// was asked for, said in words when the timeline ended before it.
    /// </summary>
    public static string Print(TranslationPath path, string file, long accessesDone, long? requested = null, bool interrupted = false)
    {
        var sb = new StringBuilder();
        sb.Append($"memscript explain {MemScript.Language.Diagnostics.DiagnosticFormatter.Escape(file)} --at {H(path.Gva)}\n");
        var when = $"after {Accesses(accessesDone)}";
        if (interrupted) when += ", where Ctrl-C stopped the timeline";
        else if (requested is { } asked && asked > accessesDone) when += $", the end of the timeline (--after {asked} asked for more)";
        sb.Append($"mode {Vocabulary.ModeName(path.Mode)}, process {path.Process} (CR3 = gpa {H(path.Cr3)}), {when}; {path.GuestLevels}-level guest paging\n\n");

        var what = path.Mode switch
        {
            MmuMode.Native => "the hardware walks the guest's table",
            MmuMode.Ept => "the hardware walks the guest's table, translating each table's guest-physical address through EPT first",
            MmuMode.Shadow => "KVM's software walk of the guest's table (what it mirrors into the shadow table)",
            _ => "the software MMU's walk of the guest's table, a slot lookup per table",
        };
        sb.Append($"guest walk of {H(path.Gva)} ({what}):\n");
        foreach (var step in path.GuestSteps)
        {
            if (step.TableTranslation is { } ept) PrintEpt(sb, ept, $"EPT walk of the table at gpa {H(ept.Gpa)}", "     ");
            var e = step.Entry;
            if (step.TableTranslation is { Result: not EptResult.Mapped }) continue;
            sb.Append($"  L{e.Level} {LevelName(e.Level, path.GuestLevels) + "[" + e.Index + "]",-10} at gpa {H(e.Table + (ulong)e.Index * 8),-12} = {Entry(e.Entry)}  {Pte.Flags(e.Entry),-14}");
            if ((e.Entry & Pte.Present) != 0)
                sb.Append(e.Level == 1 || (e.Entry & Pte.PageSize) != 0 ? $" -> page gpa {H(e.Entry & Pte.AddressMask)}" : $" -> table gpa {H(e.Entry & Pte.AddressMask)}");
            else
                sb.Append(" (not present: the walk stops here)");
            sb.Append('\n');
        }

        if (path.Gpa is { } gpa)
        {
            sb.Append($"\nguest-physical address {H(gpa)}\n");
            if (path.FinalTranslation is { } final) PrintEpt(sb, final, $"EPT walk of gpa {H(gpa)}", "  ");
            if (path.Slot is { } slot)
            {
                sb.Append($"memslot {slot.Id}: gpa {H(slot.Gpa)}..{H(slot.End - 1)} -> hva {H(slot.Hva)}..{H(slot.Hva + slot.Size - 1)} ({slot.Backing.Text()} backing{(slot.Readonly ? ", readonly" : "")}{(slot.DirtyLog ? ", dirty-log" : "")})\n");
                sb.Append($"host-virtual {H(path.Hva!.Value)}");
                sb.Append(path.Mode == MmuMode.Native ? " (natively the guest-physical address is the physical address)\n"
                    : path.Hpa is { } hpa ? $" -> host-physical {H(hpa)}\n" : " (no host page behind it yet: the host faults one in on first use)\n");
            }
            else
            {
                sb.Append("in no memslot: MMIO\n");
            }
        }

        if (!path.ShadowSteps.IsEmpty)
        {
            sb.Append("\nshadow walk (what the hardware walks; tables in host memory):\n");
            foreach (var s in path.ShadowSteps)
            {
                sb.Append($"  L{s.Level} shadow {LevelName(s.Level, path.GuestLevels) + "[" + s.Index + "]",-10} at hpa {H(s.Table + (ulong)s.Index * 8),-14} = {Entry(s.Entry)}  {Pte.Flags(s.Entry & ~Pte.MmioMarker)}");
                if ((s.Entry & Pte.MmioMarker) != 0 && (s.Entry & Pte.Present) != 0) sb.Append(" MMIO (reserved bit 51)");
                else if ((s.Entry & Pte.Present) != 0)
                    sb.Append(ShadowTables.IsTablePointer(s.Entry, s.Level) ? $" -> shadow table hpa {H(s.Entry & Pte.AddressMask)}" : $" -> page hpa {H(s.Entry & Pte.AddressMask)}");
                sb.Append('\n');
            }
        }

        sb.Append($"\noutcome: {path.Outcome}\n");
        foreach (var note in path.Notes) sb.Append($"note: {note}\n");
        var references = path.Mode == MmuMode.Software ? path.HypervisorReferences : path.MissReferences;
        sb.Append(path.Mode switch
        {
            // No reference (a non-canonical address faults before any walk): no exit or cost per reference to quote.
            _ when references == 0 => $"a TLB miss here makes no walk reference and costs {path.MissCycles} cycles (see the outcome above)\n",
            MmuMode.Software => $"a TLB miss here costs an MMU_TRAP exit and {path.HypervisorReferences} hypervisor references with their slot lookups: {path.MissCycles} cycles\n",
            _ => $"a TLB miss here costs {path.MissReferences} walk reference{(path.MissReferences == 1 ? "" : "s")}: {path.MissCycles} cycles at walk-ref {path.MissCycles / (ulong)path.MissReferences}\n",
        });
        return sb.ToString();
    }

    /// <summary>"1 access", "2 accesses".</summary>
    public static string Accesses(long n) => n == 1 ? "1 access" : $"{n} accesses";

    private static void PrintEpt(StringBuilder sb, EptPath ept, string title, string indent)
    {
        sb.Append($"{indent}{title}:\n");
        foreach (var s in ept.Steps)
        {
            sb.Append($"{indent}  L{s.Level} EPT {LevelName(s.Level, 4) + "[" + s.Index + "]",-10} at hpa {H(s.Table + (ulong)s.Index * 8),-14} = {Entry(s.Entry)}  {EptEntry.Flags(s.Entry)}");
            var leaf = (s.Entry & EptEntry.Rwx) != 0 && !EptEntry.IsMisconfigured(s.Entry) && (s.Level == 1 || (s.Entry & EptEntry.PageSize) != 0);
            if (leaf) sb.Append($" -> hpa {H(ept.Hpa)}");
            sb.Append('\n');
        }
    }
}
