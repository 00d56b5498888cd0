using System.Globalization;
using Actors.Cluster;
using Actors.Pmd;
using Prometheus;

namespace Host.Metrics;

/// <summary>
/// The datapath's counters as Prometheus metrics, refreshed from a <see cref="MetricsGatherer"/>
/// before each scrape. Counters the datapath clears (pmd-stats-clear) or restarts (a PMD or port
/// replaced) start a fresh series, so Prometheus sees a counter reset instead of a stuck value;
/// series of PMDs, ports or shards that are gone are removed. What did not answer in time keeps
/// its last values and counts in <c>ovs_actors_metrics_gather_failures_total</c>.
/// </summary>
internal sealed class DatapathMetrics
{
    private const string Prefix = "ovs_actors_";
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private readonly SemaphoreSlim _updating = new(1, 1);
    private readonly Counter _pmdPackets;
    private readonly Counter _pmdRecirculations;
    private readonly Counter _pmdEmcHits;
    private readonly Counter _pmdMegaflowHits;
    private readonly Counter _pmdBypassHits;
    private readonly Counter _pmdBypassInstalls;
    private readonly Counter _pmdBypassRevocations;
    private readonly Counter _pmdBypassGuardFallbacks;
    private readonly Counter _pmdUpcalls;
    private readonly Counter _pmdDrops;
    private readonly Counter _pmdSent;
    private readonly Counter _pmdInjected;
    private readonly Gauge _pmdHeld;
    private readonly Counter _pmdOutputs;
    private readonly Counter _pmdTxDrops;
    private readonly Gauge _pmdMegaflows;
    private readonly Counter _portRxPackets;
    private readonly Counter _portRxBytes;
    private readonly Counter _portTxPackets;
    private readonly Counter _portTxBytes;
    private readonly Counter _portRxDropped;
    private readonly Counter _portTxDropped;
    private readonly Gauge _shardConnections;
    private readonly Counter _shardPackets;
    private readonly Gauge _shardOwner;
    private readonly Counter _handoffs;
    private readonly Counter _connectionsMoved;
    private readonly Counter _handoffBytes;
    private readonly Counter _handoffChunksRejected;
    private readonly Counter _handoffConnectionsLost;
    private readonly Gauge _tablesParked;
    private readonly Counter _handoffResent;
    private readonly Counter _handoffSeconds;
    private readonly Gauge _replicaConnections;
    private readonly Gauge _replicaAge;
    private readonly Counter _replicaChunks;
    private readonly Counter _replicaBytes;
    private readonly Counter _replicaPromotions;
    private readonly Counter _replicaConnectionsLost;
    private readonly Counter _gatherFailures;
    private MetricsGatherer? _gatherer;

