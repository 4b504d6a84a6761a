using System.Collections.Immutable;
using MemScript.Engine.Memory;
using MemScript.Engine.Translation;
using MemScript.Language;
using MemScript.Language.Checking;
using MemScript.Language.Syntax;

namespace MemScript.Engine;

// Read-only inspection of the machine's tables for `memscript explain` and the HTML report. Nothing
// here changes state or counters: it reads the same tables the walks read.
public sealed partial class Machine
{
    /// <summary>Explains the translation of <paramref name="gva"/> in <paramref name="processName"/> as the tables stand now.</summary>
    public Inspection.TranslationPath Explain(string processName, ulong gva)
    {
        var process = _processes[processName];
        var costs = _options.Costs;
        var guestSteps = ImmutableArray.CreateBuilder<Inspection.GuestStep>();
        var shadowSteps = ImmutableArray.CreateBuilder<Inspection.WalkStep>();
        ulong? gpa = null;
        string outcome;
        var refs = 0;
        var hvRefs = 0;
        var leafLevel = 1;
        var perms = PathPermissions.All;

        if (!IsCanonical(gva))
            return new Inspection.TranslationPath(process.Name, _mode, gva, process.Root, _levels, [], null, null, [], null, null, null, 0, 0, 0,
                $"{Hex.Format(gva)} is not canonical with {VirtualBits}-bit addresses: the access faults (#GP) before any walk, and the guest kills the process");

        // The guest walk (hardware's in native and ept, KVM's or the software MMU's otherwise).
        var table = process.Root;
        outcome = "";
        for (var level = _levels; ; level--)
        {
            Inspection.EptPath? tableEpt = null;
            if (_ept is not null)
            {
                tableEpt = EptPath(table);
                refs += tableEpt.Steps.Length;
                if (tableEpt.Result != EptResult.Mapped)
                {
                    guestSteps.Add(new Inspection.GuestStep(new Inspection.WalkStep(level, table, Pte.Index(gva, level), 0), tableEpt));
                    outcome = $"the walk stops translating the guest's level-{level} table at gpa {Hex.Format(table)}: its EPT entry is not present, "
                              + "so the hardware exits with EPT_VIOLATION (48); KVM faults in the host page, maps it and the walk restarts";
                    break;
                }
            }
            var index = Pte.Index(gva, level);
            var entry = ReadGuestEntry(table, index);
            refs++;
            hvRefs++;
            guestSteps.Add(new Inspection.GuestStep(new Inspection.WalkStep(level, table, index, entry), tableEpt));
            if ((entry & Pte.Present) == 0)
            {
                var vma = FaultVma(process, gva);
                outcome = $"the guest's level-{level} entry is not present: a guest page fault (#PF)"
                          + (vma is { Kind: VmaKind.Demand } ? $"; {Hex.Format(gva)} is in a demand region, so the guest kernel allocates the page and the access retries"
                                                             : "; no region covers it, so the guest kernel sends SIGSEGV");
                if (_mode == MmuMode.Shadow) outcome += " (under shadow paging KVM finds this in its software walk after an EXCEPTION_NMI exit and injects the #PF)";
                if (_mode == MmuMode.Software) outcome += " (the software MMU finds this after an MMU_TRAP and injects the #PF)";
                break;
            }
            perms.Apply(entry);
            if (Pte.IsLeaf(entry, level))
            {
                leafLevel = level;
                gpa = Pte.LeafAddress(entry, level, gva);
                break;
            }
            table = entry & Pte.AddressMask;
        }

        Inspection.EptPath? final = null;
        SlotInfo? slot = null;
        ulong? hva = null, hpa = null;
        if (gpa is { } g)
        {
            slot = FindSlot(g);
            if (slot is not null)
            {
                hva = slot.Hva + (g - slot.Gpa);
                if (_mode != MmuMode.Native && _host.TryGet(hva.Value, slot.Backing, out var page))
                    hpa = page + (hva.Value & (slot.Backing.Bytes() - 1));
            }
            var rights = $"{(perms.Writable ? "writable" : "read-only")}, {(perms.User ? "user" : "kernel-only")}, {(perms.Executable ? "executable" : "not executable")}";
            if (_ept is not null)
            {
                final = EptPath(g);
                refs += final.Steps.Length;
                outcome = final.Result switch
                {
                    EptResult.NotPresent when slot is null => $"gpa {Hex.Format(g)} is in no memslot and has no EPT entry yet: EPT_VIOLATION (48), then KVM installs an MMIO entry and the access goes to the VMM (KVM_EXIT_MMIO)",
                    EptResult.NotPresent => $"the final EPT entry for gpa {Hex.Format(g)} is not present: EPT_VIOLATION (48); KVM faults in the host page and maps it ({Machine.HostMapSize(slot!, g).Text()}), then the walk restarts",
                    EptResult.Misconfig => $"gpa {Hex.Format(g)} reaches KVM's MMIO entry: EPT_MISCONFIG (49), and the access goes to the VMM (KVM_EXIT_MMIO)",
                    _ => $"translated: a {SizeOfLevel(Math.Min(leafLevel, LevelOfEpt(final))).Text()} TLB entry ({rights}{(slot?.Readonly == true ? ", writes go to the VMM: readonly slot" : "")})",
                };
            }
            else if (slot is null)
            {
                outcome = $"gpa {Hex.Format(g)} is in no memslot: MMIO, handed to the VMM" + (_mode == MmuMode.Native ? " (natively: the device)" : " (KVM_EXIT_MMIO)");
            }
            else
            {
                var size = _mode == MmuMode.Native ? SizeOfLevel(leafLevel) : Min(SizeOfLevel(leafLevel), HostMapSize(slot, g));
                outcome = $"translated: a {size.Text()} TLB entry ({rights}{(slot.Readonly ? ", writes go to the VMM: readonly slot" : "")})";
            }
        }

        if (_shadow is not null)
        {
            var page = _shadow.Find(new ShadowKey(process.Root, _levels, false, 0));
            refs = 0;
            if (page is null)
            {
                refs = 1;
                outcome += "; KVM has no shadow root for this CR3 yet: the next CR3 load creates it";
            }
            for (var level = _levels; page is not null; level--)
            {
                var index = Pte.Index(gva, level);
                var entry = page.Entries[index];
                shadowSteps.Add(new Inspection.WalkStep(level, page.Hpa, index, entry));
                refs++;
                if ((entry & Pte.Present) == 0)
                {
                    outcome += $"; the shadow walk stops at a non-present level-{level} shadow entry: a #PF that exits as EXCEPTION_NMI (0), and KVM walks the guest table to fill the shadow entry";
                    break;
                }
                if ((entry & Pte.MmioMarker) != 0)
                {
                    outcome += "; the shadow walk reaches KVM's MMIO entry (reserved bit): EXCEPTION_NMI (0), then KVM_EXIT_MMIO";
                    break;
                }
                if (!ShadowTables.IsTablePointer(entry, level)) break;
                page = _shadow.ByHpa(entry & Pte.AddressMask);
            }
        }

        var cycles = _mode switch
        {
            MmuMode.Software => costs.VmExit + (ulong)hvRefs * costs.HvRef + (ulong)(hvRefs + (gpa is null ? 0 : 1)) * costs.SlotLookup,
            _ => (ulong)refs * costs.WalkRef,
        };
        if (_mode == MmuMode.Software) refs = 0;
        return new Inspection.TranslationPath(process.Name, _mode, gva, process.Root, _levels, guestSteps.ToImmutable(), gpa, final,
            shadowSteps.ToImmutable(), slot, hva, _mode == MmuMode.Native ? null : hpa, refs, _mode is MmuMode.Software or MmuMode.Shadow ? hvRefs : 0, cycles, outcome);
    }

    private static int LevelOfEpt(Inspection.EptPath path) => path.Steps.Length == 0 ? 1 : path.Steps[^1].Level;

    private Inspection.EptPath EptPath(ulong gpa)
    {
        var steps = _ept!.Path(gpa).Select(s => new Inspection.WalkStep(s.Level, s.Table, s.Index, s.Entry)).ToImmutableArray();
        var last = steps[^1].Entry;
        var result = (last & EptEntry.Rwx) == 0 ? EptResult.NotPresent : EptEntry.IsMisconfigured(last) ? EptResult.Misconfig : EptResult.Mapped;
        var hpa = result == EptResult.Mapped ? EptEntry.LeafAddress(last, steps[^1].Level, gpa) : 0;
        return new Inspection.EptPath(gpa, steps, result, hpa);
    }
}
