namespace MemScript.Cli;

/// <summary>
/// Ctrl-C for one command: the first press cancels <see cref="Token"/>, and the command stops cleanly
/// and says what it kept (the report of what ran, or nothing written); a second press ends the
/// process as usual, for whatever does not stop.
/// </summary>
public sealed class CtrlC : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly ConsoleCancelEventHandler _handler;

    /// <param name="also">A token that cancels as well (tests use it in place of the key).</param>
    public CtrlC(CancellationToken also = default)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(also);
        _handler = (_, e) =>
        {
            if (_source.IsCancellationRequested) return;
            e.Cancel = true;
            _source.Cancel();
        };
        Console.CancelKeyPress += _handler;
    }

    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= _handler;
        _source.Dispose();
    }
}
