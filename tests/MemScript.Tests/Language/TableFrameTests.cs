using System.Text;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using MemScript.Engine.Interpreter;
using MemScript.Language.Checking;

namespace MemScript.Tests.Language;

/// <summary>
/// MS0112 agrees with the engine: a file that check accepts sets up without running out of frames
/// (MS0602), and one it rejects sets up when its slot grows by the amount the message names, and not
/// with one frame less.
/// </summary>
public class TableFrameTests
{
    public sealed record Layout(int SlotPages, int[][] Maps)
    {
        public string Text(ulong extra = 0)
        {
            var sb = new StringBuilder($"slot 0 gpa 0x0 size {(ulong)SlotPages * 4096 + extra} hva 0x7f0000000000\n");
            for (var p = 0; p < Maps.Length; p++)
            {
                sb.Append($"process p{p} {{");
                // Each map: a virtual address from a set that shares some tables and not others, a target page.
                var seen = new HashSet<ulong>();
                foreach (var m in Maps[p])
                {
                    ulong[] gvas = [0x400000, 0x401000, 0x600000, 0x40000000, 0x8000000000, 0x7f0000000000];
                    var gva = gvas[m % gvas.Length];
                    if (!seen.Add(gva)) continue;
                    // Targets inside the slot, so that growing it frees exactly the frames it adds.
                    sb.Append($" map 0x{gva:x} to 0x{(ulong)(m / gvas.Length % SlotPages) * 4096:x} rw");
                }
                sb.Append(" }\n");
            }
            return sb.ToString();
        }

        public override string ToString() => Text();
    }

    public static class Layouts
    {
        public static Arbitrary<Layout> Arbitrary() =>
            (from pages in Gen.Choose(1, 24)
             from processes in Gen.Choose(1, 3)
             from maps in Gen.ArrayOf(Gen.ArrayOf(Gen.Choose(0, 1000), 3), processes)
             select new Layout(pages, maps)).ToArbitrary();
    }

    private static bool SetsUp(string text)
    {
        var check = Checker.CheckText(text);
        if (!check.Success) return false;
        var (result, _) = ScriptInterpreter.RunAndKeep(check.Script!, new RunOptions { Mode = MmuMode.Native }, 0);
        return result.Error is null;
    }

    [FsCheck.NUnit.Property(MaxTest = 300, Arbitrary = [typeof(Layouts)], QuietOnSuccess = true)]
    public bool Check_accepts_exactly_the_layouts_the_engine_can_set_up(Layout layout)
    {
        var check = Checker.CheckText(layout.Text());
        var tooSmall = check.Diagnostics.FirstOrDefault(d => d.Code == "MS0112");
        if (tooSmall is null) return check.Success && SetsUp(layout.Text());
        var m = Regex.Match(tooSmall.Message, @"make a writable slot (\d+) (KiB|MiB) larger");
        var grow = ulong.Parse(m.Groups[1].Value) << (m.Groups[2].Value == "KiB" ? 10 : 20);
        return m.Success && SetsUp(layout.Text(grow)) && Checker.CheckText(layout.Text(grow - 4096)).Diagnostics.Any(d => d.Code == "MS0112");
    }
}
