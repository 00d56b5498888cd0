using Actors.Pmd;
using System.Buffers.Binary;
using Actors.Bridge;
using Akka.Actor;
using Akka.Event;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Wire;

namespace Actors.OpenFlow;

/// <summary>
/// One OpenFlow connection (Open vSwitch's ofconn): negotiates the version in hello, decodes each
/// message, asks the bridge for what needs the table or the ports, and answers in the connection's
/// version; forwards the bridge's packet_in, flow_removed and port_status as the connection asked
/// (role, asynchronous configuration, miss_send_len, packet-in and flow formats). Requests are
/// answered strictly in order (one bridge question at a time, the rest queued), so a barrier reply
/// follows every earlier reply. A malformed request gets an OpenFlow error; a broken framing,
/// a failed hello or an unanswered echo closes the connection. Never blocks: the bridge answers by
/// message and the transport queues.
/// </summary>
public sealed class OpenFlowConnectionActor : ReceiveActor, IWithTimers
{
    /// <summary>Tables 0..254, as the text syntax allows.</summary>
    public const byte Tables = FlowEntry.MaxTable + 1;

    private const ushort DefaultMissSendLength = 128;

    private readonly IActorRef _bridge;
    private readonly IOpenFlowTransport _transport;
    private readonly OpenFlowConnectionSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<byte[]> _queue = new();
    private byte _version;
    private byte[]? _inProgress;
    private uint _inProgressXid;
    private Func<object, bool>? _onAnswer;
    private bool _nxmFlowFormat;
    private bool _tableIdExtension;
    private bool _nxtPacketIn;
    private ushort _missSendLength;
    private ushort _controllerId;
    private uint _role = 1;
    private ulong _generation;
    private uint[] _packetInMask = [0x7, 0x0];
    private uint[] _portStatusMask = [0x7, 0x7];
    private uint[] _flowRemovedMask = [0xf, 0x0];
    private DateTimeOffset _lastHeard;
    private bool _echoOutstanding;
    private long _asyncDropped;
    private bool _wantsMisses;

