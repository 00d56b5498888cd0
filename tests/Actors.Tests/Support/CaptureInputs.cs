using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;

namespace Actors.Tests.Support;

/// <summary>Conntrack inputs made from real captured frames (../shared/captures), as a PMD would make them.</summary>
internal static class CaptureInputs
{
    /// <summary>Every frame of a capture as (input for ct(zone), capture time in ms), in capture order.</summary>
    public static List<(ConntrackInput Input, long TimeMs)> Read(string captureName, ushort zone = 0)
    {
        var list = new List<(ConntrackInput, long)>();
        var stats = new ExtractionStats();
        using var reader = PcapReader.Open(SharedFiles.Capture(captureName));
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
        var lines = File.ReadAllLines(Path.Combine(SharedFiles.Captures, "expected", captureName + ".ct"));
        var states = new string[lines.Length];
        for (int i = 0; i < lines.Length; i++)
        {
            states[i] = lines[i][(lines[i].IndexOf(": ", StringComparison.Ordinal) + 2)..];
        }

        return states;
    }
}
