using System.Text;
using Datapath.Packets;

namespace Datapath.Tests.Packets;

public class Crc32cTests
{
    [Fact]
    public void Compute_gives_the_standard_check_value()
    {
        // The CRC-32C catalogue check value: CRC of the ASCII digits 1 to 9.
        Assert.Equal(0xE3069283u, Crc32c.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Compute_matches_the_test_vectors_of_RFC_3720()
    {
        // RFC 3720 appendix B.4 lists the CRC as it appears on the wire (least significant byte first).
        byte[] zeros = new byte[32];
        byte[] ones = Enumerable.Repeat((byte)0xFF, 32).ToArray();
        byte[] ascending = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        byte[] descending = Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray();

        Assert.Equal(0x8A9136AAu, Crc32c.Compute(zeros));
        Assert.Equal(0x62A8AB43u, Crc32c.Compute(ones));
        Assert.Equal(0x46DD794Eu, Crc32c.Compute(ascending));
        Assert.Equal(0x113FDB5Cu, Crc32c.Compute(descending));
    }

    [Fact]
    public void The_SCTP_field_holds_the_CRC_least_significant_byte_first()
    {
        byte[] field = new byte[4];
        Crc32c.WriteSctp(field, 0x8A9136AA);

        Assert.Equal(new byte[] { 0xAA, 0x36, 0x91, 0x8A }, field);
        Assert.Equal(0x8A9136AAu, Crc32c.ReadSctp(field));
    }
}
