namespace TestSupport.Frames;

/// <summary>
/// The twelve flag bits of a TCP header's offset-and-flags word (RFC 9293, RFC 3540's NS), as
/// numbers like the product's and Open vSwitch's <c>tcp_flags</c>, so tests compare them directly.
/// </summary>
public static class TcpFlags
{
    public const ushort Fin = 0x001;
    public const ushort Syn = 0x002;
    public const ushort Rst = 0x004;
    public const ushort Psh = 0x008;
    public const ushort Ack = 0x010;
    public const ushort Urg = 0x020;
    public const ushort Ece = 0x040;
    public const ushort Cwr = 0x080;
    public const ushort Ns = 0x100;
}
