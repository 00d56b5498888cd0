namespace Datapath.OpenFlow.Wire;

/// <summary>
/// The OpenFlow errors this switch reports, independent of the version (Open vSwitch's enum
/// ofperr). <see cref="OfpErrors.Encode"/> gives each one's type and code in a version.
/// </summary>
public enum OfpErrorKind
{
    HelloIncompatible,
    BadRequestVersion,
    BadRequestType,
    BadRequestMultipart,
    BadRequestExperimenter,
    BadRequestSubtype,
    BadRequestEperm,
    BadRequestLength,
    BadRequestBufferUnknown,
    BadRequestTableId,
    BadRequestPort,
    BadRequestPacket,
    BadActionType,
    BadActionLength,
    BadActionExperimenter,
    BadActionExperimenterType,
    BadActionOutPort,
    BadActionArgument,
    BadActionEperm,
    BadActionUnsupportedOrder,
    BadActionMatchInconsistent,
    BadActionSetType,
    BadActionSetLength,
    BadActionSetArgument,
    BadInstructionUnknown,
    BadInstructionUnsupported,
    BadInstructionTableId,
    BadInstructionLength,
    BadMatchType,
    BadMatchLength,
    BadMatchTag,
    BadMatchWildcards,
    BadMatchField,
    BadMatchValue,
    BadMatchMask,
    BadMatchPrerequisite,
    BadMatchDuplicateField,
    FlowModUnknown,
    FlowModTableFull,
    FlowModBadTableId,
    FlowModOverlap,
    FlowModEperm,
    FlowModBadTimeout,
    FlowModBadCommand,
    FlowModBadFlags,
    SwitchConfigBadFlags,
    RoleRequestBadRole,
}

/// <summary>A request that cannot be carried out: becomes an OFPT_ERROR reply carrying the start of the request.</summary>
public sealed class OfpException : Exception
{
    public OfpException(OfpErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public OfpException()
        : this(OfpErrorKind.BadRequestType, "bad request")
    {
    }

    public OfpException(string message)
        : this(OfpErrorKind.BadRequestType, message)
    {
    }

    public OfpException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = OfpErrorKind.BadRequestType;
    }

    public OfpErrorKind Kind { get; }
}

/// <summary>Type and code of each error per version (Open vSwitch's ofp-errors table).</summary>
public static class OfpErrors
{
    /// <summary>
    /// In OpenFlow 1.0 and 1.1 a code of 256 or more is a Nicira extension error: it travels as
    /// type NXET_VENDOR with a nx_vendor_error (vendor, type, code) before the request, never bare
    /// (Open vSwitch cannot decode a bare one).
    /// </summary>
    public const ushort NiciraVendorErrorType = 0xb0c2;

    /// <summary>Whether <paramref name="kind"/> goes as a Nicira vendor error in <paramref name="version"/>.</summary>
    public static bool IsNiciraVendorError(OfpErrorKind kind, byte version) =>
        version <= OfpVersion.Of11 && Encode(kind, version).Code >= 256;

