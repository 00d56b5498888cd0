using System.Buffers.Binary;
using System.IO.Hashing;
using Datapath.Actions;
using Datapath.Flow;

namespace Datapath.Conntrack.Nat;

/// <summary>
/// The reply tuples a new translated connection may take, in the order Open vSwitch tries them
/// (lib/conntrack.c nat_get_unique_tuple and nat_get_unique_l4): one address of the range, picked
/// by a hash of the connection (of the client's address alone with <c>persistent</c>); then, for
/// TCP and UDP, ports. Without a port range the first port is the connection's own source port,
/// then the next ones within its class (1-511, 600-1023 or 1024-65535, wrapping); with a range, a
/// hashed (or, with <c>random</c>, random) port of the range, then the next ones. DNAT with a port
/// range searches the destination port first and falls back to the source port. A round tries
/// at most 128 ports; while the range is larger than the round, rounds of 64, 32, 16 and 8 follow
/// from random ports. Other protocols have one candidate: the address alone.
///
/// A resumable value: a caller that must ask elsewhere whether a candidate is free (a conntrack
/// shard that does not own the candidate's bucket) can keep it between questions. The caller
/// reserves the first free one; none free is Open vSwitch's "tuple space exhaustion".
/// </summary>
public struct NatTupleSearch
{
    private const int MaxAttempts = 128;
    private const int MinRoundAttempts = 16;
    private const ushort MinEphemeralPort = 1024;

    private readonly Random _random;
    private readonly bool _portSearch;
    private readonly bool _destinationPorts;
    private ConntrackKey _candidate;
    private int _phase;

    // The current round over one port field (state of OVS's FOR_EACH_PORT_IN_RANGE).
    private bool _searchingDestination;
    private ushort _curr;
    private ushort _min;
    private ushort _max;
    private ushort _orig;
    private int _range;
    private int _attempts;
    private int _tried;
    private int _left;

    // Where the source-port search starts (kept while the destination ports are searched).
    private ushort _sportCurr;
    private ushort _sportMin;
    private ushort _sportMax;

    /// <param name="original">The new connection's original-direction key.</param>
    /// <param name="nat">Its nat(src=...) or nat(dst=...) arguments.</param>
    /// <param name="salt">The table's hash salt (OVS's hash_basis, random per process).</param>
    /// <param name="random">Where <c>random</c> and the later rounds take their random ports.</param>
    public NatTupleSearch(in ConntrackKey original, NatArgs nat, uint salt, Random random)
    {
        ArgumentNullException.ThrowIfNull(nat);
        ArgumentNullException.ThrowIfNull(random);
        _random = random;
        bool source = nat.Kind == NatKind.Source;
        uint addressHash = RangeHash(in original, nat, (nat.Flags & NatFlags.Persistent) != 0 ? 0 : salt, addressOnly: (nat.Flags & NatFlags.Persistent) != 0);
        uint portOffset = (nat.Flags & NatFlags.Random) != 0 ? (uint)random.Next()
            : (nat.Flags & NatFlags.Persistent) != 0 ? RangeHash(in original, nat, salt, addressOnly: false)
            : addressHash;

        _candidate = original.Reverse();
        UInt128 address = PickAddress(in original, nat, addressHash, source);
        if (source)
        {
            _candidate.Dst = address;
        }
        else
        {
            _candidate.Src = address;
        }

        _portSearch = original.Protocol is IpProtocols.Tcp or IpProtocols.Udp;
        _destinationPorts = !source && nat.HasPorts;

        // set_sport_range: the source port's class, unless SNAT has a port range.
        if (!source || !nat.HasPorts)
        {
            _sportCurr = original.SrcPort;
            (_sportMin, _sportMax) = _sportCurr switch
            {
                < 512 => ((ushort)1, (ushort)511),
                < 1024 => ((ushort)600, (ushort)1023),
                _ => (MinEphemeralPort, ushort.MaxValue),
            };
        }
        else
        {
            _sportMin = nat.MinPort;
            _sportMax = Math.Max(nat.MinPort, nat.MaxPort);
            _sportCurr = (ushort)(_sportMin + (portOffset % (uint)(_sportMax - _sportMin + 1)));
        }

        // set_dport_range: DNAT with a port range starts at a hashed port of it.
        ushort dportCurr = original.DstPort;
        if (_destinationPorts)
        {
            ushort dmin = nat.MinPort;
            ushort dmax = Math.Max(nat.MinPort, nat.MaxPort);
            dportCurr = (ushort)(dmin + (portOffset % (uint)(dmax - dmin + 1)));
            StartRound(destination: true, dportCurr, dmin, dmax);
        }
        else
        {
            StartRound(destination: false, _sportCurr, _sportMin, _sportMax);
        }

        if (_portSearch)
        {
            _candidate.SrcPort = dportCurr;
            _candidate.DstPort = _sportCurr;
        }
    }

