using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Brine.Model;

namespace Brine.Security;

/// <summary>What an envelope's header says.</summary>
public sealed record EnvelopeHeader(int Version, string Algorithm, string KeyId, long PayloadLength, int HeaderLength);

/// <summary>
/// Signed payloads: a header (magic <c>BRSG</c>, version, algorithm, key id, payload length), an HMAC-SHA256 over
/// the header and the payload, then the payload. Verification reads the whole payload and compares the MAC in
/// constant time before handing out a single byte, so nothing unverified is ever decoded. See docs/signing.md.
/// </summary>
public static class SignedEnvelope
{
    public const string FormatName = "signed";
    public const byte Version = 1;
    public const byte AlgorithmHmacSha256 = 1;
    public const int MacLength = 32;
    static ReadOnlySpan<byte> Magic => "BRSG"u8;

    /// <summary>The envelope of <paramref name="payload"/>.</summary>
    public static byte[] Sign(ReadOnlySpan<byte> payload, SigningKey key)
    {
        var header = Header(key.Id, payload.Length);
        using var h = key.CreateHmac();
        h.AppendData(header); h.AppendData(payload);
        var output = new byte[header.Length + MacLength + payload.Length];
        header.CopyTo(output, 0);
        h.GetHashAndReset(output.AsSpan(header.Length, MacLength));
        payload.CopyTo(output.AsSpan(header.Length + MacLength));
        return output;
    }

    /// <summary>The payload of <paramref name="envelope"/>, or a <see cref="BrineFormatException"/> when it was not signed by <paramref name="key"/> or was altered.</summary>
    public static byte[] Verify(ReadOnlySpan<byte> envelope, SigningKey key)
    {
        var header = ParseHeader(envelope, out var mac);
        var payload = envelope[(header.HeaderLength + MacLength)..];
        if (payload.Length != header.PayloadLength)
            throw Error(header.HeaderLength + MacLength, payload.Length < header.PayloadLength
                ? $"truncated: the header announces {header.PayloadLength} payload bytes, {payload.Length} follow"
                : $"{payload.Length - header.PayloadLength} bytes follow the announced {header.PayloadLength}-byte payload");
        using var h = key.CreateHmac();
        h.AppendData(envelope[..header.HeaderLength]); h.AppendData(payload);
        Span<byte> expected = stackalloc byte[MacLength];
        h.GetHashAndReset(expected);
        CheckMac(expected, mac, header, key);
        return payload.ToArray();
    }

    /// <summary>Signs a stream of any size. A non-seekable input is first copied to a temporary file to learn its length.</summary>
    public static void Sign(Stream input, Stream output, SigningKey key)
    {
        using var spool = Seekable(input, out var source);
        long start = source.Position, length = source.Length - start;
        var header = Header(key.Id, length);
        using var h = key.CreateHmac();
        h.AppendData(header);
        Pump(source, null, h, length);
        var mac = h.GetHashAndReset();
        source.Position = start;
        output.Write(header); output.Write(mac);
        Pump(source, output, null, length);
        output.Flush();
    }

    /// <summary>
    /// Verifies a stream and writes its payload to <paramref name="output"/> only once the MAC matched: nothing
    /// is written for a refused envelope. A non-seekable input is spooled to a temporary file first.
    /// </summary>
    public static EnvelopeHeader Verify(Stream input, Stream output, SigningKey key)
    {
        using var spool = Seekable(input, out var source);
        long start = source.Position;
        var head = new byte[7 + 255 + 8 + MacLength];
        int got = ReadUpTo(source, head);
        var header = ParseHeader(head.AsSpan(0, got), out var macSpan);
        var mac = macSpan.ToArray();
        long payloadStart = start + header.HeaderLength + MacLength;
        long available = source.Length - payloadStart;
        if (available != header.PayloadLength)
            throw Error(header.HeaderLength + MacLength, available < header.PayloadLength
                ? $"truncated: the header announces {header.PayloadLength} payload bytes, {available} follow"
                : $"{available - header.PayloadLength} bytes follow the announced {header.PayloadLength}-byte payload");
        using var h = key.CreateHmac();
        h.AppendData(head, 0, header.HeaderLength);
        source.Position = payloadStart;
        Pump(source, null, h, header.PayloadLength);
        CheckMac(h.GetHashAndReset(), mac, header, key);
        source.Position = payloadStart;
        Pump(source, output, null, header.PayloadLength);
        output.Flush();
        return header;
    }

