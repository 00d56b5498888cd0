using Datapath.Packets.Pcap;
using Datapath.Replay;

namespace Actors.Ports;

/// <summary>What <see cref="PcapInput.TryRead"/> found.</summary>
internal enum PcapRead
{
    /// <summary>A frame of a served port is in hand (<see cref="PcapInput.Frame"/>).</summary>
    Frame,

    /// <summary>The capture ended (a looping capture never ends, unless it has no frame at all).</summary>
    End,

    /// <summary>The capture cannot be read; <see cref="PcapInput.Failure"/> says why, naming the file.</summary>
    Failed,
}

/// <summary>
/// The capture side of a pcap port: reads records in order, starts a new pass at the end of a
/// looping capture, keeps the datapath clock (the capture's timestamps, moved on by the capture's
/// length on each new pass, never going back), and gives each frame its port (a fixed one, or by
/// source MAC; frames of no served port are skipped and counted). A frame stays in hand until
/// <see cref="Consume"/>, so the port can wait (a full window, an empty pool) and go on with it.
/// A plain class owned by one actor; not thread-safe.
/// </summary>
internal sealed class PcapInput(PcapPortSettings settings, IReadOnlyList<uint> ports) : IDisposable
{
    // Between two passes of a looping capture, the clock moves on by this much past the last frame.
    private const long PassGapNs = 1_000_000;

    private PcapReader? _reader;
    private long _offsetNs;
    private long _firstCaptureNs = -1;
    private long _lastCaptureNs;
    private long _framesRead;
    private long _framesSkipped;
    private long _passFrames;
    private int _passes;
    private bool _ended;

    /// <summary>A frame was read and not yet consumed.</summary>
    public bool HasFrame { get; private set; }

    /// <summary>The frame in hand (valid while <see cref="HasFrame"/>).</summary>
    public ReadOnlySpan<byte> Frame => _reader!.CurrentFrame;

    /// <summary>The index, among the served ports, of the frame in hand.</summary>
    public int PortIndex { get; private set; }

    /// <summary>The datapath clock: the latest frame's time, in nanoseconds.</summary>
    public long ClockNs { get; private set; }

    public long ClockMs => ClockNs / 1_000_000;

    public string? Failure { get; private set; }

    public PcapProgress Progress => new(_framesRead, _framesSkipped, _passes, _ended);

    /// <summary>Opens the capture; false (and <see cref="Failure"/>) when it cannot be read.</summary>
    public bool Open()
    {
        try
        {
            _reader = PcapReader.Open(settings.RxPath);
            _passFrames = 0;
            return true;
        }
        catch (PcapFormatException e)
        {
            Failure = "rx pcap " + e.Message;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Failure = $"rx pcap {settings.RxPath}: {e.Message}";
        }

        return false;
    }

    /// <summary>Puts the next frame of a served port in hand, unless one is already.</summary>
    public PcapRead TryRead()
    {
        if (Failure is not null)
        {
            return PcapRead.Failed;
        }

        if (_ended)
        {
            return PcapRead.End;
        }

        while (!HasFrame)
        {
            var read = ReadRecord();
            if (read != PcapRead.Frame)
            {
                return read;
            }

            uint port = settings.InPort ?? ReplayPorts.BySourceMac(_reader!.CurrentFrame);
            int index = port == 0 ? -1 : IndexOf(port);
            if (index < 0)
            {
                _framesSkipped++;
                continue;
            }

            PortIndex = index;
            HasFrame = true;
        }

        return PcapRead.Frame;
    }

    /// <summary>The frame in hand was taken (copied into a packet and sent on).</summary>
    public void Consume() => HasFrame = false;

    public void Dispose()
    {
        _reader?.Dispose();
        _reader = null;
    }

    /// <summary>Reads a record, starting a new pass at the end of a looping capture.</summary>
    private PcapRead ReadRecord()
    {
        try
        {
            PcapRecordHeader header;
            while (!_reader!.TryReadNext(out header))
            {
                _passes++;
                if (!settings.Loop || _passFrames == 0)
                {
                    _ended = true;
                    return PcapRead.End;
                }

                _offsetNs += _lastCaptureNs - _firstCaptureNs + PassGapNs;
                Dispose();
                if (!Open())
                {
                    return PcapRead.Failed;
                }
            }

            _framesRead++;
            _passFrames++;
            if (_firstCaptureNs < 0)
            {
                _firstCaptureNs = header.TimestampNs;
            }

            _lastCaptureNs = header.TimestampNs;
            ClockNs = Math.Max(ClockNs, header.TimestampNs + _offsetNs);
            return PcapRead.Frame;
        }
        catch (PcapFormatException e)
        {
            Failure = "rx pcap " + e.Message;
        }
        catch (IOException e)
        {
            Failure = $"rx pcap {settings.RxPath}: {e.Message}";
        }

        return PcapRead.Failed;
    }

    private int IndexOf(uint port)
    {
        for (int i = 0; i < ports.Count; i++)
        {
            if (ports[i] == port)
            {
                return i;
            }
        }

        return -1;
    }
}
