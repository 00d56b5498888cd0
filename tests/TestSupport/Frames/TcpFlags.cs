namespace TestSupport.Frames;

/// <summary>The twelve flag bits of a TCP header's offset-and-flags word (RFC 9293, RFC 3540's NS).</summary>
[Flags]
public enum TcpFlags : ushort
{
    None = 0,
    Fin = 0x001,
    Syn = 0x002,
    Rst = 0x004,
    Psh = 0x008,
    Ack = 0x010,
    Urg = 0x020,
    Ece = 0x040,
    Cwr = 0x080,
    Ns = 0x100,
}
