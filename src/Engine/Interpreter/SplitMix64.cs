namespace MemScript.Engine.Interpreter;

/// <summary>
/// SplitMix64 exactly as LANGUAGE.md specifies it for <c>random</c>, so the same seed gives the same
/// addresses on every platform (System.Random makes no such promise across versions).
/// </summary>
public struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        unchecked
        {
            _state += 0x9E3779B97F4A7C15UL;
            var z = _state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
