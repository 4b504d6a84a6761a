namespace MemScript.Engine.Modes;

/// <summary>
/// The mode classes by <see cref="MmuMode"/>. Adding a mode means its class, its line here, and its
/// name in the vocabulary (<see cref="Vocabulary.Modes"/>).
/// </summary>
internal static class ModeRegistry
{
    public static TranslationMode Create(MmuMode mode, Machine machine) => mode switch
    {
        MmuMode.Native => new NativeMode(machine),
        MmuMode.Software => new SoftwareMode(machine),
        MmuMode.Shadow => new ShadowMode(machine),
        MmuMode.Ept => new EptMode(machine),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "a mode of the vocabulary without a class"),
    };
}
