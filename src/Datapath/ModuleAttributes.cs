using System.Runtime.CompilerServices;

// Locals are not zeroed on entry (as .NET's own libraries compile): the packet path's per-packet
// methods (ConnectionTable.Execute, the conntrack parse, the flow hash) cleared up to 384 bytes of
// stack on every call, 6 % of Execute's samples. C# still requires every local to be assigned before
// it is read; only stackalloc'd buffers are left as they were, and each one here is written in full
// before it is read (or cleared where it is not: PcapWriter, OfpEncoder.FixedString).
[module: SkipLocalsInit]
