using System.Globalization;
using System.Text;
using MemScript.Engine.Memory;
using static MemScript.Cli.Reports.HtmlReport;

namespace MemScript.Cli.Reports;

/// <summary>
/// The memslot map: the picture of <c>kvm_userspace_memory_region</c> (each slot's guest-physical range
/// on the left joined to its host-virtual range in the VMM on the right, with where the guest's page
/// tables and data pages sit inside it, to scale within the slot), then the same as a table.
/// </summary>
public static class HtmlMemslots
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static string F(double v) => v.ToString("0.#", Invariant);

    public static void Section(StringBuilder sb, ReportData data)
    {
        var map = data.Memslots;
        sb.Append("<section id=\"memslots\">\n<h2>The memslot map</h2>\n");
        sb.Append("<p>KVM_SET_USER_MEMORY_REGION gives each slot a guest-physical range and the host-virtual range of the VMM's memory behind it. "
                  + "Inside each slot, to scale, are the guest's page tables (blue) and the data pages its tables map (green) at the end of the run; "
                  + "a guest-physical address in no slot is MMIO.</p>\n");
        if (map.Slots.IsEmpty)
        {
            sb.Append("<p>The scenario declares no slot.</p>\n</section>\n");
            return;
        }
        Picture(sb, map);
        Table(sb, map);
        sb.Append("</section>\n");
    }

    private static void Picture(StringBuilder sb, MemslotMap map)
    {
        const int width = 680, boxWidth = 250, boxHeight = 64, gap = 14, top = 28, rightX = width - boxWidth - 10, leftX = 10;
        var slots = map.Slots;
        var byHva = slots.OrderBy(v => v.Slot.Hva).ToList();
        var rows = slots.Length + (map.Outside.IsEmpty ? 0 : 1);
        var height = top + rows * (boxHeight + gap) + 4;
        sb.Append($"<svg class=\"memslot-map\" id=\"memslot-map\" role=\"img\" aria-label=\"guest-physical slots and their host-virtual ranges\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n");
        sb.Append($"<text class=\"axis\" x=\"{leftX}\" y=\"16\">guest-physical (the VM's RAM)</text>\n");
        sb.Append($"<text class=\"axis\" x=\"{rightX}\" y=\"16\">host-virtual (the VMM process)</text>\n");
        for (var i = 0; i < slots.Length; i++)
        {
            var v = slots[i];
            var y = top + i * (boxHeight + gap);
            var yh = top + byHva.IndexOf(v) * (boxHeight + gap);
            // The band that joins the two views of the slot.
            sb.Append($"<polygon class=\"slot-band\" points=\"{leftX + boxWidth},{y} {rightX},{yh} {rightX},{yh + boxHeight} {leftX + boxWidth},{y + boxHeight}\"/>\n");
            var cls = v.Slot.Readonly ? "slot-box readonly" : "slot-box";
            sb.Append($"<g class=\"slot\" data-slot=\"{v.Slot.Id.ToString(Invariant)}\"><rect class=\"{cls}\" x=\"{leftX}\" y=\"{y}\" width=\"{boxWidth}\" height=\"{boxHeight}\" rx=\"6\"/>");
            sb.Append($"<text x=\"{leftX + 8}\" y=\"{y + 17}\"><tspan font-weight=\"700\">slot {v.Slot.Id.ToString(Invariant)}</tspan> {E(ReportEvents.Bytes(v.Slot.Size))}, {v.Slot.Backing.Text()} backing{Flags(v)}</text>");
            sb.Append($"<text x=\"{leftX + 8}\" y=\"{y + 34}\" class=\"axis\">gpa {Hex.Format(v.Slot.Gpa)}..{Hex.Format(v.Slot.End - 1)}</text>");
            // The slot to scale: where its tables and data pages are.
            var stripY = y + 44;
            var stripWidth = boxWidth - 16.0;
            sb.Append($"<rect x=\"{leftX + 8}\" y=\"{stripY}\" width=\"{F(stripWidth)}\" height=\"12\" fill=\"#fff\" stroke=\"#94a3b8\"/>");
            foreach (var (range, cls2) in v.Data.Select(d => (d, "place-data")).Concat(v.Tables.Select(t => (t, "place-table"))))
            {
                var x = leftX + 8 + stripWidth * (range.Gpa - v.Slot.Gpa) / v.Slot.Size;
                var w = Math.Max(1.5, stripWidth * range.Size / v.Slot.Size);
                sb.Append($"<rect class=\"{cls2}\" x=\"{F(x)}\" y=\"{stripY + (cls2 == "place-table" ? 0 : 6)}\" width=\"{F(w)}\" height=\"6\"><title>{E(ReportEvents.RangeText(range))}</title></rect>");
            }
            sb.Append("</g>\n");
            sb.Append($"<g class=\"hva\"><rect class=\"{cls}\" x=\"{rightX}\" y=\"{yh}\" width=\"{boxWidth}\" height=\"{boxHeight}\" rx=\"6\"/>");
            sb.Append($"<text x=\"{rightX + 8}\" y=\"{yh + 17}\"><tspan font-weight=\"700\">slot {v.Slot.Id.ToString(Invariant)}</tspan> in the VMM</text>");
            sb.Append($"<text x=\"{rightX + 8}\" y=\"{yh + 34}\" class=\"axis\">hva {Hex.Format(v.Slot.Hva)}</text>");
            sb.Append($"<text x=\"{rightX + 8}\" y=\"{yh + 51}\" class=\"axis\">..{Hex.Format(v.Slot.Hva + v.Slot.Size - 1)}</text></g>\n");
        }
        if (!map.Outside.IsEmpty)
        {
            var y = top + slots.Length * (boxHeight + gap);
            sb.Append($"<g class=\"mmio\"><rect class=\"mmio-box\" x=\"{leftX}\" y=\"{y}\" width=\"{boxWidth}\" height=\"{boxHeight}\" rx=\"6\"/>");
            sb.Append($"<text x=\"{leftX + 8}\" y=\"{y + 17}\" font-weight=\"700\">in no slot: MMIO</text>");
            sb.Append($"<text x=\"{leftX + 8}\" y=\"{y + 34}\" class=\"axis\">{map.Outside.Length} range{(map.Outside.Length == 1 ? "" : "s")} the guest maps, from gpa {Hex.Format(map.Outside[0].Gpa)}</text>");
            sb.Append($"<text x=\"{leftX + 8}\" y=\"{y + 51}\" class=\"axis\">no host memory: accesses go to the VMM</text></g>\n");
        }
        sb.Append("</svg>\n");
    }

    private static string Flags(SlotView v)
    {
        var flags = new List<string>();
        if (v.Slot.Readonly) flags.Add("readonly");
        if (v.Slot.DirtyLog) flags.Add("dirty-log");
        if (v.Slot.Prealloc) flags.Add("prealloc");
        return flags.Count == 0 ? "" : ", " + string.Join(", ", flags);
    }

    private static void Table(StringBuilder sb, MemslotMap map)
    {
        sb.Append("<div class=\"scroll\"><table class=\"numbers left memslot-table\">\n<thead><tr><th>slot</th><th>guest-physical</th><th>host-virtual</th><th>backing, flags</th>"
                  + "<th>guest page tables</th><th>data pages</th></tr></thead>\n<tbody>\n");
        foreach (var v in map.Slots)
        {
            var s = v.Slot;
            sb.Append($"<tr><td>{s.Id.ToString(Invariant)}</td><td class=\"mono\">{Hex.Format(s.Gpa)}..{Hex.Format(s.End - 1)}<br>{E(ReportEvents.Bytes(s.Size))}</td>");
            sb.Append($"<td class=\"mono\">{Hex.Format(s.Hva)}..{Hex.Format(s.Hva + s.Size - 1)}</td><td>{s.Backing.Text()}{Flags(v)}</td><td>");
            sb.Append(v.TableCount == 0 ? "none" : $"{N(v.TableCount)}: " + string.Join("; ", v.Tables.Select(t => E(ReportEvents.RangeText(t)))) + (v.TablesLeftOut > 0 ? $"; and {N(v.TablesLeftOut)} more ranges" : ""));
            sb.Append("</td><td>");
            sb.Append(v.DataBytes == 0 ? "none" : $"{E(ReportEvents.Bytes(v.DataBytes))}" + (v.Data.IsEmpty ? "" : ": " + string.Join("; ", v.Data.Select(d => E(ReportEvents.RangeText(d))))) + (v.DataLeftOut > 0 ? $"; and {N(v.DataLeftOut)} more ranges" : ""));
            sb.Append("</td></tr>\n");
        }
        if (!map.Outside.IsEmpty)
            sb.Append($"<tr><td>none</td><td colspan=\"5\">MMIO: {string.Join("; ", map.Outside.Select(d => E(ReportEvents.RangeText(d))))}</td></tr>\n");
        sb.Append("</tbody>\n</table></div>\n");
        if (map.TooScattered) sb.Append("<p class=\"hint\">The data pages are too scattered to list one by one; each slot gives their total.</p>\n");
    }
}
