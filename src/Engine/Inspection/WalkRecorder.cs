using System.Collections.Immutable;
using MemScript.Engine.Translation;

namespace MemScript.Engine.Inspection;

/// <summary>
/// Collects the entries a walk reads, for explain and the report: guest entries, each with the EPT walk
/// that translated its table first (in ept), and the EPT walk of the final address. A run passes none,
/// so recording costs a walk one null test per entry.
/// </summary>
internal sealed class WalkRecorder
{
    private readonly ImmutableArray<GuestStep>.Builder _guest = ImmutableArray.CreateBuilder<GuestStep>();
    private ImmutableArray<WalkStep>.Builder? _ept;
    private ulong _eptGpa;
    private EptPath? _pending;

    public ImmutableArray<GuestStep> GuestSteps => _guest.ToImmutable();

    /// <summary>The last EPT walk, once ended and not yet claimed by a guest entry.</summary>
    public EptPath? TakeEptPath()
    {
        var path = _pending;
        _pending = null;
        return path;
    }

    public void BeginEpt(ulong gpa)
    {
        _ept = ImmutableArray.CreateBuilder<WalkStep>();
        _eptGpa = gpa;
    }

    public void EptEntry(int level, ulong table, int index, ulong entry) => _ept?.Add(new WalkStep(level, table, index, entry));

    public void EndEpt(EptResult result, ulong hpa)
    {
        if (_ept is null) return;
        _pending = new EptPath(_eptGpa, _ept.ToImmutable(), result, hpa);
        _ept = null;
    }

    public void GuestEntry(int level, ulong table, int index, ulong entry) =>
        _guest.Add(new GuestStep(new WalkStep(level, table, index, entry), TakeEptPath()));

    /// <summary>A table the walk could not read: its EPT translation stopped first.</summary>
    public void Unreachable(int level, ulong table, int index) =>
        _guest.Add(new GuestStep(new WalkStep(level, table, index, 0), TakeEptPath()));
}
