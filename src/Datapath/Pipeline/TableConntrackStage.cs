using Datapath.Conntrack;

namespace Datapath.Pipeline;

/// <summary>A conntrack stage that answers in place from one <see cref="ConnectionTable"/> (one thread, no actors).</summary>
public sealed class TableConntrackStage(ConnectionTable table) : IConntrackStage
{
    private readonly ConntrackResult[] _results = new ConntrackResult[Packets.PacketBatch.MaxSize];

    public ConnectionTable Table => table;

    public void Submit(ConntrackRequest request, PmdCore core)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(core);
        var results = _results.AsSpan(0, request.Count);
        var args = request.Args;
        table.Execute(request.Inputs, in args, request.NowMs, results);

        // The answer runs the continuation, which may submit again (ct after ct): copy out first.
        Span<ConntrackResult> copy = stackalloc ConntrackResult[results.Length];
        results.CopyTo(copy);
        core.CompleteConntrack(request.Id, copy);
    }
}
