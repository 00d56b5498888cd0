using Datapath.OpenFlow.Wire;

namespace Datapath.Tests.OpenFlow.Wire;

/// <summary>
/// The decoder is fed input from the network: 100,000 messages mutated from the real corpus
/// (seeded, so a failure reproduces) must each decode or be refused with an OpenFlow error; any
/// other exception would end a connection's actor and is a defect.
/// </summary>
public sealed class DecoderFuzzTests
{
    [Fact]
    public void A_hundred_thousand_mutated_messages_decode_or_are_refused_never_throw()
    {
        var corpus = OpenFlowCorpus.Messages.Select(m => m.Message).Where(m => m.Length >= 8).ToArray();
        var random = new Random(16);
        int decoded = 0;
        int refused = 0;
        for (int i = 0; i < 100_000; i++)
        {
            byte[] message = Mutate(corpus[random.Next(corpus.Length)], corpus, random);
            try
            {
                OfpDecoder.Decode(message, random.Next(2) == 0);
                decoded++;
            }
            catch (OfpException)
            {
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} threw {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(message)}");
            }
        }

        // The mutations reach past the header: many still decode, many are refused deep inside.
        Assert.True(decoded > 10_000, $"{decoded} decoded");
        Assert.True(refused > 10_000, $"{refused} refused");
    }

    /// <summary>A copy with a few bytes changed, cut, grown or spliced; the header's length is kept true (the framing layer guarantees it).</summary>
    private static byte[] Mutate(byte[] original, byte[][] corpus, Random random)
    {
        var bytes = new List<byte>(original);
        int mutations = 1 + random.Next(4);
        for (int m = 0; m < mutations; m++)
        {
            switch (random.Next(6))
            {
                case 0 or 1:
                    {
                        int at = 8 + random.Next(Math.Max(1, bytes.Count - 8));
                        if (at < bytes.Count)
                        {
                            bytes[at] = (byte)random.Next(256);
                        }

                        break;
                    }

                case 2:
                    if (bytes.Count > 8)
                    {
                        int at = 8 + random.Next(bytes.Count - 8);
                        bytes.RemoveRange(at, Math.Min(1 + random.Next(8), bytes.Count - at));
                    }

                    break;
                case 3:
                    {
                        var extra = new byte[1 + random.Next(24)];
                        random.NextBytes(extra);
                        bytes.InsertRange(8 + random.Next(bytes.Count - 7), extra);
                        break;
                    }

                case 4:
                    {
                        // A length or count field: set a 16-bit value somewhere to a boundary value.
                        int at = 8 + random.Next(Math.Max(1, bytes.Count - 9));
                        if (at + 1 < bytes.Count)
                        {
                            ushort value = (ushort)(random.Next(4) switch { 0 => 0, 1 => 0xffff, 2 => random.Next(64), _ => bytes.Count + random.Next(-16, 16) });
                            bytes[at] = (byte)(value >> 8);
                            bytes[at + 1] = (byte)value;
                        }

                        break;
                    }

                default:
                    {
                        var other = corpus[random.Next(corpus.Length)];
                        int from = 8 + random.Next(Math.Max(1, other.Length - 8));
                        if (from < other.Length)
                        {
                            bytes.AddRange(other.AsSpan(from).ToArray());
                        }

                        break;
                    }
            }
        }

        if (random.Next(20) == 0)
        {
            bytes[0] = (byte)random.Next(8);
        }

        if (random.Next(20) == 0)
        {
            bytes[1] = (byte)random.Next(40);
        }

        int length = Math.Min(bytes.Count, ushort.MaxValue);
        var result = bytes.Take(length).ToArray();
        result[2] = (byte)(length >> 8);
        result[3] = (byte)length;
        return result;
    }
}
