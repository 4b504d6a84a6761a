namespace MemScript.Engine;

/// <summary>
/// A run-time error of the model (out of guest memory, livelock, a limit reached). It carries no source
/// position: the interpreter attaches the span of the statement that was running, as Jint does.
/// </summary>
public sealed class EngineException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;

    public static EngineException OutOfGuestMemory(string process, ulong gva) =>
        new("MS0602", $"out of guest memory: the guest kernel found no free frame for process '{process}' at {Memory.Hex.Format(gva)}");

    public static EngineException Livelock(ulong gva, int retries) =>
        new("MS0603", $"livelock: the access to {Memory.Hex.Format(gva)} was retried more than {retries} times");

    public static EngineException MappingConflict(string message) => new("MS0605", message);

    public static EngineException AccessLimit(long limit) =>
        new("MS0606", $"the run reached the limit of {limit} accesses (raise it with --max-accesses)");

    public static EngineException IdleLimit(long limit) =>
        new("MS0606", $"the run reached the limit of {limit} loop iterations without an access (raise it with --max-accesses)");

    public static EngineException CounterOverflow(string counter) =>
        new("MS0609", $"the {counter} count would pass 2^64 - 1: the costs are too large for a run this long");

    public static EngineException RecordLimit(string what, int limit) =>
        new("MS0610", $"the run recorded more than the limit of {limit:N0} {what}");

    public static EngineException PageLimit(string what, long limit) =>
        new("MS0607", $"the scenario needs more than the limit of {limit:N0} {what}");
}