    /// <summary>The (type, code) pair of <paramref name="kind"/> in OpenFlow <paramref name="version"/> (inside the vendor error where <see cref="IsNiciraVendorError"/>).</summary>
    public static (ushort Type, ushort Code) Encode(OfpErrorKind kind, byte version)
    {
        bool v10 = version == OfpVersion.Of10;
        bool v11 = version == OfpVersion.Of11;
        bool upTo11 = v10 || v11;
        return kind switch
        {
            OfpErrorKind.HelloIncompatible => (0, 0),
            OfpErrorKind.BadRequestVersion => (1, 0),
            OfpErrorKind.BadRequestType => (1, 1),
            OfpErrorKind.BadRequestMultipart => (1, 2),
            OfpErrorKind.BadRequestExperimenter => (1, 3),
            OfpErrorKind.BadRequestSubtype => (1, 4),
            OfpErrorKind.BadRequestEperm => (1, 5),
            OfpErrorKind.BadRequestLength => (1, 6),
            OfpErrorKind.BadRequestBufferUnknown => (1, 8),
            OfpErrorKind.BadRequestTableId => (1, v10 ? (ushort)512 : (ushort)9),
            OfpErrorKind.BadRequestPort => (1, upTo11 ? (ushort)514 : (ushort)11),
            OfpErrorKind.BadRequestPacket => (1, upTo11 ? (ushort)5 : (ushort)12),
            OfpErrorKind.BadActionType => (2, 0),
            OfpErrorKind.BadActionLength => (2, 1),
            OfpErrorKind.BadActionExperimenter => (2, 2),
            OfpErrorKind.BadActionExperimenterType => (2, 3),
            OfpErrorKind.BadActionOutPort => (2, 4),
            OfpErrorKind.BadActionArgument => (2, 5),
            OfpErrorKind.BadActionEperm => (2, 6),
            OfpErrorKind.BadActionMatchInconsistent => v10 ? ((ushort)1, (ushort)522) : ((ushort)2, (ushort)10),
            OfpErrorKind.BadActionUnsupportedOrder => v10 ? ((ushort)2, (ushort)5) : ((ushort)2, (ushort)11),
            OfpErrorKind.BadActionSetType => upTo11 ? ((ushort)1, (ushort)523) : ((ushort)2, (ushort)13),
            OfpErrorKind.BadActionSetLength => upTo11 ? ((ushort)1, (ushort)524) : ((ushort)2, (ushort)14),
            OfpErrorKind.BadActionSetArgument => upTo11 ? ((ushort)1, (ushort)525) : ((ushort)2, (ushort)15),
            OfpErrorKind.BadInstructionUnknown => v10 ? ((ushort)2, (ushort)0) : ((ushort)3, (ushort)0),
            OfpErrorKind.BadInstructionUnsupported => v10 ? ((ushort)2, (ushort)257) : ((ushort)3, (ushort)1),
            OfpErrorKind.BadInstructionTableId => v10 ? ((ushort)2, (ushort)5) : ((ushort)3, (ushort)2),
            OfpErrorKind.BadInstructionLength => upTo11 ? ((ushort)2, (ushort)1) : ((ushort)3, (ushort)7),
            OfpErrorKind.BadMatchType => v10 ? ((ushort)1, (ushort)257) : ((ushort)4, (ushort)0),
            OfpErrorKind.BadMatchLength => v10 ? ((ushort)1, (ushort)6) : ((ushort)4, (ushort)1),
            OfpErrorKind.BadMatchTag => v10 ? ((ushort)1, (ushort)258) : ((ushort)4, (ushort)2),
            OfpErrorKind.BadMatchWildcards => v10 ? ((ushort)1, (ushort)262) : ((ushort)4, (ushort)5),

            // Type 0 is no slip: Open vSwitch's table gives BAD_FIELD as NX1.0(0,263).
            OfpErrorKind.BadMatchField => v10 ? ((ushort)0, (ushort)263) : ((ushort)4, (ushort)6),
            OfpErrorKind.BadMatchValue => v10 ? ((ushort)1, (ushort)258) : ((ushort)4, (ushort)7),
            OfpErrorKind.BadMatchMask => upTo11 ? ((ushort)1, (ushort)259) : ((ushort)4, (ushort)8),
            OfpErrorKind.BadMatchPrerequisite => upTo11 ? ((ushort)1, (ushort)260) : ((ushort)4, (ushort)9),
            OfpErrorKind.BadMatchDuplicateField => upTo11 ? ((ushort)1, (ushort)261) : ((ushort)4, (ushort)10),
            OfpErrorKind.FlowModUnknown => v10 ? ((ushort)3, (ushort)5) : ((ushort)5, (ushort)0),
            OfpErrorKind.FlowModTableFull => v10 ? ((ushort)3, (ushort)0) : ((ushort)5, (ushort)1),
            OfpErrorKind.FlowModBadTableId => v10 ? ((ushort)5, (ushort)257) : ((ushort)5, (ushort)2),
            OfpErrorKind.FlowModOverlap => v10 ? ((ushort)3, (ushort)1) : ((ushort)5, (ushort)3),
            OfpErrorKind.FlowModEperm => v10 ? ((ushort)3, (ushort)2) : ((ushort)5, (ushort)4),
            OfpErrorKind.FlowModBadTimeout => v10 ? ((ushort)3, (ushort)3) : ((ushort)5, (ushort)5),
            OfpErrorKind.FlowModBadCommand => v10 ? ((ushort)3, (ushort)4) : ((ushort)5, (ushort)6),
            OfpErrorKind.FlowModBadFlags => v10 ? ((ushort)3, (ushort)258) : v11 ? ((ushort)5, (ushort)258) : ((ushort)5, (ushort)7),
            OfpErrorKind.SwitchConfigBadFlags => v10 ? ((ushort)1, (ushort)5) : ((ushort)10, (ushort)0),
            OfpErrorKind.RoleRequestBadRole => upTo11 ? ((ushort)1, (ushort)513) : ((ushort)11, (ushort)2),
            _ => (1, 1),
        };
    }
}
