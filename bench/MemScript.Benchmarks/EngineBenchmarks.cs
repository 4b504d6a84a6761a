using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using MemScript.Engine;
using MemScript.Engine.Interpreter;
using MemScript.Language.Checking;
using MemScript.Language.Syntax;

namespace MemScript.Benchmarks;

/// <summary>
/// The engine's pieces in isolation: a TLB hit, a warm walk replayed from the walk memo and the same
/// walk done in full, a demand fault, the interpreter loop, the trace reader.
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private const int Hits = 8192;
    private const int Walks = 4096;
    private const int Loop = 100_000;
    private Machine _hitMachine = null!;
    private Machine _walkMachine = null!;
    private Machine _fullWalkMachine = null!;
    private ulong[] _walkAddresses = null!;
    private CheckedScript _loopScript = null!;
    private CheckedScript _demandScript = null!;
    private string _trace = null!;

    [Params(MmuMode.Native, MmuMode.Ept)]
    public MmuMode Mode { get; set; }

    private static CheckedScript Check(string text) => Checker.CheckText(text).Script ?? throw new InvalidOperationException("benchmark scenario does not check");

    private static Machine Warm(string text, MmuMode mode, bool memo = true) =>
        ScriptInterpreter.RunAndKeep(Check(text), new RunOptions { Mode = mode, Accelerate = memo }).Machine;

    [GlobalSetup]
    public void Setup()
    {
        _hitMachine = Warm("slot 0 gpa 0x0 size 16M hva 0x7f0000000000\nprocess p { map 0x40000000 size 64K to 0x100000 rw }\nrun p { sweep read 0x40000000 size 64K stride 4K }", Mode);
        const string walked = "slot 0 gpa 0x0 size 256M hva 0x7f0000000000\nprocess p { map 0x40000000 size 64M to 0x1000000 r }\nrun p { sweep read 0x40000000 size 64M stride 4K }";
        _walkMachine = Warm(walked, Mode);
        _fullWalkMachine = Warm(walked, Mode, memo: false);
        var rng = new SplitMix64(7);
        _walkAddresses = Enumerable.Range(0, Walks).Select(_ => 0x40000000 + rng.Next() % (64UL << 20 >> 3) * 8).ToArray();
        _loopScript = Check($"slot 0 gpa 0x0 size 16M hva 0x7f0000000000\nlet base = 0x40000000\nlet size = 64K\nprocess p {{ map base size size to 0x100000 rw }}\nrun p {{ repeat {Loop} as i {{ read base + (i * 64) % size }} }}");
        _demandScript = Check("slot 0 gpa 0x0 size 128M hva 0x7f0000000000\nprocess p { demand 0x40000000 size 16M rw }\nrun p { sweep write 0x40000000 size 16M stride 4K }");
        _trace = Path.Combine(FindRoot(), "examples", "traces", "sum.lackey");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MemScript.sln"))) return dir.FullName;
        throw new InvalidOperationException("MemScript.sln not found");
    }

    [Benchmark(OperationsPerInvoke = Hits, Description = "TLB hit")]
    public void TlbHit()
    {
        var m = _hitMachine;
        for (var a = 0x40000000UL; a < 0x40000000UL + Hits * 8; a += 8) m.Access(a, AccessKind.Read);
    }

    [Benchmark(OperationsPerInvoke = Walks, Description = "TLB miss, warm walk (replayed from the memo)")]
    public void WarmWalk()
    {
        var m = _walkMachine;
        m.FlushTlb();
        foreach (var a in _walkAddresses) m.Access(a, AccessKind.Read);
    }

    [Benchmark(OperationsPerInvoke = Walks, Description = "TLB miss, warm walk (memo off: the full walk)")]
    public void FullWalk()
    {
        var m = _fullWalkMachine;
        m.FlushTlb();
        foreach (var a in _walkAddresses) m.Access(a, AccessKind.Read);
    }

    [Benchmark(OperationsPerInvoke = 4096, Description = "demand fault (16 MiB, fresh machine)")]
    public RunResult DemandFault() => ScriptInterpreter.Run(_demandScript, new RunOptions { Mode = Mode });

    [Benchmark(OperationsPerInvoke = Loop, Description = "interpreter loop iteration")]
    public RunResult InterpreterLoop() => ScriptInterpreter.Run(_loopScript, new RunOptions { Mode = Mode });

    private readonly ulong[] _addresses = new ulong[4096];
    private readonly AccessKind[] _kinds = new AccessKind[4096];

    [Benchmark(OperationsPerInvoke = 36872, Description = "lackey line read")]
    public long LackeyRead()
    {
        long sum = 0;
        using var reader = LackeyReader.Open(_trace, "sum.lackey");
        int count;
        while ((count = reader.Read(_addresses, _kinds)) > 0)
            for (var i = 0; i < count; i++) sum += (long)_addresses[i];
        return sum;
    }
}

public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
