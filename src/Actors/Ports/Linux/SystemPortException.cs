namespace Actors.Ports.Linux;

/// <summary>A system port cannot be opened: the message says why in the user's terms (no such interface, no CAP_NET_RAW...).</summary>
public sealed class SystemPortException : Exception
{
    public SystemPortException()
    {
    }

    public SystemPortException(string message)
        : base(message)
    {
    }

    public SystemPortException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
