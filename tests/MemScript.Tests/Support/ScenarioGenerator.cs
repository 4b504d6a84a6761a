using System.Globalization;
using System.Text;

namespace MemScript.Tests.Support;

/// <summary>
/// Builds a valid random scenario from a list of choices (FsCheck generates the list): slots with
/// mixed backings, readonly and dirty-log slots, processes with map and demand regions of every
/// page size, MMIO mappings, and timelines that mix accesses, switches, INVLPG, TLB flushes and
/// run-time map, unmap and protect; half of them under the classic profile, and each modern feature
/// (SEMANTICS.md 13) sometimes declared with a value of its own, so every combination is reached.
/// Regions sit in separate 4 MiB windows so they never overlap.
/// </summary>
public sealed class ScenarioGenerator(int[] choices)
{
    private int _next;
    private readonly StringBuilder _text = new();
    private readonly List<string> _processes = new();

    private int Pick(int n)
    {
        if (n <= 1) return 0;
        var c = choices.Length == 0 ? 0 : choices[_next++ % choices.Length];
        return (int)((uint)(c ^ (_next * 0x9E3779B1)) % (uint)n);
    }

    private bool Chance(int percent) => Pick(100) < percent;

    private static string H(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    private const ulong WindowBase = 0x40000000, Window = 0x400000;
    private const int StaticWindows = 6, Windows = 10;

    private static readonly string[] Perms = ["r", "rw", "rx", "rwx", "rw kernel", "r kernel"];

    public string Build()
    {
        // Half classic, a quarter modern declared, a quarter the default (modern).
        var profile = Pick(4);
        if (profile < 2) _text.AppendLine("profile classic");
        else if (profile == 2) _text.AppendLine("profile modern");
        foreach (var line in Features()) _text.AppendLine(line);
        var fiveLevel = Chance(15);
        if (fiveLevel) _text.AppendLine("guest paging 5-level");
        if (Chance(15)) _text.AppendLine("host paging 5-level");
        if (Chance(40)) _text.AppendLine("pcid on");
        if (Chance(25)) _text.AppendLine("vpid off");
        if (Chance(30)) _text.AppendLine(new[] { "tlb 16 ways 4", "tlb 8", "tlb 64 ways 8", "tlb 4 ways 2" }[Pick(4)]);
        if (Chance(25)) _text.AppendLine(Chance(80) ? "pwc on " + (1 + Pick(8)) : "pwc off");
        if (Chance(30)) _text.AppendLine("cost shadow-pages " + (8 + Pick(24)));

        // Slot 0 holds the guest's page tables; slots 1 and 2 vary.
        _text.AppendLine($"slot 0 gpa 0x0 size 32M hva 0x7f0000000000{(Chance(30) ? " backing 2M" : "")}");
        _text.AppendLine($"slot 1 gpa 0x4000000 size 16M hva 0x7f0004000000{(Chance(50) ? " backing 2M" : "")}{(Chance(40) ? " readonly" : "")}{(Chance(20) ? " prealloc" : "")}");
        if (Chance(60)) _text.AppendLine($"slot 2 gpa 0x8000000 size 8M hva 0x7f1000000000{(Chance(50) ? " backing 2M" : "")} dirty-log{(Chance(20) ? " prealloc" : "")}");

        var processCount = 1 + Pick(3);
        for (var p = 0; p < processCount; p++)
        {
            var name = "p" + p;
            _processes.Add(name);
            _text.Append("process ").Append(name).AppendLine(" {");
            if (Chance(20)) _text.AppendLine("  demand all rwx");
            for (var w = 0; w < StaticWindows; w++)
            {
                if (!Chance(60)) continue;
                _text.Append("  ").AppendLine(Region(WindowBase + (ulong)w * Window));
            }
            _text.AppendLine("}");
        }

        _text.Append("run p0 {\n");
        var steps = 10 + Pick(50);
        for (var i = 0; i < steps; i++) _text.Append("  ").AppendLine(Step());
        _text.AppendLine("}");
        return _text.ToString();
    }

    /// <summary>The modern profile's declarations (SEMANTICS.md 13), each sometimes, with either value.</summary>
    public IEnumerable<string> Features()
    {
        if (Chance(15)) yield return new[] { "tlb1g off", "tlb1g 4 ways 2", "tlb1g 16 ways 4" }[Pick(3)];
        if (Chance(15)) yield return Chance(50) ? "shadow unsync on" : "shadow unsync off";
        if (Chance(15)) yield return "shadow prefetch " + new[] { 0, 2, 8, 512 }[Pick(4)];
        if (Chance(15)) yield return "shadow flood " + new[] { 0, 1, 2, 3, 5 }[Pick(5)];
        if (Chance(15)) yield return Chance(50) ? "eptad on" : "eptad off";
        if (Chance(15)) yield return new[] { "dirty-track pml", "dirty-track wp", "dirty-track free" }[Pick(3)];
    }

    private string Target(ulong pageBytes)
    {
        // Mostly the middle of slot 0 (above the page tables), sometimes slots 1 and 2, sometimes MMIO.
        var choice = Pick(10);
        ulong area = choice switch
        {
            < 5 => 0x1000000 + (ulong)Pick(8) * 0x200000,
            < 7 => 0x4000000 + (ulong)Pick(6) * 0x200000,
            < 9 => 0x8000000 + (ulong)Pick(3) * 0x200000,
            _ => 0xfee00000,
        };
        return H(area & ~(pageBytes - 1));
    }

    private string Region(ulong window)
    {
        var perms = Perms[Pick(Perms.Length)];
        var huge = Chance(30);
        var page = huge ? "2M" : "4K";
        var pageBytes = huge ? 0x200000UL : 0x1000UL;
        var pages = huge ? 1 : 1 + Pick(16);
        var size = H(pageBytes * (ulong)pages);
        return Chance(50)
            ? $"map {H(window)} size {size}{(huge ? " page 2M" : "")} to {Target(pageBytes)} {perms}"
            : $"demand {H(window)} size {size}{(huge ? " page 2M" : "")} {perms}";
    }

    private string Address()
    {
        var roll = Pick(20);
        if (roll == 0) return H(0x0000900000000000);                      // non-canonical with 4 levels
        if (roll == 1) return H(0x7000000 + (ulong)Pick(64) * 8);         // never mapped
        var window = WindowBase + (ulong)Pick(Windows) * Window;
        return H(window + (ulong)Pick(20) * 0x1000 + (ulong)Pick(512) * 8);
    }

    // Strides that put many accesses on one page (counted together after a hit), one, or straddle pages.
    private static readonly string[] Strides = ["0x1000", "8", "0x300", "0x1800", "0x40"];

    private string Step()
    {
        var roll = Pick(100);
        var kernel = Chance(10) ? " as kernel" : "";
        return roll switch
        {
            < 45 => $"read {Address()}{kernel}",
            < 65 => $"write {Address()}{kernel}",
            < 70 => $"exec {Address()}{kernel}",
            < 73 => $"sweep {(Chance(50) ? "read" : "write")} {Address()} size {H(0x1000UL * (ulong)(1 + Pick(8)))} stride {Strides[Pick(Strides.Length)]}{(Chance(20) ? " times 2" : "")}",
            < 76 => $"random write {1 + Pick(20)} in {H(WindowBase + (ulong)Pick(Windows) * Window)} size 0x10000 seed {Pick(1000)}",
            < 81 => $"switch {_processes[Pick(_processes.Count)]}",
            < 84 => $"invlpg {Address()}",
            < 85 => "flush tlb",
            < 86 => "collect dirty",
            < 90 => RunTimeMap(),
            < 91 => Repeat(),
            < 95 => $"unmap {H(WindowBase + (ulong)Pick(Windows) * Window)} size {ChangeSize()}",
            _ => $"protect {H(WindowBase + (ulong)Pick(Windows) * Window)} size {ChangeSize()} {Perms[Pick(Perms.Length)]}",
        };
    }

    // A repeat of one access: affine addresses (counted like a sweep), one that wraps or leaves the
    // window, and one that is not affine, so the bulk path is compared with the access-by-access one.
    private string Repeat()
    {
        var window = H(WindowBase + (ulong)Pick(Windows) * Window);
        var count = 1 + Pick(3000);
        return Pick(5) switch
        {
            0 => $"repeat {count} as i {{ read {window} + i * {new[] { 8, 64, 0x1000, 0x1008, 0 }[Pick(5)]} }}",
            1 => $"repeat {count} as i {{ write {window} + (i << 3) + 0x10 }}",
            2 => $"repeat {count} as i {{ read (i + 2) * 0x40 + {window} - 0x80 }}",
            3 => $"repeat {count} as i {{ read {window} + (i * 72) % 0x4000 }}",
            _ => $"repeat {count} as i {{ read 0xfffffffffffff000 + i * 0x800 }}",
        };
    }

    // Whole huge pages or a run of 4 KiB pages, up to past the flush ceiling of 33.
    private string ChangeSize() => Chance(25) ? "0x200000" : H(0x1000UL * (ulong)(1 + Pick(40)));

    // Run-time mappings go to windows no process declared, and each window only once per scenario.
    private readonly HashSet<(int, int)> _usedRuntime = new();

    private string RunTimeMap()
    {
        var w = StaticWindows + Pick(Windows - StaticWindows);
        var key = (w, Pick(4));
        if (!_usedRuntime.Add(key)) return "flush tlb";
        var gva = WindowBase + (ulong)w * Window + (ulong)key.Item2 * 0x100000;
        var region = Chance(50) ? $"map {H(gva)} size {H(0x1000UL * (ulong)(1 + Pick(8)))} to {Target(0x1000)} {Perms[Pick(Perms.Length)]}"
                                : $"demand {H(gva)} size {H(0x1000UL * (ulong)(1 + Pick(8)))} {Perms[Pick(Perms.Length)]}";
        return region;
    }
}
