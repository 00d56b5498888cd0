using Actors.Conntrack;
using Actors.Wire;
using Datapath.Conntrack;

namespace Host.Control;

/// <summary>
/// The conntrack commands of ovs-appctl dpctl/... over the shards, wherever they run (on their
/// entities or hosted by PMDs: the region finds them): one message to every shard, the answers
/// added up, printed as Open vSwitch prints them (<see cref="DpctlConntrack"/>, lib/dpctl.c).
/// Limits are the user's values over all shards; each shard enforces its share.
/// </summary>
internal sealed partial class DatapathControl
{
    private void AddConntrackCommands()
    {
        _commands["dpctl/ct-set-maxconns"] = new("[dp] maxconns", 1, 2, SetMaxConnectionsAsync);
        _commands["dpctl/ct-get-maxconns"] = new("[dp]", 0, 1, (a, ct) => GetLimitsLineAsync("dpctl/ct-get-maxconns", a, l => l[0].MaxConnections, ct));
        _commands["dpctl/ct-get-nconns"] = new("[dp]", 0, 1, (a, ct) => GetLimitsLineAsync("dpctl/ct-get-nconns", a, l => l.Sum(s => s.Connections), ct));
        _commands["dpctl/ct-enable-tcp-seq-chk"] = new("[dp]", 0, 1, (a, ct) => SetTcpSequenceCheckAsync("dpctl/ct-enable-tcp-seq-chk", a, true, ct));
        _commands["dpctl/ct-disable-tcp-seq-chk"] = new("[dp]", 0, 1, (a, ct) => SetTcpSequenceCheckAsync("dpctl/ct-disable-tcp-seq-chk", a, false, ct));
        _commands["dpctl/ct-get-tcp-seq-chk"] = new("[dp]", 0, 1, GetTcpSequenceCheckAsync);
        _commands["dpctl/ct-set-limits"] = new("[dp] [default=L] [zone=N,limit=L]...", 1, int.MaxValue, SetLimitsAsync);
        _commands["dpctl/ct-del-limits"] = new("[dp] zone=N1[,N2]...", 1, 2, DeleteLimitsAsync);
        _commands["dpctl/ct-get-limits"] = new("[dp] [zone=N1[,N2]...]", 0, 2, GetLimitsAsync);
        _commands["dpctl/ct-stats-show"] = new("[dp] [zone=N] [verbose]", 0, 3, StatsShowAsync);
    }

