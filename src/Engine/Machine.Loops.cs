using System.Runtime.CompilerServices;
using MemScript.Engine.Interpreter;

namespace MemScript.Engine;

// The access loops of the language (sweep, random, replay, and a repeat of one access) as
// engine loops: each access is exactly Access(), but the loop keeps the machine's fixed state in
// registers instead of reloading it through the interpreter's closures on every access.
public sealed partial class Machine
{
    /// <summary>How often the generators call their poll: after every access whose number is a multiple of this.</summary>
    private const long PollInterval = 1 << 16;

    /// <summary>Whether the access just made is one after which a run polls for Ctrl-C and progress.</summary>
    public bool PollDue
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (Counters.Accesses & (PollInterval - 1)) == 0;
    }

    /// <summary>
    /// Accesses <paramref name="from"/> + k * <paramref name="stride"/> for every offset below
    /// <paramref name="size"/>, <paramref name="times"/> times over, stopping early if an offset
    /// wraps. Calls <paramref name="poll"/> whenever <see cref="PollDue"/>.
    /// </summary>
    /// <remarks>
    /// Optimised when first compiled: the loop runs once per statement, so the runtime's tiering
    /// would run most of a short sweep in unoptimised code.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Sweep(ulong from, ulong size, ulong stride, ulong times, AccessKind kind, bool kernel, Action poll)
    {
        var required = Required(kind, kernel);
        var tag = CurrentTag;
        var counters = Counters;
        // Without acceleration every access probes the TLB; the page register below only saves that probe.
        var remember = Fast.Enabled;
        for (var t = 0UL; t < times; t++)
        {
            // The 4 KiB page of the last access when it hit the TLB. Until another access misses, the
            // TLB is as that hit left it, so an access to the same page hits the same entry with the
            // same permissions: it is counted here without probing again.
            var hitPage = ulong.MaxValue;
            for (var offset = 0UL; offset < size; offset += stride)
            {
                var gva = from + offset;
                if (gva >> 12 == hitPage && counters.Accesses < _accessLimit)
                {
                    counters.Accesses++;
                    counters.TlbHits++;
                }
                else if (CountHit(gva, tag, required))
                {
                    if (remember) hitPage = gva >> 12;
                }
                else
                {
                    AccessSlow(gva, kind, kernel);
                    hitPage = ulong.MaxValue;
                }
                if (PollDue)
                {
                    poll();
                    hitPage = ulong.MaxValue;
                }
                if (offset + stride < offset) break;
            }
        }
    }

    /// <summary>
    /// Accesses <paramref name="count"/> addresses <paramref name="from"/> + k * <paramref name="align"/>
    /// with k drawn uniformly below <paramref name="slots"/> by SplitMix64 from <paramref name="seed"/>
    /// (LANGUAGE.md's <c>random</c>). Calls <paramref name="poll"/> as <see cref="Sweep"/> does.
    /// </summary>
    /// <remarks>
    /// With acceleration the addresses are drawn ahead through the accelerator's window, so that what
    /// their walks will read is prefetched: random addresses over a large region miss the host's
    /// caches, and the misses of many accesses then overlap.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Random(ulong count, ulong from, ulong slots, ulong align, ulong seed, AccessKind kind, bool kernel, Action poll)
    {
        var rng = new SplitMix64(seed);
        // x % 2^k is x & (2^k - 1), without a 64-bit division per access.
        var mask = (slots & (slots - 1)) == 0 ? slots - 1 : 0;
        var required = Required(kind, kernel);
        var tag = CurrentTag;
        ulong address;
        if (Fast.OpenWindow() is not { } window)
        {
            for (var i = 0UL; i < count; i++)
            {
                Access(from + (mask != 0 || slots == 1 ? rng.Next() & mask : rng.Next() % slots) * align, kind, kernel);
                if (PollDue) poll();
            }
            return;
        }
        for (var i = 0UL; i < count; i++)
        {
            var next = from + (mask != 0 || slots == 1 ? rng.Next() & mask : rng.Next() % slots) * align;
            if (!window.Push(next, out address, out var known)) continue;
            if (!CountHit(address, tag, required)) AccessSlow(address, kind, kernel, known);
            if (PollDue) poll();
        }
        while (window.Drain(out address))
        {
            Access(address, kind, kernel);
            if (PollDue) poll();
        }
    }

    /// <summary>
    /// Accesses <paramref name="address"/>(i) for i from 0 to <paramref name="count"/> - 1: a
    /// <c>repeat</c> loop whose body is one access. Calls <paramref name="poll"/> as <see cref="Sweep"/> does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Repeat(ulong count, Func<ulong, ulong> address, AccessKind kind, bool kernel, Action poll)
    {
        var required = Required(kind, kernel);
        var tag = CurrentTag;
        for (var i = 0UL; i < count; i++)
        {
            var gva = address(i);
            if (!CountHit(gva, tag, required)) AccessSlow(gva, kind, kernel);
            if (PollDue) poll();
        }
    }

    /// <summary>Runs a lackey trace's accesses in order. Calls <paramref name="poll"/> as <see cref="Sweep"/> does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Replay(LackeyReader trace, Action poll)
    {
        var addresses = new ulong[4096];
        var kinds = new AccessKind[4096];
        int count;
        while ((count = trace.Read(addresses, kinds)) > 0)
        {
            for (var i = 0; i < count; i++)
            {
                Access(addresses[i], kinds[i]);
                if (PollDue) poll();
            }
        }
    }
}
