using Actors.PacketPath;
using Datapath.Packets;

namespace Actors.Ports;

// What a port type fills in of the skeleton: each hook does nothing by default.
public abstract partial class PortActor
{
    /// <summary>What sending <paramref name="packet"/> on the port at <paramref name="portIndex"/> means (write it, hand it to a host...). The skeleton counts the outcome and releases the packet.</summary>
    private protected virtual TransmitOutcome Send(int portIndex, Packet packet) => TransmitOutcome.Sent;

    /// <summary>Before the packets of one <see cref="PathBatch"/> to send are sent (read a clock once per batch).</summary>
    private protected virtual void BeginTransmit()
    {
    }

    /// <summary>After a <see cref="PathBatch"/> to send (a closed loop may send more now).</summary>
    private protected virtual void EndTransmit()
    {
    }

    /// <summary>A PMD took a batch this port sent it (its window has a free slot).</summary>
    private protected virtual void OnBatchTaken(int pmd)
    {
    }

    /// <summary>The source is to run (the lifecycle agreed); false refuses, and it stays stopped.</summary>
    private protected virtual bool OnStart() => true;

    /// <summary>The source stopped running (a stop, a drain of an endless source, or its end).</summary>
    private protected virtual void OnStopped()
    {
    }

    /// <summary>Nothing of the port type's own is under way that must finish before the PMDs are quiesced (a barrier, paused threads).</summary>
    private protected virtual bool SourceStill => true;

    /// <summary>Just before the drain's quiesce: send what is gathered, give back what is held.</summary>
    private protected virtual void BeforeQuiesce()
    {
    }

    /// <summary>Just before the drain's answer (flush files).</summary>
    private protected virtual void BeforeDrained()
    {
    }

    /// <summary>A <see cref="Quiesced"/> that is not the drain's (a port type's own quiescer).</summary>
    private protected virtual void OnQuiesced(Quiesced message)
    {
    }

    /// <summary>The next slice of work, after <see cref="Wake"/>.</summary>
    private protected virtual void OnWake()
    {
    }

    /// <summary>The counters of every port; port types add their own parts.</summary>
    private protected virtual PortActorStatistics Statistics() => new(Snapshots(), null, null);
}
