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
        // With acceleration, the accesses after a hit that fall on its 4 KiB page hit the same entry with
        // the same permissions (nothing changes the TLB between them): they are counted together, up to
        // the next poll or the access limit, so a pass costs a probe per page, not per access. Without
        // it every access probes the TLB.
        var bulk = Fast.Enabled;
        for (var t = 0UL; t < times; t++)
        {
            for (var offset = 0UL; offset < size;)
            {
                var gva = from + offset;
                var last = offset; // the offset of the last access counted in this step
                if (CountHit(gva, tag, required))
                {
                    if (bulk)
                    {
                        var more = Math.Min(((gva | 0xfff) - gva) / stride, (size - 1 - offset) / stride);
                        var sincePoll = (ulong)counters.Accesses & (PollInterval - 1);
                        more = Math.Min(more, sincePoll == 0 ? 0 : PollInterval - sincePoll);
                        more = Math.Min(more, (ulong)(_accessLimit - counters.Accesses));
                        counters.Accesses += (long)more;
                        counters.TlbHits += (long)more;
                        last = offset + stride * more;
                    }
                }
                else
                {
                    AccessSlow(gva, kind, kernel);
                }
                if (PollDue) poll();
                if (last + stride < last) break;
                offset = last + stride;
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
