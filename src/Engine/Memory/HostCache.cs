using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace MemScript.Engine.Memory;

/// <summary>
/// Hints to the host processor about the simulator's own memory: which cache line a walk a few accesses
/// from now will read. A hint changes nothing but timing.
/// </summary>
internal static class HostCache
{
    /// <summary>Starts loading the cache line holding <paramref name="location"/>.</summary>
    /// <remarks>
    /// The address is taken without pinning: should the collector move the array meanwhile, the hint is
    /// for a stale line, which costs nothing (a prefetch never faults).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Prefetch(ref ulong location)
    {
        if (Sse.IsSupported) Sse.Prefetch0(Unsafe.AsPointer(ref location));
    }
}
