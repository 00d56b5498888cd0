using System.Runtime.CompilerServices;
using Datapath.Packets;

namespace Traffic;

/// <summary>
/// Synthetic traffic of two simulated hosts behind a datapath's ports: the client side behind port
/// 1 and the server side behind port 2, keeping <see cref="TrafficProfile.Connections"/> TCP, UDP
/// and ICMP connections alive between them. Frames are real traffic for a stateful firewall: TCP
/// handshakes with the MSS option, data both ways with correct sequence and acknowledgement
/// numbers, FIN teardowns in either order or RST; UDP request/response; ICMP echo with identifiers
/// and sequence numbers; valid IPv4 and transport checksums everywhere.
///
/// Contract: a host answers only frames that reached it. The caller plays the datapath: it takes
/// frames with <see cref="Fill"/> and reports every frame the datapath transmits with
/// <see cref="OnTransmitted(uint, ReadOnlySpan{byte}, long)"/>; a frame the datapath drops is never
/// answered, so its connection times out after <see cref="TrafficProfile.ConnectionTimeout"/>
/// without activity, is counted and replaced. A finished connection is replaced at once by a new
/// one with a new initiator port, so the number of connections stays constant.
///
/// Clock-driven and deterministic: the caller passes the time; the same profile, seed and sequence
/// of calls give the same frames. One owner, not thread-safe; allocation-free per call once warm.
/// </summary>
public sealed partial class TrafficGenerator
{
    public const uint ClientPort = 1;
    public const uint ServerPort = 2;
    public const ulong ClientMac = 0x02_00_00_00_00_01;
    public const ulong ServerMac = 0x02_00_00_00_00_02;

    /// <summary>Initiators use ports (and ICMP identifiers) from here to 65535.</summary>
    public const int FirstEphemeralPort = 1024;

    private const int EphemeralPorts = 65536 - FirstEphemeralPort;
    private const ushort Window = 65535;

    // Timeouts found per Fill at most, so a mass expiry is spread over calls instead of stalling one.
    private const int MaxExpiriesPerCall = 256;

    private readonly TrafficProfile _profile;
    private readonly TrafficConnection[] _connections;
    private readonly Dictionary<ulong, int> _byInitiator;
    private readonly TransmitQueue[] _queues;
    private readonly PortPacer[] _pacers = new PortPacer[2];
    private readonly ushort[] _ipIds = new ushort[2];
    private readonly ActivityList _activity;
    private readonly byte[] _scratch;
    private readonly byte[] _payload;
    private readonly long _timeoutNs;
    private readonly ushort _mss;
    private readonly int _clientLanes;
    private readonly int _serverLanes;
    private readonly ConnectionShare? _share;
    private readonly long _ratePps;
    private TrafficRandom _random;

    /// <param name="share">This generator's part of a generator split by receive side (<see cref="ConnectionShare"/>): it keeps
    /// only the share's connections, at its share of the rate. Null: every connection.</param>
    public TrafficGenerator(TrafficProfile profile, ulong seed, ConnectionShare? share = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        if (share is not null && share.Total != profile.Connections)
        {
            throw new ArgumentException($"The share is of {share.Total} connections; the profile has {profile.Connections}.", nameof(share));
        }

        _profile = profile;
        _share = share;
        _random = new TrafficRandom(seed);
        int n = share?.Slots.Count ?? profile.Connections;

        // A part with connections but a share that rounds to nothing still sends (1 pps), not unpaced.
        _ratePps = share is null || profile.RatePps == 0 ? profile.RatePps : Math.Max(n == 0 ? 0 : 1, share.ShareOf(profile.RatePps));
        _connections = new TrafficConnection[n];
        _byInitiator = new Dictionary<ulong, int>(n);
        _activity = new ActivityList(n);

        // Lockstep exchanges queue at most two segments per connection on one host.
        _queues = [new TransmitQueue((2 * n) + PacketBatch.MaxSize), new TransmitQueue((2 * n) + PacketBatch.MaxSize)];
        _scratch = new byte[profile.Mtu + FrameWriter.EthLength];
        _payload = new byte[profile.Mtu];
        for (int i = 0; i < _payload.Length; i++)
        {
            _payload[i] = (byte)('a' + (i % 26));
        }

        _timeoutNs = profile.ConnectionTimeout.Ticks * 100;
        _mss = (ushort)Math.Min(profile.Mtu - FrameWriter.Ipv4Length - FrameWriter.TcpLength, ushort.MaxValue);
        _clientLanes = Lanes(profile.Connections, profile.ClientNetwork);
        _serverLanes = Lanes(profile.Connections, profile.ServerNetwork);
        for (int slot = 0; slot < n; slot++)
        {
            Start(slot, 0);
        }
    }