    public DatapathMetrics(IMetricFactory factory)
    {
        Counter PmdCounter(string name, string help, params string[] more) => factory.CreateCounter(Prefix + "pmd_" + name, help, ["pmd", .. more]);
        _pmdPackets = PmdCounter("packets_received_total", "Packets received from ports (pmd-stats-show: packets received).");
        _pmdRecirculations = PmdCounter("recirculations_total", "Passes of recirculated packets (pmd-stats-show: packet recirculations).");
        _pmdEmcHits = PmdCounter("emc_hits_total", "Exact-match cache hits.");
        _pmdMegaflowHits = PmdCounter("megaflow_hits_total", "Megaflow classifier hits.");
        _pmdBypassHits = PmdCounter("bypass_hits_total", "Packets that took a bypass flow (recirculation bypass) instead of ct + recirc.");
        _pmdBypassInstalls = PmdCounter("bypass_installs_total", "Bypass flows built.");
        _pmdBypassRevocations = PmdCounter("bypass_revocations_total", "Bypass flows removed (connection left the established state, guard failed, or a megaflow they stand for died).");
        _pmdBypassGuardFallbacks = PmdCounter("bypass_guard_fallbacks_total", "Packets of a bypass flow whose conntrack guard failed: they recirculated as usual.");
        _pmdUpcalls = PmdCounter("upcalls_total", "Cache misses sent to the OpenFlow tables, by result (ok: a megaflow was installed).", "result");
        _pmdDrops = PmdCounter("drops_total", "Packets dropped by the PMD's pipeline, by reason (received = sent + drops + held).", "reason");
        _pmdSent = PmdCounter("packets_sent_total", "Packets the PMD sent at least once (an output, or to the controller), each counted once.");
        _pmdInjected = PmdCounter("packets_injected_total", "Packets a controller's packet_out put into the PMD (received + injected = sent + drops + held).");
        _pmdHeld = factory.CreateGauge(Prefix + "pmd_packets_held", "Packets the PMD holds now: waiting for conntrack, or for the rest of their datagram.", ["pmd"]);
        _pmdOutputs = PmdCounter("output_copies_total", "Copies the PMD handed to ports (flooding and several outputs send a packet more than once).");
        _pmdTxDrops = PmdCounter("tx_dropped_total", "Copies the PMD could not hand to a port, by reason (no such port, transmit pool empty).", "reason");
        _pmdMegaflows = factory.CreateGauge(Prefix + "pmd_megaflows", "Megaflows installed in the PMD's classifier.", ["pmd"]);

        Counter PortCounter(string name, string help) => factory.CreateCounter(Prefix + "port_" + name, help, ["port", "name"]);
        _portRxPackets = PortCounter("rx_packets_total", "Packets received by the port.");
        _portRxBytes = PortCounter("rx_bytes_total", "Bytes received by the port.");
        _portTxPackets = PortCounter("tx_packets_total", "Packets transmitted by the port.");
        _portTxBytes = PortCounter("tx_bytes_total", "Bytes transmitted by the port.");
        _portRxDropped = PortCounter("rx_dropped_total", "Received frames dropped (overload, no buffer, too long).");
        _portTxDropped = PortCounter("tx_dropped_total", "Frames not transmitted (too long, send errors).");

        _shardConnections = factory.CreateGauge(Prefix + "conntrack_connections", "Connections in the conntrack shard's table.", ["shard"]);
        _shardPackets = factory.CreateCounter(Prefix + "conntrack_packets_total", "Packets the conntrack shard looked up.", ["shard"]);
        _shardOwner = factory.CreateGauge(Prefix + "conntrack_shard_owner", "1 for the node that owns the conntrack shard now (a cluster node's view of the sharding coordinator).", ["shard", "node"]);
        Counter NodeCounter(string name, string help, params string[] more) => factory.CreateCounter(Prefix + "conntrack_" + name, help, ["node", .. more]);
        _handoffs = NodeCounter("handoffs_total", "Conntrack shards whose table moved to (in) or from (out) the node with the shard (rebalance, graceful leave).", "direction");
        _connectionsMoved = NodeCounter("connections_moved_total", "Connections in the tables that moved to (in) or from (out) the node.", "direction");
        _handoffBytes = NodeCounter("handoff_bytes_total", "Table chunk bytes the node received in hand-offs.");
        _handoffChunksRejected = NodeCounter("handoff_chunks_rejected_total", "Hand-off chunks the node could not take (undecodable or never came): each made it ask again or give up.");
        _handoffConnectionsLost = NodeCounter("handoff_connections_lost_total", "Connections of tables the node gave up on after retrying (the shard started empty, said in its log).");
        _handoffResent = NodeCounter("handoff_messages_resent_total", "Shard messages the node's region dropped when a hand-off began, sent again to the shard's new owner.");
        _handoffSeconds = NodeCounter("handoff_transfer_seconds_total", "Seconds the tables that arrived at the node took, each from its new owner's claim to the whole table taken.");
        _tablesParked = factory.CreateGauge(Prefix + "conntrack_tables_parked", "Tables of shards that left the node and wait for their new owner to take them.", ["node"]);
        _replicaConnections = factory.CreateGauge(Prefix + "conntrack_replica_connections", "Connections in the replica the node keeps of another node's conntrack shard.", ["node", "shard"]);
        _replicaAge = factory.CreateGauge(Prefix + "conntrack_replica_update_age_seconds", "Seconds since the replica the node keeps of a shard was last fed (its owner sends a delta each replication interval in which the table changed).", ["node", "shard"]);
        _replicaChunks = NodeCounter("replica_chunks_total", "Replication chunks (seeds and deltas) the node applied (applied) or refused and asked a new seed for (dropped).", "result");
        _replicaBytes = NodeCounter("replica_bytes_total", "Bytes of the replication chunks the node applied.");
        _replicaPromotions = NodeCounter("replica_promotions_total", "Shards that started on the node from its replica (their owner died, or their hand-off failed).");
        _replicaConnectionsLost = NodeCounter("replica_connections_lost_total", "Connections of shards that started empty on the node because their table was lost and no replica was kept.");
        _gatherFailures = factory.CreateCounter(Prefix + "metrics_gather_failures_total", "Scrapes in which an owner (pmds, ports, conntrack) did not answer in time: its series kept their last values.", ["source"]);
        foreach (string source in new[] { "pmds", "ports", "conntrack" })
        {
            _gatherFailures.WithLabels(source).IncTo(0);
        }
    }

    /// <summary>From now on, scrapes ask these actors; before it, a scrape shows no datapath series.</summary>
    public void Attach(MetricsGatherer gatherer) => Volatile.Write(ref _gatherer, gatherer);

