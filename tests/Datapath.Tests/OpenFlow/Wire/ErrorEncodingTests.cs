using System.Buffers.Binary;
using Datapath.OpenFlow.Wire;

namespace Datapath.Tests.OpenFlow.Wire;

/// <summary>
/// Error replies as Open vSwitch encodes them (include/openvswitch/ofp-errors.h): in OpenFlow 1.0
/// and 1.1 the Nicira extension errors ("NX1.0(type,code)") travel inside an NXET_VENDOR error,
/// never bare, or ovs-ofctl cannot decode them; the standard ones stay bare.
/// </summary>
public sealed class ErrorEncodingTests
{
    private static readonly byte[] Request = [0x01, 0x0e, 0x00, 0x10, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8];

    [Theory]
    [InlineData(OfpErrorKind.BadMatchField, OfpVersion.Of10, 0, 263)]
    [InlineData(OfpErrorKind.BadMatchPrerequisite, OfpVersion.Of10, 1, 260)]
    [InlineData(OfpErrorKind.BadMatchPrerequisite, OfpVersion.Of11, 1, 260)]
    [InlineData(OfpErrorKind.BadRequestTableId, OfpVersion.Of10, 1, 512)]
    [InlineData(OfpErrorKind.BadRequestPort, OfpVersion.Of11, 1, 514)]
    [InlineData(OfpErrorKind.BadActionSetType, OfpVersion.Of10, 1, 523)]
    [InlineData(OfpErrorKind.FlowModBadFlags, OfpVersion.Of11, 5, 258)]
    public void Nicira_extension_errors_of_openflow_10_and_11_go_inside_a_vendor_error(OfpErrorKind kind, byte version, ushort type, ushort code)
    {
        byte[] error = OfpEncoder.Error(version, 9, kind, Request);

        Assert.Equal(8 + 4 + 8 + Request.Length, BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(2)));
        Assert.Equal(OfpErrors.NiciraVendorErrorType, BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(8)));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(10)));
        Assert.Equal(Nicira.VendorId, BinaryPrimitives.ReadUInt32BigEndian(error.AsSpan(12)));
        Assert.Equal((type, code), (BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(16)), BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(18))));
        Assert.Equal(Request, error[20..]);
    }

    [Theory]
    [InlineData(OfpErrorKind.FlowModOverlap, OfpVersion.Of10, 3, 1)]
    [InlineData(OfpErrorKind.BadRequestType, OfpVersion.Of10, 1, 1)]
    [InlineData(OfpErrorKind.BadMatchField, OfpVersion.Of11, 4, 6)]
    [InlineData(OfpErrorKind.BadMatchField, OfpVersion.Of13, 4, 6)]
    [InlineData(OfpErrorKind.BadMatchPrerequisite, OfpVersion.Of13, 4, 9)]
    [InlineData(OfpErrorKind.BadRequestTableId, OfpVersion.Of13, 1, 9)]
    public void Standard_errors_are_bare(OfpErrorKind kind, byte version, ushort type, ushort code)
    {
        byte[] error = OfpEncoder.Error(version, 9, kind, Request);

        Assert.Equal(8 + 4 + Request.Length, BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(2)));
        Assert.Equal((type, code), (BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(8)), BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(10))));
        Assert.Equal(Request, error[12..]);
    }
}