    public TrafficProfile Profile => _profile;

    public TrafficStats Stats { get; } = new();

    /// <summary>Connections alive now (always <see cref="TrafficProfile.Connections"/>, or the share's: every ended one is replaced).</summary>
    public int ActiveConnections => _byInitiator.Count;

    /// <summary>Frames the host behind <paramref name="port"/> has queued and not yet handed out.</summary>
    public int Queued(uint port) => QueueOf(port).Count;

    /// <summary>
    /// Adds to <paramref name="batch"/> (up to its capacity of 32) the next frames the host behind
    /// <paramref name="port"/> sends: connection openings, requests and replies that are due, in
    /// order, limited by the profile's rate. Packets come from <paramref name="pool"/> (fewer frames
    /// when it runs dry) and carry <paramref name="port"/> as in_port. Also gives up connections
    /// idle for longer than the timeout.
    /// </summary>
    /// <returns>The number of frames added.</returns>
    public int Fill(uint port, PacketBatch batch, IPacketPool pool, long nowNs)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(pool);
        var queue = QueueOf(port);
        Expire(nowNs);

        long budget = PacketBatch.MaxSize - batch.Count;
        ref var pacer = ref _pacers[port - 1];
        if (_ratePps > 0)
        {
            budget = Math.Min(budget, pacer.Due(nowNs, _ratePps));
        }

        int added = 0;
        while (added < budget && queue.Count > 0)
        {
            var segment = queue.Peek();
            ref var c = ref _connections[segment.Slot];
            if (c.Generation != segment.Generation)
            {
                queue.Dequeue();
                continue;
            }

            if (!pool.TryRent(out var packet))
            {
                break;
            }

            queue.Dequeue();
            c.Queued--;
            bool fromInitiator = port == c.InitiatorPort;
            int length = Write(ref c, fromInitiator, segment.Kind);
            packet.SetFrame(_scratch.AsSpan(0, length), port);
            batch.Add(packet);
            added++;
            Stats.RecordGenerated(port, length, !fromInitiator);
            _activity.Touch(segment.Slot, nowNs);
        }

        if (_ratePps > 0)
        {
            pacer.Sent(added);
            if (queue.Count == 0)
            {
                pacer.Forfeit(nowNs, _ratePps);
            }
        }

