using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace MemScript.Engine.Acceleration;

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

    /// <summary>Starts loading the cache line where <paramref name="instance"/>'s fields begin (the header of a class instance).</summary>
    /// <remarks>Taken without pinning, as <see cref="Prefetch"/> is.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void PrefetchObject(object instance)
    {
        // Any class instance viewed as one whose first field is a byte: a reference to its first field,
        // with no read of the object (what the runtime's own GetRawData does).
        if (Sse.IsSupported) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.As<FieldStart>(instance).First));
    }

    // Never instantiated: only a view of other objects, so its field is never written.
#pragma warning disable CS0649
    private sealed class FieldStart
    {
        public byte First;
    }
#pragma warning restore CS0649
}