    private async Task<ControlReply> SetMaxConnectionsAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        const string Method = "dpctl/ct-set-maxconns";
        var rest = WithoutDatapath(Method, args);
        int max = rest.Count == 1 && int.TryParse(rest[0], System.Globalization.NumberStyles.None, C, out int n)
            ? n
            : throw CommandArguments.Bad(Method, "maxconns missing or malformed");
        await AskShardsAsync<ConntrackLimits>(new ConfigureConntrack(max, null, null, [], []), cancellation).ConfigureAwait(false);
        return new ControlReply("setting maxconns successful");
    }

    private async Task<ControlReply> GetLimitsLineAsync(string method, IReadOnlyList<string> args, Func<ConntrackLimits[], int> pick, CancellationToken cancellation)
    {
        CommandArguments.Parse(method, WithoutDatapath(method, args), 0, 0);
        var limits = await AskShardsAsync<ConntrackLimits>(new GetConntrackLimits([]), cancellation).ConfigureAwait(false);
        int value = pick(limits);
        return new ControlReply(value.ToString(C) + "\n", value);
    }

    private async Task<ControlReply> SetTcpSequenceCheckAsync(string method, IReadOnlyList<string> args, bool enabled, CancellationToken cancellation)
    {
        CommandArguments.Parse(method, WithoutDatapath(method, args), 0, 0);
        await AskShardsAsync<ConntrackLimits>(new ConfigureConntrack(null, enabled, null, [], []), cancellation).ConfigureAwait(false);
        return new ControlReply(DpctlConntrack.TcpSequenceCheckSet(enabled));
    }

    private async Task<ControlReply> GetTcpSequenceCheckAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        CommandArguments.Parse("dpctl/ct-get-tcp-seq-chk", WithoutDatapath("dpctl/ct-get-tcp-seq-chk", args), 0, 0);
        var limits = await AskShardsAsync<ConntrackLimits>(new GetConntrackLimits([]), cancellation).ConfigureAwait(false);
        return new ControlReply(DpctlConntrack.TcpSequenceCheckState(limits[0].TcpSequenceCheck));
    }

    private async Task<ControlReply> SetLimitsAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        const string Method = "dpctl/ct-set-limits";
        var request = RunDpctl(Method, () => DpctlConntrack.ParseSetLimits(WithoutDatapath(Method, args)));
        var zones = request.Zones.Select(z => new ZoneLimitSetting(z.Zone, z.Limit)).ToArray();
        await AskShardsAsync<ConntrackLimits>(new ConfigureConntrack(null, null, request.DefaultLimit, zones, []), cancellation).ConfigureAwait(false);
        return new ControlReply(string.Empty);
    }

    private async Task<ControlReply> DeleteLimitsAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        const string Method = "dpctl/ct-del-limits";
        var rest = WithoutDatapath(Method, args);
        var zones = RunDpctl(Method, () => DpctlConntrack.ParseZoneList(rest.Count == 1 ? rest[0] : throw new FormatException("invalid arguments")));
        await AskShardsAsync<ConntrackLimits>(new ConfigureConntrack(null, null, null, [], zones.ToArray()), cancellation).ConfigureAwait(false);
        return new ControlReply(string.Empty);
    }

    private async Task<ControlReply> GetLimitsAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        const string Method = "dpctl/ct-get-limits";
        var rest = WithoutDatapath(Method, args);
        ushort[]? zones = rest.Count switch
        {
            0 => null,
            1 => RunDpctl(Method, () => DpctlConntrack.ParseZoneList(rest[0])).ToArray(),
            _ => throw CommandArguments.Bad(Method, "invalid arguments"),
        };
        var limits = await AskShardsAsync<ConntrackLimits>(new GetConntrackLimits(zones), cancellation).ConfigureAwait(false);

        // Each shard reports its connections of each zone; the limits are the same everywhere.
        var reports = limits[0].Zones
            .Select((zone, i) => zone with { Count = limits.Sum(l => i < l.Zones.Length ? l.Zones[i].Count : 0) })
            .ToList();
        return new ControlReply(DpctlConntrack.Limits(limits[0].DefaultZoneLimit, reports) + "\n");
    }

    private async Task<ControlReply> StatsShowAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        const string Method = "dpctl/ct-stats-show";
        var rest = WithoutDatapath(Method, args).ToList();
        bool verbose = rest.Remove("verbose") | rest.Remove("-m") | rest.Remove("--more");
        ushort? zone = rest.Count switch
        {
            0 => null,
            1 => RunDpctl(Method, () => DpctlConntrack.ParseZone(rest[0])),
            _ => throw CommandArguments.Bad(Method, "invalid arguments"),
        };
        var counted = await AskShardsAsync<ConnectionsCounted>(new CountConnections(zone), cancellation).ConfigureAwait(false);
        var total = counted.Aggregate(new ConntrackProtocolCounts(), (sum, shard) => sum.Add(shard.Counts));
        return new ControlReply(DpctlConntrack.StatsShow(total, verbose));
    }

    /// <summary>Asks every shard, in shard order.</summary>
    private async Task<T[]> AskShardsAsync<T>(IWireMessage command, CancellationToken cancellation) =>
        await Task.WhenAll(Enumerable.Range(0, _targets.ConntrackShards).Select(shard =>
            AskAsync<T>(_targets.Conntrack, new ConntrackEnvelope(shard, command), cancellation))).ConfigureAwait(false);

    /// <summary>Runs a parser of <see cref="DpctlConntrack"/>: its <see cref="FormatException"/> (Open vSwitch's wording) becomes the command's error.</summary>
    private static T RunDpctl<T>(string method, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (FormatException e)
        {
            throw CommandArguments.Bad(method, e.Message);
        }
    }
}