    /// <summary>Registered as the registry's before-collect callback; concurrent scrapes take turns.</summary>
    public async Task UpdateAsync(CancellationToken cancellation)
    {
        if (Volatile.Read(ref _gatherer) is not { } gatherer)
        {
            return;
        }

        await _updating.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            Publish(await gatherer.GatherAsync(cancellation).ConfigureAwait(false));
        }
        finally
        {
            _updating.Release();
        }
    }

    /// <summary>Moves every series to what one scrape gathered.</summary>
    internal void Publish(MetricsSnapshot snapshot)
    {
        PublishPmds(snapshot);
        PublishPorts(snapshot);
        PublishShards(snapshot);
        PublishPlacement(snapshot.Placement);
    }

    private void PublishPmds(MetricsSnapshot snapshot)
    {
        if (snapshot.Pmds is not { } gathered || gathered.PmdsMissing > 0)
        {
            _gatherFailures.WithLabels("pmds").Inc();
        }

        if (snapshot.Pmds is null)
        {
            return;
        }

        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pmd in snapshot.Pmds.Pmds)
        {
            string id = pmd.Pmd.ToString(C);
            present.Add(id);
            PublishPmd(id, pmd);
        }

        // A PMD that did not answer this time may still be there: prune only after a full answer.
        if (snapshot.Pmds.PmdsMissing == 0)
        {
            foreach (var collector in new Collector[] { _pmdPackets, _pmdRecirculations, _pmdEmcHits, _pmdMegaflowHits, _pmdBypassHits, _pmdBypassInstalls, _pmdBypassRevocations, _pmdBypassGuardFallbacks, _pmdUpcalls, _pmdDrops, _pmdSent, _pmdInjected, _pmdHeld, _pmdOutputs, _pmdTxDrops, _pmdMegaflows })
            {
                Prune(collector, present);
            }
        }
    }

    private void PublishPmd(string id, PmdStatistics pmd)
    {
        var p = pmd.Pipeline;
        Set(_pmdPackets, p.PacketsReceived, id);
        Set(_pmdRecirculations, p.Recirculations, id);
        Set(_pmdEmcHits, p.EmcHits, id);
        Set(_pmdMegaflowHits, p.MegaflowHits, id);
        Set(_pmdBypassHits, p.BypassHits, id);
        Set(_pmdBypassInstalls, p.BypassInstalls, id);
        Set(_pmdBypassRevocations, p.BypassRevocations, id);
        Set(_pmdBypassGuardFallbacks, p.BypassGuardFallbacks, id);
        Set(_pmdUpcalls, p.UpcallsOk, id, "ok");
        Set(_pmdUpcalls, p.UpcallsFailed, id, "failed");
        foreach (var (reason, count) in pmd.Drops)
        {
            Set(_pmdDrops, count, id, reason);
        }

        Set(_pmdSent, pmd.PacketsSent, id);
        Set(_pmdInjected, pmd.PacketsInjected, id);
        _pmdHeld.WithLabels(id).Set(pmd.PacketsHeld);
        Set(_pmdOutputs, pmd.Outputs, id);
        Set(_pmdTxDrops, pmd.TransmitDropsNoPort, id, "no such port");
        Set(_pmdTxDrops, pmd.TransmitDropsPoolEmpty, id, "pool empty");

        _pmdMegaflows.WithLabels(id).Set(pmd.MegaflowCount);
    }

    private void PublishPorts(MetricsSnapshot snapshot)
    {
        if (snapshot.Ports is null || snapshot.Ports.Ports.Any(p => p.Counters is null))
        {
            _gatherFailures.WithLabels("ports").Inc();
        }

        if (snapshot.Ports is null)
        {
            return;
        }

        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var port in snapshot.Ports.Ports)
        {
            string number = port.Number.ToString(C);
            present.Add(number);
            if (port.Counters is not { } counters)
            {
                continue;
            }

            Set(_portRxPackets, counters.RxPackets, number, port.Name);
            Set(_portRxBytes, counters.RxBytes, number, port.Name);
            Set(_portTxPackets, counters.TxPackets, number, port.Name);
            Set(_portTxBytes, counters.TxBytes, number, port.Name);
            Set(_portRxDropped, counters.RxDropped, number, port.Name);
            Set(_portTxDropped, counters.TxDropped, number, port.Name);
        }

        // The bridge lists every port it has, answered or not: one it does not list was deleted.
        foreach (var collector in new Collector[] { _portRxPackets, _portRxBytes, _portTxPackets, _portTxBytes, _portRxDropped, _portTxDropped })
        {
            Prune(collector, present);
        }
    }

    private void PublishShards(MetricsSnapshot snapshot)
    {
        if (snapshot.Shards.Count < snapshot.ShardsAsked)
        {
            _gatherFailures.WithLabels("conntrack").Inc();
        }

        foreach (var shard in snapshot.Shards)
        {
            string id = shard.Shard.ToString(C);
            _shardConnections.WithLabels(id).Set(shard.Connections);
            Set(_shardPackets, shard.Packets, id);
        }
    }

    private void PublishPlacement(ConntrackPlacementView? placement)
    {
        if (placement is null)
        {
            return;
        }

        if (placement.OwnersAnswered)
        {
            var owners = new HashSet<(string Shard, string Node)>();
            foreach (var node in placement.Nodes)
            {
                foreach (int shard in node.Shards)
                {
                    owners.Add((shard.ToString(C), node.Node));
                    _shardOwner.WithLabels(shard.ToString(C), node.Node).Set(1);
                }
            }

            foreach (string[] labels in _shardOwner.GetAllLabelValues().Where(l => !owners.Contains((l[0], l[1]))).ToArray())
            {
                _shardOwner.RemoveLabelled(labels);
            }
        }

        foreach (var node in placement.Nodes)
        {
            if (node.Handoffs is not { } h)
            {
                continue;
            }

            Set(_handoffs, h.HandoffsIn, node.Node, "in");
            Set(_handoffs, h.HandoffsOut, node.Node, "out");
            Set(_connectionsMoved, h.ConnectionsIn, node.Node, "in");
            Set(_connectionsMoved, h.ConnectionsOut, node.Node, "out");
            Set(_handoffBytes, h.BytesIn, node.Node);
            Set(_handoffChunksRejected, h.ChunksRejected, node.Node);
            Set(_handoffConnectionsLost, h.ConnectionsLost, node.Node);
            Set(_handoffResent, h.MessagesResent, node.Node);
            var seconds = _handoffSeconds.WithLabels(node.Node);
            if (h.TransferMsIn / 1000.0 < seconds.Value)
            {
                seconds.Remove();
                seconds = _handoffSeconds.WithLabels(node.Node);
            }

            seconds.IncTo(h.TransferMsIn / 1000.0);
            _tablesParked.WithLabels(node.Node).Set(h.Parked);
        }

        PublishReplicas(placement);
    }

    private void PublishReplicas(ConntrackPlacementView placement)
    {
        var held = new HashSet<(string Node, string Shard)>();
        var answered = new HashSet<string>();
        foreach (var node in placement.Nodes)
        {
            if (node.Replicas is not { } r)
            {
                continue;
            }

            answered.Add(node.Node);
            foreach (var replica in r.Replicas)
            {
                string shard = replica.Shard.ToString(C);
                held.Add((node.Node, shard));
                _replicaConnections.WithLabels(node.Node, shard).Set(replica.Connections);
                _replicaAge.WithLabels(node.Node, shard).Set(replica.LagMs / 1000.0);
            }

            Set(_replicaChunks, r.ChunksApplied, node.Node, "applied");
            Set(_replicaChunks, r.ChunksDropped, node.Node, "dropped");
            Set(_replicaBytes, r.BytesIn, node.Node);
            Set(_replicaPromotions, r.Promotions, node.Node);
            Set(_replicaConnectionsLost, r.ConnectionsLost, node.Node);
        }

        // A replica the node no longer keeps (its shard moved, its owner left), or a node that left: the series go. A node that did not answer keeps its last ones.
        var nodes = placement.Nodes.Select(n => n.Node).ToHashSet();
        foreach (var gauge in new[] { _replicaConnections, _replicaAge })
        {
            foreach (string[] labels in gauge.GetAllLabelValues().Where(l => !nodes.Contains(l[0]) || (answered.Contains(l[0]) && !held.Contains((l[0], l[1])))).ToArray())
            {
                gauge.RemoveLabelled(labels);
            }
        }
    }

    /// <summary>Moves a counter series to <paramref name="value"/>; a lower value (the source was cleared) starts the series anew.</summary>
    private static void Set(Counter counter, long value, params string[] labels)
    {
        var child = counter.WithLabels(labels);
        if (value < child.Value)
        {
            child.Remove();
            child = counter.WithLabels(labels);
        }

        child.IncTo(value);
    }

    /// <summary>Removes the series whose first label (pmd, port) is not in <paramref name="present"/>.</summary>
    private static void Prune(Collector collector, HashSet<string> present)
    {
        switch (collector)
        {
            case Counter counter:
                foreach (string[] labels in counter.GetAllLabelValues().Where(l => !present.Contains(l[0])).ToArray())
                {
                    counter.RemoveLabelled(labels);
                }

                break;
            case Gauge gauge:
                foreach (string[] labels in gauge.GetAllLabelValues().Where(l => !present.Contains(l[0])).ToArray())
                {
                    gauge.RemoveLabelled(labels);
                }

                break;
        }
    }
}