    public OpenFlowConnectionActor(IActorRef bridge, IOpenFlowTransport transport, OpenFlowConnectionSettings settings)
    {
        _bridge = bridge;
        _transport = transport;
        _settings = settings;
        _missSendLength = settings.Kind == OpenFlowConnectionKind.Primary ? DefaultMissSendLength : (ushort)0;
        Receive<OpenFlowReceived>(m => Received(m.Message));
        Receive<OpenFlowClosed>(m =>
        {
            _log.Info("OpenFlow {0}: closed ({1}).", _settings.Name, m.Reason);
            Context.Stop(Self);
        });
        Receive<Probe>(_ => HandleProbe());
        Receive<RequestTimedOut>(t => AnswerTimedOut(t.Xid));
        Receive<PacketToController>(HandlePacketIn);
        Receive<FlowRemovedNotice>(HandleFlowRemoved);
        Receive<PortStatusNotice>(HandlePortStatus);
        ReceiveAny(Answer);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Asynchronous messages dropped because the peer did not read fast enough.</summary>
    public long AsyncDropped => _asyncDropped;

    public static Props Props(IActorRef bridge, IOpenFlowTransport transport, OpenFlowConnectionSettings settings) =>
        Akka.Actor.Props.Create(() => new OpenFlowConnectionActor(bridge, transport, settings));

    protected override void PreStart()
    {
        _lastHeard = Now;
        _transport.Send(OfpEncoder.Hello(OfpVersion.Of15, OfpVersion.Supported));
        Timers.StartPeriodicTimer(nameof(Probe), Probe.Instance, _settings.ProbeInterval / 2);
    }

    protected override void PostStop() => _transport.Close();

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    private void Received(byte[] message)
    {
        _lastHeard = Now;
        _echoOutstanding = false;
        if (_inProgress is not null || _queue.Count > 0)
        {
            if (_queue.Count >= _settings.MaxQueuedRequests)
            {
                Close($"more than {_settings.MaxQueuedRequests} requests waiting for their answers");
                return;
            }

            _queue.Enqueue(message);
            return;
        }

        Handle(message);
    }

    /// <summary>Handles queued requests until one needs the bridge's answer.</summary>
    private void Drain()
    {
        while (_inProgress is null && _queue.TryDequeue(out var next))
        {
            Handle(next);
        }
    }

    private void Handle(byte[] message)
    {
        byte version = message[0];
        byte type = message[1];
        uint xid = BinaryPrimitives.ReadUInt32BigEndian(message.AsSpan(4));
        if (_version == 0 && type != 0)
        {
            _transport.Send(OfpEncoder.Error(OfpVersion.Of10, xid, OfpErrorKind.HelloIncompatible, message));
            Close("the first message was not a hello");
            return;
        }

        if (_version != 0 && type != 0 && version != _version)
        {
            _transport.Send(OfpEncoder.Error(_version, xid, OfpErrorKind.BadRequestVersion, message));
            return;
        }

        OfpMessage decoded;
        try
        {
            decoded = OfpDecoder.Decode(message, _tableIdExtension);
        }
        catch (OfpException e)
        {
            _log.Debug("OpenFlow {0}: refused xid {1}: {2}", _settings.Name, xid, e.Message);
            _transport.Send(OfpEncoder.Error(_version == 0 ? OfpVersion.Of10 : _version, xid, e.Kind, message));
            return;
        }

        try
        {
            Dispatch(decoded, message);
        }
        catch (OfpException e)
        {
            _transport.Send(OfpEncoder.Error(_version, xid, e.Kind, message));
        }
    }

    private void Dispatch(OfpMessage message, byte[] raw)
    {
        uint xid = message.Xid;
        switch (message)
        {
            case HelloMessage hello:
                Negotiate(hello);
                return;
            case EchoRequest echo:
                _transport.Send(OfpEncoder.EchoReply(_version, xid, echo.Payload));
                return;
            case EchoReply:
                return;
            case ErrorMessage error:
                _log.Info("OpenFlow {0}: peer reports error type {1} code {2} (xid {3}).", _settings.Name, error.Type, error.Code, xid);
                return;
            case FeaturesRequest:
                Ask(raw, DescribePorts.Instance, answer =>
                {
                    if (answer is not PortsDescribed ports)
                    {
                        return false;
                    }

                    _transport.Send(OfpEncoder.FeaturesReply(_version, xid, ports.DatapathId, Tables, ports.Ports));
                    return true;
                });
                return;
            case GetConfigRequest:
                _transport.Send(OfpEncoder.GetConfigReply(_version, xid, 0, _missSendLength));
                return;
            case SetConfig config:
                if ((config.Flags & 3) != 0)
                {
                    throw new OfpException(OfpErrorKind.SwitchConfigBadFlags, "only frags=normal is supported");
                }

                _missSendLength = config.MissSendLength;
                UpdateMissesWanted();
                return;
            case BarrierRequest:
                _transport.Send(OfpEncoder.BarrierReply(_version, xid));
                return;
            case FlowMod mod:
                HandleFlowMod(mod, raw);
                return;
            case PacketOut packetOut:
                RefuseSlave();
                _bridge.Tell(new InjectPacket(packetOut.Frame, packetOut.InPort, packetOut.Actions));
                return;
            case FlowStatsRequest stats:
                HandleFlowStats(stats, raw);
                return;
            case SimpleStatsRequest simple:
                HandleSimpleStats(simple, raw);
                return;
            case PortStatsRequest portStats:
                Ask(raw, DescribePorts.Instance, answer =>
                {
                    if (answer is not PortsDescribed ports)
                    {
                        return false;
                    }

                    var selected = ports.Counters.Where(c => portStats.Port is OfpPort.Any or 0xffff || c.Number == portStats.Port).ToArray();
                    _transport.Send(OfpEncoder.PortStatsReply(_version, xid, selected));
                    return true;
                });
                return;
            case SetFlowFormat format:
                if (_version != OfpVersion.Of10 || format.Format is not (Nicira.FlowFormatOpenFlow10 or Nicira.FlowFormatNxm))
                {
                    throw new OfpException(OfpErrorKind.BadRequestEperm, $"flow format {format.Format} is not supported in {OfpVersion.Name(_version)}");
                }

                _nxmFlowFormat = format.Format == Nicira.FlowFormatNxm;
                return;
            case FlowModTableId tableId:
                _tableIdExtension = tableId.Enable;
                return;
            case SetPacketInFormat packetIn:
                if (packetIn.Format is not (Nicira.PacketInStandard or Nicira.PacketInNxt))
                {
                    throw new OfpException(OfpErrorKind.BadRequestEperm, "NXT_PACKET_IN2 is not supported (standard and NXT_PACKET_IN are)");
                }

                _nxtPacketIn = packetIn.Format == Nicira.PacketInNxt;
                return;
            case SetControllerId id:
                _controllerId = id.Id;
                return;
            case RoleRequest role:
                if (role.Role > 3)
                {
                    throw new OfpException(OfpErrorKind.RoleRequestBadRole, $"unknown role {role.Role}");
                }

                if (role.Role != 0)
                {
                    _role = role.Role;
                    _generation = role.GenerationId;
                    UpdateMissesWanted();
                }

                _transport.Send(OfpEncoder.RoleReply(_version, xid, _role, _generation, role.Nicira));
                return;
            case GetAsyncRequest:
                _transport.Send(OfpEncoder.GetAsyncReply(_version, xid, _packetInMask, _portStatusMask, _flowRemovedMask));
                return;
            case SetAsync async:
                _packetInMask = async.PacketInMask;
                _portStatusMask = async.PortStatusMask;
                _flowRemovedMask = async.FlowRemovedMask;
                if (_settings.Kind == OpenFlowConnectionKind.Service && _missSendLength == 0)
                {
                    _missSendLength = DefaultMissSendLength;
                }

                return;
            default:
                throw new OfpException(OfpErrorKind.BadRequestType, "not supported: " + message.GetType().Name);
        }
    }

    private void Negotiate(HelloMessage hello)
    {
        if (_version != 0)
        {
            return;
        }

        uint common = hello.Versions & OfpVersion.Supported;
        if (common == 0)
        {
            byte errorVersion = OfpVersion.IsSupported(hello.Version) ? hello.Version : OfpVersion.Of10;
            _transport.Send(OfpEncoder.Error(errorVersion, hello.Xid, OfpErrorKind.HelloIncompatible, "no common OpenFlow version"u8));
            Close($"no common version (peer offers 0x{hello.Versions:x})");
            return;
        }

        _version = (byte)(31 - uint.LeadingZeroCount(common));
        _log.Info("OpenFlow {0}: negotiated {1}.", _settings.Name, OfpVersion.Name(_version));
        _bridge.Tell(new SubscribeOpenFlow(Self));
        UpdateMissesWanted();
    }

    /// <summary>
    /// OpenFlow 1.0-1.2 controllers get table misses (Open vSwitch's default for those versions): a
    /// connection to a controller, or a client that asked for packet-ins with miss_send_len (so that
    /// ovs-ofctl's own short connections do not change what the datapath does with misses).
    /// </summary>
    private void UpdateMissesWanted()
    {
        bool want = _version is >= OfpVersion.Of10 and <= OfpVersion.Of12 && _role != 3
            && (_settings.Kind == OpenFlowConnectionKind.Primary || _missSendLength > 0);
        if (want != _wantsMisses)
        {
            _wantsMisses = want;
            _bridge.Tell(new WantTableMisses(Self, want));
        }
    }

    private void HandleFlowMod(FlowMod mod, byte[] raw)
    {
        RefuseSlave();
        if (mod.BufferId != uint.MaxValue)
        {
            throw new OfpException(OfpErrorKind.BadRequestBufferUnknown, $"buffer {mod.BufferId}: this switch buffers no packets");
        }

        if (mod.Command == FlowModCommand.Add && mod.Table == 255 && mod.Version != OfpVersion.Of10)
        {
            throw new OfpException(OfpErrorKind.FlowModBadTableId, "add to table 255");
        }

        Ask(raw, new ApplyFlowMod(mod), answer =>
        {
            switch (answer)
            {
                case FlowModApplied:
                    return true;
                case OpenFlowRefused refused:
                    _log.Debug("OpenFlow {0}: flow_mod xid {1} refused: {2}", _settings.Name, mod.Xid, refused.Message);
                    _transport.Send(OfpEncoder.Error(_version, mod.Xid, refused.Kind, raw));
                    return true;
                default:
                    return false;
            }
        });
    }

    private void HandleFlowStats(FlowStatsRequest request, byte[] raw)
    {
        var filter = new FlowFilter(request.Table == 255 ? null : request.Table, FlowEntry.DefaultPriority, request.Match)
        {
            Cookie = request.Cookie,
            CookieMask = request.CookieMask,
            OutPort = request.OutPort is OfpPort.Any or 0 ? null : request.OutPort,
        };
        Ask(raw, new GetFlowStatistics(filter), answer =>
        {
            if (answer is not FlowStatisticsGathered gathered)
            {
                return false;
            }

            if (request.Aggregate)
            {
                _transport.Send(OfpEncoder.AggregateReply(_version, request.Xid, request.Nicira, gathered.Flows.Sum(f => f.Packets), gathered.Flows.Sum(f => f.Bytes), gathered.Flows.Count));
            }
            else
            {
                foreach (var part in OfpEncoder.FlowStatsReply(_version, request.Xid, request.Nicira, gathered.Flows))
                {
                    _transport.Send(part);
                }
            }

            return true;
        });
    }

    private void HandleSimpleStats(SimpleStatsRequest request, byte[] raw)
    {
        uint xid = request.Xid;
        switch (request.Kind)
        {
            case StatsKind.Description:
                _transport.Send(OfpEncoder.DescriptionReply(_version, xid, typeof(OpenFlowConnectionActor).Assembly.GetName().Version?.ToString() ?? "0"));
                return;
            case StatsKind.TableFeatures:
                foreach (var part in OfpEncoder.TableFeaturesReply(_version, xid, Tables))
                {
                    _transport.Send(part);
                }

                return;
            case StatsKind.Table:
                if (_version is OfpVersion.Of11 or OfpVersion.Of12)
                {
                    throw new OfpException(OfpErrorKind.BadRequestMultipart, "table statistics are answered in OpenFlow 1.0 and 1.3+");
                }

                Ask(raw, new GetFlowStatistics(FlowFilter.All), answer =>
                {
                    if (answer is not FlowStatisticsGathered gathered)
                    {
                        return false;
                    }

                    _transport.Send(OfpEncoder.TableStatsReply(_version, xid, gathered.Tables));
                    return true;
                });
                return;
            case StatsKind.PortDescription:
                Ask(raw, DescribePorts.Instance, answer =>
                {
                    if (answer is not PortsDescribed ports)
                    {
                        return false;
                    }

                    _transport.Send(OfpEncoder.PortDescriptionReply(_version, xid, ports.Ports));
                    return true;
                });
                return;
            default:
                throw new OfpException(OfpErrorKind.BadRequestMultipart, $"statistics {request.Kind} are not supported");
        }
    }

    private void RefuseSlave()
    {
        if (_role == 3)
        {
            throw new OfpException(OfpErrorKind.BadRequestEperm, "a slave controller may not change the switch");
        }
    }

    /// <summary>Sends <paramref name="question"/> to the bridge; later messages wait until <paramref name="onAnswer"/> accepts its answer.</summary>
    private void Ask(byte[] raw, object question, Func<object, bool> onAnswer)
    {
        _inProgress = raw;
        _inProgressXid = BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan(4));
        _onAnswer = onAnswer;
        _bridge.Tell(question);
        Timers.StartSingleTimer(nameof(RequestTimedOut), new RequestTimedOut(_inProgressXid), _settings.RequestTimeout ?? TimeSpan.FromSeconds(30));
    }

