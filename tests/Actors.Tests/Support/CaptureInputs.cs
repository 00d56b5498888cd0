using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;

namespace Actors.Tests.Support;

/// <summary>Conntrack inputs made from real captured frames (tests/data/captures), as a PMD would make them.</summary>
internal static class CaptureInputs
{
    /// <summary>Every frame of a capture as (input for ct(zone), capture time in ms), in capture order.</summary>
    public static List<(ConntrackInput Input, long TimeMs)> Read(string captureName, ushort zone = 0)
    {
        var list = new List<(ConntrackInput, long)>();
        var stats = new ExtractionStats();
        using var reader = PcapReader.Open(TestData.Capture(captureName));
        var packet = new Packet();
        while (reader.TryReadNext(packet, 1, out var header))
        {
            var key = default(FlowKey);
            FlowExtractor.Extract(packet, ref key, stats);
            ConntrackInput.TryParse(packet, in key, zone, out var input);
            list.Add((input, header.TimestampNs / 1_000_000));
        }

        return list;
    }

    /// <summary>The inputs of frames <paramref name="first"/>..<paramref name="first"/>+<paramref name="count"/>-1 (1-based, as in the .ct files).</summary>
    public static ConntrackInput[] Frames(string captureName, int first, int count, ushort zone = 0)
    {
        var all = Read(captureName, zone);
        var inputs = new ConntrackInput[count];
        for (int i = 0; i < count; i++)
        {
            inputs[i] = all[first - 1 + i].Input;
        }

        return inputs;
    }

    /// <summary>The expected states of a capture, one flags string per frame ("new|trk").</summary>
    public static string[] ExpectedStates(string captureName)
    {
        var lines = File.ReadAllLines(Path.Combine(TestData.Captures, "expected", captureName + ".ct"));
        var states = new string[lines.Length];
        for (int i = 0; i < lines.Length; i++)
        {
            states[i] = lines[i][(lines[i].IndexOf(": ", StringComparison.Ordinal) + 2)..];
        }

        return states;
    }

    /// <summary>The three handshake packets (SYN, SYN-ACK, ACK) of the first <paramref name="count"/> TCP connections of a capture.</summary>
    public static List<(ConntrackInput Syn, ConntrackInput SynAck, ConntrackInput Ack)> Handshakes(string captureName, int count)
    {
        const ushort Syn = 0x02, Ack = 0x10, Flags = 0x3f;
        var inputs = Read(captureName).Select(x => x.Input).Where(i => i.IsValid && i.Key.Protocol == 6).ToList();
        var handshakes = new List<(ConntrackInput, ConntrackInput, ConntrackInput)>();
        for (int i = 0; i < inputs.Count && handshakes.Count < count; i++)
        {
            var syn = inputs[i];
            if ((syn.TcpFlags & Flags) != Syn)
            {
                continue;
            }

            var reply = syn.Key.Reverse();
            int synAck = inputs.FindIndex(i + 1, x => x.Key == reply && (x.TcpFlags & Flags) == (Syn | Ack));
            int ack = synAck < 0 ? -1 : inputs.FindIndex(synAck + 1, x => x.Key == syn.Key && (x.TcpFlags & Flags) == Ack);
            if (ack >= 0)
            {
                handshakes.Add((syn, inputs[synAck], inputs[ack]));
            }
        }

        return handshakes;
    }
}
