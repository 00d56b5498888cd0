using Actors.PacketPath;
using Actors.Bridge;
using Akka.Actor;
using Datapath.Actions;
using Datapath.Flow;
using Datapath.OpenFlow;
using Datapath.OpenFlow.Translation;
using Datapath.OpenFlow.Wire;
using Datapath.Packets;

namespace Actors.Pmd;

/// <summary>
/// The PMD's part in OpenFlow (cold path): packets of controller actions go to the bridge as
/// packet-ins (at most <see cref="ControllerBudget"/> a second, beyond that counted drops), and
/// packet_outs run here: the frame is received into this PMD's pool, its actions translated for
/// its key and executed, conntrack and recirculation included.
/// </summary>
public sealed partial class PmdActor
{
    /// <summary>Packet-ins one PMD sends per second; Open vSwitch bounds its packet-in queue the same way.</summary>
    public const int ControllerBudget = 10_000;

    private readonly List<ActionList> _packetOutActions = [];
    private readonly Datapath.Flow.ExtractionStats _packetOutExtraction = new();
    private IActorRef _controllerTarget = ActorRefs.Nobody;
    private long _controllerDrops;
    private long _packetsInjected;
    private int _controllerSent;
    private DateTimeOffset _controllerSecond;
    private FlowKey _packetOutKey;

    private void ReceiveOpenFlowCommands()
    {
        _transmitter.ToController = SendToController;
        Receive<InjectPacket>(HandleInject);
        Receive<ReleasePacketOuts>(_ => ReleasePacketOutIds());
        Receive<UseMissBehaviour>(m =>
        {
            // The tables' version moves with it: every megaflow is translated again before the next batch.
            _tables.MissToController = m.ToController;
            RequestRevalidation();
        });
    }

    /// <summary>A controller action's packet: a copy with the pipeline fields the packet-in reports.</summary>
    private void SendToController(Packet packet, uint cookie)
    {
        if (!_translator.Controllers.TryGet(cookie, out var userdata) || _controllerTarget.IsNobody())
        {
            _controllerDrops++;
            return;
        }

        var now = Context.System.Scheduler.Now;
        if (now - _controllerSecond >= TimeSpan.FromSeconds(1))
        {
            _controllerSecond = now;
            _controllerSent = 0;
        }

        if (++_controllerSent > ControllerBudget)
        {
            _controllerDrops++;
            return;
        }

        var value = default(OfFlow);
        var mask = default(OfFlow);
        ref readonly var md = ref packet.Metadata;
        value.Key.InPort = md.InPort;
        mask.Key.InPort = uint.MaxValue;
        value.Metadata = userdata.Metadata;
        mask.Metadata = userdata.Metadata == 0 ? 0 : ulong.MaxValue;
        for (int i = 0; i < OfRegisters.Count; i++)
        {
            value.Regs[i] = userdata.Registers[i];
            mask.Regs[i] = userdata.Registers[i] == 0 ? 0 : uint.MaxValue;
        }

        // Conntrack fields as Open vSwitch reports them: only those that are set.
        value.Key.CtState = md.CtState;
        mask.Key.CtState = md.CtState == CtState.None ? CtState.None : (CtState)0xff;
        value.Key.CtZone = md.CtZone;
        mask.Key.CtZone = md.CtZone == 0 ? (ushort)0 : ushort.MaxValue;
        value.Key.CtMark = md.CtMark;
        mask.Key.CtMark = md.CtMark == 0 ? 0 : uint.MaxValue;
        value.Key.CtLabel = md.CtLabel;
        mask.Key.CtLabel = md.CtLabel == UInt128.Zero ? UInt128.Zero : UInt128.MaxValue;
        var message = new PacketInMessage(userdata.Reason, userdata.Table, userdata.Cookie, new OfMatch(in value, in mask), packet.Data.ToArray(), packet.Length);
        _controllerTarget.Tell(new PacketToController(message, userdata.ControllerId, userdata.MaxLength, userdata.TableMiss));
    }

    /// <summary>packet_out: the frame runs through its actions on this PMD (OFPP_TABLE: the tables from 0).</summary>
    private void HandleInject(InjectPacket message)
    {
        if (!_core.TryReceive(message.Frame, message.InPort, out var packet))
        {
            return;
        }

        _packetsInjected++;
        FlowExtractor.Extract(packet, ref _packetOutKey, _packetOutExtraction);
        var result = _translator.TranslatePacketOut(in _packetOutKey, message.Actions);
        if (_packetOutActions.Count == 0)
        {
            Timers.StartSingleTimer(nameof(ReleasePacketOuts), ReleasePacketOuts.Instance, _settings.RevalidateInterval);
        }

        _packetOutActions.Add(result.Actions);
        _core.Execute(packet, result.Actions, CurrentMs());
        AfterWork();
    }

    /// <summary>
    /// The recirculation ids a packet_out's actions hold are released once no conntrack answer is
    /// outstanding (its packets may still need them until then), as megaflows release theirs.
    /// </summary>
    private void ReleasePacketOutIds()
    {
        if (_core.OutstandingConntrack != 0)
        {
            Timers.StartSingleTimer(nameof(ReleasePacketOuts), ReleasePacketOuts.Instance, _settings.RevalidateInterval);
            return;
        }

        foreach (var actions in _packetOutActions)
        {
            _translator.Recirc.ReleaseAll(actions);
        }

        _packetOutActions.Clear();
    }

    private sealed class ReleasePacketOuts
    {
        public static ReleasePacketOuts Instance { get; } = new();
    }
}
