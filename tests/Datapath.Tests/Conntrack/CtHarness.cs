using Datapath.Actions;
using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Tests.Support;

namespace Datapath.Tests.Conntrack;

/// <summary>A connection table driven with frames: extract, parse, execute, as a PMD and a shard would.</summary>
internal sealed class CtHarness
{
    public const string H1 = "10.0.0.1";
    public const string H2 = "10.0.0.2";
    public const string H1v6 = "fd00::1";
    public const string H2v6 = "fd00::2";

    public CtHarness(ConntrackOptions? options = null)
    {
        Table = new ConnectionTable(options ?? Defaults.ConntrackOptions);
    }

    public ConnectionTable Table { get; }

    /// <summary>Virtual time in milliseconds, used by <see cref="Send"/>.</summary>
    public long Now { get; set; } = 1_000;

    public ConntrackResult Send(byte[] frame, bool commit = true, ushort zone = 0, uint mark = 0, uint markMask = 0, UInt128 label = default, UInt128 labelMask = default)
    {
        var args = new ConntrackArgs { Zone = zone, Commit = commit, Mark = mark, MarkMask = markMask, Label = label, LabelMask = labelMask };
        return Table.Execute(Parse(frame, zone), in args, Now);
    }

    public CtState State(byte[] frame, bool commit = true, ushort zone = 0) => Send(frame, commit, zone).State;

    public static ConntrackInput Parse(byte[] frame, ushort zone = 0, in PacketMetadata metadata = default)
    {
        var packet = new Packet();
        packet.SetFrame(frame, 1);
        packet.Metadata = metadata;
        var key = default(FlowKey);
        FlowExtractor.Extract(packet, ref key, new ExtractionStats());
        ConntrackInput.TryParse(packet, in key, zone, out var input);
        return input;
    }

    public static CtState S(string flags)
    {
        var state = CtState.None;
        foreach (string f in flags.Split('|', StringSplitOptions.RemoveEmptyEntries))
        {
            state |= f switch
            {
                "new" => CtState.New,
                "est" => CtState.Established,
                "rel" => CtState.Related,
                "rpl" => CtState.Reply,
                "inv" => CtState.Invalid,
                "trk" => CtState.Tracked,
                _ => throw new ArgumentException(f),
            };
        }

        return state;
    }
}
