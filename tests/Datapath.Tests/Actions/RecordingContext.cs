using Datapath.Actions;
using Datapath.Packets;

namespace Datapath.Tests.Actions;

/// <summary>What an executor asked of its context, in order.</summary>
internal sealed class Recording
{
    public List<string> Events { get; } = [];

    public List<(uint Port, byte[] Frame)> Outputs { get; } = [];

    public List<(byte[] Frame, uint Cookie)> ToUserspace { get; } = [];

    public List<(PacketBatch Batch, ConntrackArgs Args, ActionList Actions, int ResumeAt)> ToConntrack { get; } = [];

    public List<PacketBatch> Recirculated { get; } = [];

    public List<(PacketBatch Batch, Packet[] Packets)> Released { get; } = [];

    public List<Packet> Dropped { get; } = [];
}

/// <summary>A struct context (the JIT-specialised case) that copies what it is given, as a real one must.</summary>
internal struct RecordingContext(Recording recording) : IActionContext
{
    public readonly Recording Recording = recording;

    public readonly void Output(uint port, Packet packet)
    {
        Recording.Outputs.Add((port, packet.Data.ToArray()));
        Recording.Events.Add($"output:{port}");
    }

    // Implemented here, not inherited: the interface's default body would box this struct.
    public readonly void OutputLast(uint port, PacketBatch batch)
    {
        foreach (var packet in batch.Packets)
        {
            Output(port, packet);
        }

        Release(batch);
    }

    public readonly void Conntrack(PacketBatch batch, in ConntrackArgs args, ActionList actions, int resumeAt)
    {
        Recording.ToConntrack.Add((batch, args, actions, resumeAt));
        Recording.Events.Add($"ct:{resumeAt}");
    }

    public readonly void Recirculate(PacketBatch batch)
    {
        Recording.Recirculated.Add(batch);
        Recording.Events.Add("recirc");
    }

    public readonly void Userspace(Packet packet, uint cookie)
    {
        Recording.ToUserspace.Add((packet.Data.ToArray(), cookie));
        Recording.Events.Add($"userspace:{cookie}");
    }

    public readonly void Release(PacketBatch batch)
    {
        Recording.Released.Add((batch, batch.Packets.ToArray()));
        Recording.Events.Add("release");
    }

    public readonly void Drop(Packet packet)
    {
        Recording.Dropped.Add(packet);
        Recording.Events.Add("drop-packet");
    }
}

/// <summary>A class context: the executor's generic form must serve reference types too.</summary>
internal sealed class CountingClassContext : IActionContext
{
    public int Outputs { get; private set; }

    public int Releases { get; private set; }

    public void Output(uint port, Packet packet) => Outputs++;

    public void Conntrack(PacketBatch batch, in ConntrackArgs args, ActionList actions, int resumeAt)
    {
    }

    public void Recirculate(PacketBatch batch)
    {
    }

    public void Userspace(Packet packet, uint cookie)
    {
    }

    public void Release(PacketBatch batch) => Releases++;

    public void Drop(Packet packet)
    {
    }
}

/// <summary>A context that only counts, for the allocation check.</summary>
internal struct CountingContext : IActionContext
{
    public int Outputs;
    public int Userspace;
    public int Releases;

    public void Output(uint port, Packet packet) => Outputs++;

    // Implemented here, not inherited: the interface's default body would box this struct.
    public void OutputLast(uint port, PacketBatch batch)
    {
        foreach (var packet in batch.Packets)
        {
            Output(port, packet);
        }

        Release(batch);
    }

    public readonly void Conntrack(PacketBatch batch, in ConntrackArgs args, ActionList actions, int resumeAt)
    {
    }

    public readonly void Recirculate(PacketBatch batch)
    {
    }

    void IActionContext.Userspace(Packet packet, uint cookie) => Userspace++;

    public void Release(PacketBatch batch) => Releases++;

    public readonly void Drop(Packet packet)
    {
    }
}