    /// <summary>The next reply tuple to try, or false when the search is exhausted.</summary>
    public bool TryNext(out ConntrackKey candidate)
    {
        candidate = default;
        if (!_portSearch)
        {
            if (_phase != 0)
            {
                return false;
            }

            _phase = 1;
            candidate = _candidate;
            return true;
        }

        while (_phase < 2)
        {
            if (TryNextPort(out ushort port))
            {
                if (_searchingDestination)
                {
                    _candidate.SrcPort = port;
                }
                else
                {
                    _candidate.DstPort = port;
                }

                candidate = _candidate;
                return true;
            }

            // This field is exhausted: put its first port back and go on with the source port (DNAT).
            if (_searchingDestination)
            {
                _candidate.SrcPort = _orig;
                StartRound(destination: false, _sportCurr, _sportMin, _sportMax);
            }
            else
            {
                _candidate.DstPort = _orig;
                _phase = 2;
            }
        }

        return false;
    }

    private void StartRound(bool destination, ushort curr, ushort min, ushort max)
    {
        _searchingDestination = destination;
        _curr = curr;
        _orig = curr;
        _min = min;
        _max = max;
        _range = max - min + 1;
        _attempts = Math.Min(_range, MaxAttempts);
        NewRound();
    }

    private void NewRound()
    {
        _tried = 0;

        // N_PORT_ATTEMPTS: a first port outside the range (a source port in 512-599) is tried too.
        _left = InRange(_curr) ? _range : _range + 1;
    }

    private bool TryNextPort(out ushort port)
    {
        while (true)
        {
            if (_left > 0 && _tried < _attempts)
            {
                if (_tried > 0)
                {
                    _curr = !InRange(_curr) || _curr == _max ? _min : (ushort)(_curr + 1);
                }

                _tried++;
                _left--;
                port = _curr;
                return true;
            }

            // Another round from a random port, half as long, while the range is larger than a round.
            if (_attempts < _range && _attempts >= MinRoundAttempts)
            {
                _attempts /= 2;
                _curr = (ushort)(_min + _random.Next(_range));
                NewRound();
                continue;
            }

            port = 0;
            return false;
        }
    }

    private readonly bool InRange(ushort port) => port >= _min && port <= _max;

    /// <summary>find_addr: the address of the range the hash picks, or the connection's own when the rule gave none.</summary>
    private static UInt128 PickAddress(in ConntrackKey original, NatArgs nat, uint hash, bool source)
    {
        if (!nat.HasAddress)
        {
            return source ? original.Src : original.Dst;
        }

        UInt128 min = nat.MinAddress;
        UInt128 max = nat.MaxAddress < min ? min : nat.MaxAddress;

        // As OVS, at most 2^32 - 1 addresses of a range are reachable (nat_ipv6_addrs_delta).
        UInt128 delta = max - min;
        ulong span = delta > 0xFFFF_FFFEu ? 0xFFFF_FFFFUL : (ulong)delta + 1;
        return min + (UInt128)(hash % span);
    }

    /// <summary>
    /// nat_range_hash: the range and the connection's endpoints (only its source address when
    /// persistent), family, protocol and zone, salted. Our own hash function: Open vSwitch's salt is
    /// random per process, so no choice inside a range can be reproduced anyway.
    /// </summary>
    private static uint RangeHash(in ConntrackKey key, NatArgs nat, uint salt, bool addressOnly)
    {
        Span<byte> data = stackalloc byte[16 * 4 + 16];
        int n = 0;
        BinaryPrimitives.WriteUInt128BigEndian(data[n..], key.Src);
        n += 16;
        if (!addressOnly)
        {
            BinaryPrimitives.WriteUInt128BigEndian(data[n..], key.Dst);
            n += 16;
            BinaryPrimitives.WriteUInt16BigEndian(data[n..], key.SrcPort);
            BinaryPrimitives.WriteUInt16BigEndian(data[(n + 2)..], key.DstPort);
            n += 4;
        }

        BinaryPrimitives.WriteUInt128BigEndian(data[n..], nat.MinAddress);
        n += 16;
        BinaryPrimitives.WriteUInt128BigEndian(data[n..], nat.MaxAddress);
        n += 16;
        BinaryPrimitives.WriteUInt16BigEndian(data[n..], nat.MinPort);
        BinaryPrimitives.WriteUInt16BigEndian(data[(n + 2)..], nat.MaxPort);
        BinaryPrimitives.WriteUInt16BigEndian(data[(n + 4)..], key.Zone);
        data[n + 6] = key.Protocol;
        data[n + 7] = key.IsIpv6 ? (byte)1 : (byte)0;
        n += 8;
        return XxHash32.HashToUInt32(data[..n], unchecked((int)salt));
    }
}
