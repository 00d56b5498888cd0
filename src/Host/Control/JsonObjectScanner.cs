using System.Buffers;

namespace Host.Control;

/// <summary>
/// Finds where one JSON object ends in a byte stream with no delimiter after it (Open vSwitch's
/// JSON-RPC framing: lib/jsonrpc.c feeds bytes to its parser until a value is complete). Tracks only
/// nesting, strings and escapes; the object is parsed properly once complete. Keeps its place
/// across calls, so a request that arrives in many reads is scanned once, not once per read.
/// </summary>
internal sealed class JsonObjectScanner
{
    private long _scanned;
    private int _depth;
    private bool _inString;
    private bool _escaped;

    /// <summary>Bytes of the current object looked at so far.</summary>
    public long Scanned => _scanned;

    /// <summary>
    /// Scans <paramref name="buffer"/>, which starts at the object's opening brace (the same start
    /// on every call until it completes); true with the object's length once its closing brace is seen.
    /// </summary>
    public bool TryComplete(ReadOnlySequence<byte> buffer, out long length)
    {
        var reader = new SequenceReader<byte>(buffer);
        reader.Advance(_scanned);
        while (reader.TryRead(out byte b))
        {
            if (_inString)
            {
                if (_escaped)
                {
                    _escaped = false;
                }
                else if (b == (byte)'\\')
                {
                    _escaped = true;
                }
                else if (b == (byte)'"')
                {
                    _inString = false;
                }

                continue;
            }

            switch (b)
            {
                case (byte)'"':
                    _inString = true;
                    break;
                case (byte)'{' or (byte)'[':
                    _depth++;
                    break;
                case (byte)'}' or (byte)']':
                    if (--_depth == 0)
                    {
                        length = reader.Consumed;
                        Reset();
                        return true;
                    }

                    break;
            }
        }

        _scanned = reader.Consumed;
        length = 0;
        return false;
    }

    public void Reset()
    {
        _scanned = 0;
        _depth = 0;
        _inString = false;
        _escaped = false;
    }
}
