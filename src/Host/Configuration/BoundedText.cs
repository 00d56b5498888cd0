using System.Text;

namespace Host.Configuration;

/// <summary>
/// The text of a file a user named, read with a bound on its size: a path such as /dev/zero, or a
/// file that is not what it should be, would otherwise be read until memory runs out.
/// </summary>
internal static class BoundedText
{
    /// <summary>
    /// The text of <paramref name="stream"/> (UTF-8 unless a byte-order mark says otherwise); false,
    /// with no more than <paramref name="maxBytes"/> read into memory, when it holds more.
    /// </summary>
    public static bool TryRead(Stream stream, int maxBytes, out string text)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var bytes = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (bytes.Length + read > maxBytes)
            {
                text = string.Empty;
                return false;
            }

            bytes.Write(buffer, 0, read);
        }

        bytes.Position = 0;
        using var reader = new StreamReader(bytes, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        text = reader.ReadToEnd();
        return true;
    }
}