    /// <summary>Reads the header without verifying anything (to show which key signed a file).</summary>
    public static EnvelopeHeader ReadHeader(ReadOnlySpan<byte> envelopeStart) => ParseHeader(envelopeStart, out _);

    static byte[] Header(string keyId, long payloadLength)
    {
        var id = Encoding.UTF8.GetBytes(keyId);
        var h = new byte[4 + 1 + 1 + 1 + id.Length + 8];
        Magic.CopyTo(h);
        h[4] = Version; h[5] = AlgorithmHmacSha256; h[6] = (byte)id.Length;
        id.CopyTo(h, 7);
        BinaryPrimitives.WriteInt64BigEndian(h.AsSpan(7 + id.Length), payloadLength);
        return h;
    }

    static EnvelopeHeader ParseHeader(ReadOnlySpan<byte> b, out ReadOnlySpan<byte> mac)
    {
        if (b.Length < 4 || !b[..4].SequenceEqual(Magic)) throw Error(0, "not a signed envelope (no BRSG signature)");
        if (b.Length < 7) throw Error(b.Length, "truncated header");
        if (b[4] != Version) throw Error(4, $"unsupported envelope version {b[4]} (this Brine reads version {Version})");
        if (b[5] != AlgorithmHmacSha256) throw Error(5, $"unknown signature algorithm {b[5]} (1 = HMAC-SHA256)");
        int idLen = b[6];
        int headerLength = 7 + idLen + 8;
        if (b.Length < headerLength + MacLength) throw Error(b.Length, "truncated header");
        string keyId;
        try { keyId = new UTF8Encoding(false, true).GetString(b.Slice(7, idLen)); }
        catch (DecoderFallbackException) { throw Error(7, "the key id is not UTF-8"); }
        long length = BinaryPrimitives.ReadInt64BigEndian(b.Slice(7 + idLen, 8));
        if (length < 0) throw Error(7 + idLen, "negative payload length");
        mac = b.Slice(headerLength, MacLength);
        return new EnvelopeHeader(b[4], "HMAC-SHA256", keyId, length, headerLength);
    }

    static void CheckMac(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, EnvelopeHeader header, SigningKey key)
    {
        if (CryptographicOperations.FixedTimeEquals(expected, actual)) return;
        var why = header.KeyId != key.Id
            ? $"signature does not match: the envelope names key '{header.KeyId}', the key given is '{key.Id}'"
            : "signature does not match: the payload or header was altered, or the key is wrong";
        throw Error(header.HeaderLength, why);
    }

    static BrineFormatException Error(long offset, string detail) => new(FormatName, $"byte {offset}", detail);

    static IDisposable? Seekable(Stream input, out Stream source)
    {
        if (input.CanSeek) { source = input; return null; }
        var tmp = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        input.CopyTo(tmp);
        tmp.Position = 0;
        source = tmp;
        return tmp;
    }

    static int ReadUpTo(Stream s, byte[] buffer)
    {
        int total = 0, n;
        while (total < buffer.Length && (n = s.Read(buffer, total, buffer.Length - total)) > 0) total += n;
        return total;
    }

    static void Pump(Stream source, Stream? output, IncrementalHash? hash, long length)
    {
        var buffer = new byte[1 << 16];
        while (length > 0)
        {
            int n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, length));
            if (n == 0) throw Error(source.Position, "unexpected end of input");
            hash?.AppendData(buffer, 0, n);
            output?.Write(buffer, 0, n);
            length -= n;
        }
    }
}