    private void Answer(object message)
    {
        if (_onAnswer is null || !_onAnswer(message))
        {
            Unhandled(message);
            return;
        }

        Timers.Cancel(nameof(RequestTimedOut));
        _inProgress = null;
        _onAnswer = null;
        Drain();
    }

    private void AnswerTimedOut(uint xid)
    {
        if (_inProgress is null || xid != _inProgressXid)
        {
            return;
        }

        _transport.Send(OfpEncoder.Error(_version, xid, OfpErrorKind.BadRequestEperm, _inProgress));
        _inProgress = null;
        _onAnswer = null;
        Drain();
    }

    private void HandlePacketIn(PacketToController message)
    {
        var p = message.Message;
        bool service = _settings.Kind == OpenFlowConnectionKind.Service;
        if (_version == 0 || _role == 3 || message.ControllerId != _controllerId || (service && _missSendLength == 0)
            || (_packetInMask[0] & (1u << (int)p.Reason)) == 0)
        {
            return;
        }

        if (message.TableMiss && _version > OfpVersion.Of12)
        {
            return;
        }

        // A miss carries miss_send_len bytes (OFPCML_NO_BUFFER, 65535: all), an action its own max_len.
        ushort maxLength = message.TableMiss ? _missSendLength : message.MaxLength;
        int length = maxLength == ControllerAction.WholePacket ? p.Frame.Length : Math.Min(p.Frame.Length, (int)maxLength);
        var sent = length == p.Frame.Length ? p : p with { Frame = p.Frame.AsSpan(0, length).ToArray() };
        SendAsync(OfpEncoder.PacketIn(_version, sent, _nxtPacketIn && _version == OfpVersion.Of10));
    }

