namespace MemScript.Engine.Interpreter;

/// <summary>
/// Stand-ins for engine operations that the language already compiles to but the engine does not have
/// yet on this branch. The only one allowed: the lead replaces it with the engine's implementation
/// (SEMANTICS.md 13.6) and deletes this file; an instance method of the same name takes precedence
/// over this extension, so the interpreter needs no change when it lands.
/// </summary>
internal static class PendingEngineHooks
{
    /// <summary><c>collect dirty</c>: does nothing until the engine implements dirty logging.</summary>
    public static void CollectDirty(this Machine machine)
    {
        _ = machine;
    }
}
