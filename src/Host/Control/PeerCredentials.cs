using System.Buffers.Binary;
using System.Net.Sockets;

namespace Host.Control;

/// <summary>
/// Who is at the other end of a connected Unix socket, as the kernel vouches for it (SO_PEERCRED:
/// the credentials of the process that called connect or listen). Both ends of the control channel
/// trust only their own user and root: a client never sends a command to a datapath another user
/// runs (who could have put their socket where ours should be), and the server serves nobody else.
/// </summary>
internal static class PeerCredentials
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>The peer's user id; null where the system has no SO_PEERCRED (not Linux).</summary>
    public static uint? UserOf(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }: three 32-bit integers in host order.
        Span<byte> ucred = stackalloc byte[12];
        int length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        return length < 8 ? null : BitConverter.IsLittleEndian
            ? BinaryPrimitives.ReadUInt32LittleEndian(ucred[4..])
            : BinaryPrimitives.ReadUInt32BigEndian(ucred[4..]);
    }

    /// <summary>True when <paramref name="uid"/> is this process's effective user or root.</summary>
    public static bool IsTrusted(uint uid) => uid == 0 || uid == PrivateDirectory.EffectiveUser;
}