        return added;
    }

    /// <summary>Gives up connections idle for longer than the timeout (also done by <see cref="Fill"/>).</summary>
    public void Expire(long nowNs)
    {
        for (int i = 0; i < MaxExpiriesPerCall && _activity.TryPeekOldest(out int slot, out long lastNs) && nowNs - lastNs >= _timeoutNs; i++)
        {
            ref var c = ref _connections[slot];
            if (c.Queued > 0)
            {
                // Waiting for its own host to be given a turn (pacing, a slow caller), not for the network.
                _activity.Touch(slot, nowNs);
                continue;
            }

            Stats.RecordTimedOut(c.Protocol);
            Replace(slot, nowNs);
        }
    }

    /// <summary>Ends the connection in <paramref name="slot"/> and starts a new one there.</summary>
    private void Replace(int slot, long nowNs)
    {
        ref var c = ref _connections[slot];
        _byInitiator.Remove(InitiatorKey(c.Protocol, c.InitiatorIp, c.InitiatorL4));
        Start(slot, nowNs);
    }

    /// <summary>Opens a new connection in <paramref name="slot"/>: draws its kind and queues its first frame.</summary>
    private void Start(int slot, long nowNs)
    {
        ref var c = ref _connections[slot];
        int generation = c.Generation + 1;
        c = default;
        c.Generation = generation;

        uint draw = _random.NextBelow(100);
        c.Protocol = draw < (uint)_profile.TcpPercent ? TrafficProtocol.Tcp
            : draw < (uint)(_profile.TcpPercent + _profile.UdpPercent) ? TrafficProtocol.Udp
            : TrafficProtocol.Icmp;
        bool fromServer = _random.Chance(_profile.ServerInitiatedPercent);
        c.InitiatorPort = fromServer ? ServerPort : ClientPort;
        c.ResponderCloses = _random.Chance(50);
        c.Reset = c.Protocol == TrafficProtocol.Tcp && _random.Chance(_profile.ResetPercent);

        // Addresses and port lanes come from the profile's slot: a split generator's parts never share one.
        int profileSlot = _share is null ? slot : _share.Slots[slot];
        var initiatorNet = fromServer ? _profile.ServerNetwork : _profile.ClientNetwork;
        var responderNet = fromServer ? _profile.ClientNetwork : _profile.ServerNetwork;
        c.InitiatorIp = initiatorNet.Host(profileSlot);
        c.ResponderIp = responderNet.Host(profileSlot);
        ushort servicePort = c.Protocol == TrafficProtocol.Tcp ? _profile.TcpServicePort : _profile.UdpServicePort;
        c.InitiatorL4 = AllocatePort(profileSlot, generation, c.Protocol, c.InitiatorIp, initiatorNet.HostCount, fromServer ? _serverLanes : _clientLanes, c.ResponderIp, servicePort);
        c.ResponderL4 = c.Protocol == TrafficProtocol.Icmp ? c.InitiatorL4 : servicePort;
        c.InitiatorSeq = (uint)_random.Next();
        c.ResponderSeq = (uint)_random.Next();
        _byInitiator.Add(InitiatorKey(c.Protocol, c.InitiatorIp, c.InitiatorL4), slot);

        Stats.RecordOpened(c.Protocol);
        Enqueue(slot, c.InitiatorPort, c.Protocol == TrafficProtocol.Tcp ? SegmentKind.Syn : SegmentKind.Data);
        _activity.Touch(slot, nowNs);
    }

    /// <summary>
    /// An initiator port no live connection of the same initiator address uses: slots sharing an
    /// address start in distinct lanes and step through the range by the number of lanes, so a
    /// slot's ports repeat only after about 64512 / lanes connections; a rare clash is probed past.
    /// A part of a split generator also probes past ports that would put the connection in another
    /// part's queues (one in every few, as many as there are parts).
    /// </summary>
    private ushort AllocatePort(int slot, int generation, TrafficProtocol protocol, uint ip, int hosts, int lanes, uint responderIp, ushort servicePort)
    {
        long start = (slot / hosts) + ((long)lanes * generation);
        int offset = (int)(start % EphemeralPorts);
        for (int i = 0; i < EphemeralPorts; i++)
        {
            ushort port = (ushort)(FirstEphemeralPort + ((offset + i) % EphemeralPorts));
            if (port != _profile.UdpServicePort
                && !_byInitiator.ContainsKey(InitiatorKey(protocol, ip, port))
                && (_share is null || _share.Owns(protocol, ip, port, responderIp, protocol == TrafficProtocol.Icmp ? port : servicePort)))
            {
                return port;
            }
        }

        return ThrowNoPort();
    }

    private void Enqueue(int slot, uint port, SegmentKind kind)
    {
        ref var c = ref _connections[slot];
        if (QueueOf(port).TryEnqueue(new QueuedSegment(slot, c.Generation, kind)))
        {
            c.Queued++;
        }
        else
        {
            Stats.RecordQueueOverflow();
        }
    }

    private TransmitQueue QueueOf(uint port)
    {
        if (port - 1 > 1)
        {
            ThrowPort(port);
        }

        return _queues[port - 1];
    }

    private static ulong InitiatorKey(TrafficProtocol protocol, uint ip, ushort port) =>
        ((ulong)protocol << 48) | ((ulong)ip << 16) | port;

    private static int Lanes(int connections, Ipv4Network network)
    {
        int hosts = network.HostCount;
        int lanes = (connections + hosts - 1) / hosts;
        if (lanes > EphemeralPorts)
        {
            throw new ArgumentException($"TrafficProfile.Connections: {connections} connections need more than {hosts} addresses in {network}.", nameof(connections));
        }

        return lanes;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowPort(uint port) =>
        throw new ArgumentOutOfRangeException(nameof(port), port, "The generator's hosts are behind ports 1 and 2.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ushort ThrowNoPort() =>
        throw new InvalidOperationException("No free initiator port.");
}
