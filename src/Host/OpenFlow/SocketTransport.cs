using System.Buffers.Binary;
using System.Net.Sockets;
using System.Threading.Channels;
using Actors.OpenFlow;
using Akka.Actor;

namespace Host.OpenFlow;

/// <summary>
/// An OpenFlow connection's socket: a reader that frames whole messages by their header's length
/// and tells the connection actor, and a writer that sends what the actor queued. A length below
/// the 8-byte header cannot be resynchronised and closes the connection; nothing the peer sends
/// throws past this class.
/// </summary>
internal sealed class SocketTransport : IOpenFlowTransport
{
    private readonly Socket _socket;
    private readonly Channel<byte[]> _outgoing = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closed = new();
    private long _queued;
    private int _closing;

    public SocketTransport(Socket socket)
    {
        _socket = socket;
    }

    public long QueuedBytes => Interlocked.Read(ref _queued);

    /// <summary>Ends when both directions have ended.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Starts reading into <paramref name="actor"/> and writing what it sends.</summary>
    public void Start(IActorRef actor)
    {
        var reader = Task.Run(() => ReadAsync(actor));
        var writer = Task.Run(WriteAsync);
        Completion = Task.WhenAll(reader, writer);
    }

    public bool Send(byte[] message)
    {
        if (Volatile.Read(ref _closing) != 0 || !_outgoing.Writer.TryWrite(message))
        {
            return false;
        }

        Interlocked.Add(ref _queued, message.Length);
        return true;
    }

    public void Close()
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        // What was queued before the close is still written (an error before a closed hello, say).
        _outgoing.Writer.TryComplete();
    }

    private async Task ReadAsync(IActorRef actor)
    {
        string reason = "peer closed the connection";
        var header = new byte[8];
        try
        {
            while (true)
            {
                if (!await ReadExactlyAsync(header).ConfigureAwait(false))
                {
                    break;
                }

                int length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
                if (length < 8)
                {
                    reason = $"message length {length} is shorter than its header";
                    break;
                }

                var message = new byte[length];
                header.CopyTo(message, 0);
                if (!await ReadExactlyAsync(message.AsMemory(8)).ConfigureAwait(false))
                {
                    reason = "connection closed inside a message";
                    break;
                }

                actor.Tell(new OpenFlowReceived(message));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            reason = e.Message;
        }

        Close();
        await _closed.CancelAsync().ConfigureAwait(false);
        actor.Tell(new OpenFlowClosed(reason));
    }

    private async Task<bool> ReadExactlyAsync(Memory<byte> buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await _socket.ReceiveAsync(buffer[read..], SocketFlags.None, _closed.Token).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    private async Task WriteAsync()
    {
        try
        {
            await foreach (var message in _outgoing.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                int sent = 0;
                while (sent < message.Length)
                {
                    sent += await _socket.SendAsync(message.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
                }

                Interlocked.Add(ref _queued, -message.Length);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The peer went away; the reader reports it.
        }
        finally
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already gone.
            }

            _socket.Dispose();
            _closed.Cancel();
        }
    }
}