    private void HandleFlowRemoved(FlowRemovedNotice notice)
    {
        if (_version == 0 || _role == 3 || (_flowRemovedMask[0] & (1u << (int)notice.Message.Reason)) == 0)
        {
            return;
        }

        SendAsync(OfpEncoder.FlowRemoved(_version, notice.Message, _nxmFlowFormat && _version == OfpVersion.Of10));
    }

    private void HandlePortStatus(PortStatusNotice notice)
    {
        int mask = (int)_portStatusMask[_role == 3 ? 1 : 0];
        if (_version != 0 && (mask & (1 << (int)notice.Reason)) != 0)
        {
            SendAsync(OfpEncoder.PortStatus(_version, notice.Reason, notice.Port));
        }
    }

    private void SendAsync(byte[] message)
    {
        if (_transport.QueuedBytes > _settings.MaxQueuedBytes || !_transport.Send(message))
        {
            _asyncDropped++;
        }
    }

    /// <summary>The inactivity probe: an echo request after an idle interval, the connection closed after a second one.</summary>
    private void HandleProbe()
    {
        var idle = Now - _lastHeard;
        if (_echoOutstanding && idle >= 2 * _settings.ProbeInterval)
        {
            Close($"no answer to an echo request for {idle.TotalSeconds:F0} s");
            return;
        }

        if (!_echoOutstanding && idle >= _settings.ProbeInterval && _version != 0)
        {
            _echoOutstanding = true;
            _transport.Send(OfpEncoder.EchoRequest(_version, 0));
        }
    }

    private void Close(string reason)
    {
        _log.Info("OpenFlow {0}: closing: {1}.", _settings.Name, reason);
        _transport.Close();
        Context.Stop(Self);
    }

    private sealed class Probe
    {
        public static Probe Instance { get; } = new();
    }

    private sealed record RequestTimedOut(uint Xid);
}
