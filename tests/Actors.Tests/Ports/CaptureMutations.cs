using Datapath.Packets.Pcap;

namespace Actors.Tests.Ports;

/// <summary>One frame of a capture: its bytes and its timestamp (ns).</summary>
internal sealed record CapturedFrame(byte[] Bytes, long TimestampNs);

/// <summary>
/// Seeded damage to a real capture, of the kinds real captures have: gaps in time (longer than
/// conntrack's and reassembly's timeouts or not), timestamps that step back (once, or for good),
/// duplicated frames, neighbours swapped, frames lost. The same seed gives the same capture.
/// </summary>
internal static class CaptureMutations
{
    // Around the timeouts that matter: reassembly 15 s, ICMP/UDP 30 and 60 s, TCP SYN 30 s, TIME_WAIT 45 s.
    private static readonly long[] GapsMs = [2_000, 14_000, 16_000, 20_000, 29_000, 31_000, 46_000, 61_000, 200_000];

    public static List<CapturedFrame> Read(string path)
    {
        using var reader = PcapReader.Open(path);
        var frames = new List<CapturedFrame>();
        while (reader.TryReadNext(out var header))
        {
            frames.Add(new CapturedFrame(reader.CurrentFrame.ToArray(), header.TimestampNs));
        }

        return frames;
    }

    /// <summary>A window of at most <paramref name="maxFrames"/> frames of <paramref name="frames"/>, damaged.</summary>
    public static List<CapturedFrame> Apply(IReadOnlyList<CapturedFrame> frames, Random random, int maxFrames)
    {
        int start = frames.Count <= maxFrames ? 0 : random.Next(frames.Count - maxFrames);
        var window = frames.Skip(start).Take(maxFrames).ToList();
        var result = new List<CapturedFrame>(window.Count + 16);
        long offsetNs = 0;
        for (int i = 0; i < window.Count; i++)
        {
            var frame = window[i];
            double roll = random.NextDouble();
            if (roll < 0.04)
            {
                offsetNs += GapsMs[random.Next(GapsMs.Length)] * 1_000_000;
            }
            else if (roll < 0.06)
            {
                // From here on the clock is behind (a capture merged from two hosts, a clock step).
                offsetNs -= random.Next(1, 40_000) * 1_000_000L;
            }

            long time = Math.Max(0, frame.TimestampNs + offsetNs);
            roll = random.NextDouble();
            if (roll < 0.03)
            {
                // One frame stamped in the past.
                result.Add(frame with { TimestampNs = Math.Max(0, time - (random.Next(1, 40_000) * 1_000_000L)) });
            }
            else if (roll < 0.05)
            {
                result.Add(frame with { TimestampNs = time });
                result.Add(frame with { TimestampNs = time + random.Next(0, 3) * 1_000_000L });
            }
            else if (roll < 0.08 && i + 1 < window.Count)
            {
                var next = window[++i];
                result.Add(next with { TimestampNs = Math.Max(0, next.TimestampNs + offsetNs) });
                result.Add(frame with { TimestampNs = time });
            }
            else if (roll >= 0.09)
            {
                result.Add(frame with { TimestampNs = time });
            }
        }

        return result;
    }

    /// <summary>The frames as a classic pcap (nanosecond resolution) in memory, for a reader.</summary>
    public static MemoryStream ToPcap(IEnumerable<CapturedFrame> frames)
    {
        var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream, PcapResolution.Nanoseconds, leaveOpen: true))
        {
            foreach (var frame in frames)
            {
                writer.Write(frame.Bytes, frame.TimestampNs);
            }
        }

        stream.Position = 0;
        return stream;
    }
}
