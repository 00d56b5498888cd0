using Datapath.Packets;

namespace Datapath.Tests.Packets;

/// <summary>Addresses as typed in flow text and dpctl arguments: the spellings ovs-ofctl reads, and none of the looser ones the runtime's parser also takes.</summary>
public sealed class AddressTextTests
{
    [Theory]
    [InlineData("10.0.0.1", 0x0A00_0001u)]
    [InlineData("010.001.000.001", 0x0A01_0001u)] // Leading zeros are decimal (ovs-ofctl: 010.1.1.1 is 10.1.1.1), not octal.
    [InlineData("255.255.255.255", 0xFFFF_FFFFu)]
    [InlineData("0.0.0.0", 0u)]
    public void Four_decimal_parts_are_an_IPv4_address(string text, uint expected)
    {
        Assert.True(AddressText.TryParseIpv4(text, out uint address));
        Assert.Equal(expected, address);
    }

    [Theory]
    [InlineData("10.1")] // inet_aton would read 10.0.0.1.
    [InlineData("167772161")] // inet_aton would read 10.0.0.1.
    [InlineData("10.0.0.256")]
    [InlineData("10.0.0.0001")]
    [InlineData("10.0.0.")]
    [InlineData("10..0.1")]
    [InlineData("10.0.0.1.5")]
    [InlineData(" 10.0.0.1")]
    [InlineData("+10.0.0.1")]
    [InlineData("0x0a.0.0.1")]
    [InlineData("::1")]
    public void Other_spellings_are_not(string text)
    {
        Assert.False(AddressText.TryParseIpv4(text, out uint address));
        Assert.Equal(0u, address);
    }

    [Theory]
    [InlineData("fd00::1", "fd00:0000:0000:0000:0000:0000:0000:0001")]
    [InlineData("::ffff:10.0.0.1", "0000:0000:0000:0000:0000:ffff:0a00:0001")]
    [InlineData("FE80::A", "fe80:0000:0000:0000:0000:0000:0000:000a")]
    public void Hex_colons_and_dots_are_an_IPv6_address(string text, string expected)
    {
        Assert.True(AddressText.TryParseIpv6(text, out UInt128 address));
        Assert.Equal(UInt128.Parse(expected.Replace(":", "", StringComparison.Ordinal), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture), address);
    }

    [Theory]
    [InlineData("[fd00::1]")] // Brackets belong to nat()'s port syntax, not to the address.
    [InlineData("fe80::1%eth0")] // The runtime drops the scope silently.
    [InlineData("fe80::1%1")]
    [InlineData("10.0.0.1")]
    [InlineData("fd00:::1")]
    [InlineData("")]
    public void Brackets_scopes_and_IPv4_are_not(string text)
    {
        Assert.False(AddressText.TryParseIpv6(text, out UInt128 address));
        Assert.Equal(UInt128.Zero, address);
    }
}
