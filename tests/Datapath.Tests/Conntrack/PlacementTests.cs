using Datapath.Conntrack;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Packets.Pcap;
using Datapath.Tests.Support;

namespace Datapath.Tests.Conntrack;

/// <summary>
/// A connection's shard is hosted by the PMD its packets reach only if the receive side's hash of a
/// frame equals the shard hash conntrack computes for it: checked on every frame of every capture.
/// </summary>
public sealed class PlacementTests
{
    [Fact]
    public void The_receive_hash_of_every_captured_frame_is_the_shard_hash_of_its_connection_in_any_zone()
    {
        var extraction = new ExtractionStats();
        int checkedFrames = 0;
        foreach (string path in TestData.AllCapturePcaps())
        {
            using var reader = PcapReader.Open(path);
            var packet = new Packet();
            while (reader.TryReadNext(packet, 1, out _))
            {
                var key = default(FlowKey);
                FlowExtractor.Extract(packet, ref key, extraction);
                foreach (ushort zone in new ushort[] { 0, 5 })
                {
                    // Errors are placed by the connection they quote, fragments by their datagram.
                    if (!ConntrackInput.TryParse(packet, in key, zone, out var input) || input.IcmpRelated || key.NwFrag != 0)
                    {
                        continue;
                    }

                    Assert.Equal(ConnectionHash.PlacementHash(in key), input.ShardHash);
                    checkedFrames++;
                }
            }
        }

        Assert.True(checkedFrames > 5000, $"only {checkedFrames} frames checked");
    }
}
