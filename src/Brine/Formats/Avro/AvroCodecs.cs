using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using Brine.Model;

namespace Brine.Formats.Avro;

/// <summary>
/// The block codecs of Avro container files: null, deflate (raw RFC 1951, System.IO.Compression), snappy (Snappier,
/// followed by the big-endian CRC-32 of the uncompressed bytes) and zstandard (ZstdSharp).
/// </summary>
internal abstract class AvroCodec
{
    public abstract string Name { get; }
    /// <summary>Decodes <paramref name="input"/> into <paramref name="output"/> (grown as needed); returns the length.</summary>
    public abstract int Decompress(ReadOnlySpan<byte> input, ref byte[] output, long maxBytes);
    /// <summary>Encodes <paramref name="input"/> into <paramref name="output"/> (grown as needed); returns the length.</summary>
    public abstract int Compress(ReadOnlySpan<byte> input, ref byte[] output);

    public static readonly string[] Known = { "null", "deflate", "snappy", "zstandard" };

    /// <summary>The codec for a name in a file header (<c>avro.codec</c>) or a user setting (also accepts none, zstd, gzip-less aliases).</summary>
    public static AvroCodec? Find(string name, int? level = null) => name.ToLowerInvariant() switch
    {
        "null" or "none" or "uncompressed" or "" => new NullCodec(),
        "deflate" => new DeflateCodec(level),
        "snappy" => new SnappyCodec(),
        "zstandard" or "zstd" => new ZstdCodec(level),
        _ => null,
    };

    protected static void Ensure(ref byte[] buffer, int size)
    {
        if (buffer.Length < size) buffer = new byte[Math.Max(size, buffer.Length * 2)];
    }

    /// <summary>Reads a decompressing stream to its end into <paramref name="output"/>, growing it up to <paramref name="maxBytes"/>; returns the length.</summary>
    protected static int ReadAll(Stream decompressing, int compressedLength, ref byte[] output, long maxBytes)
    {
        int total = 0;
        Ensure(ref output, Math.Max(compressedLength * 4, 4096));
        while (true)
        {
            if (total == output.Length)
            {
                if (total >= maxBytes) throw TooLarge(maxBytes);
                Array.Resize(ref output, (int)Math.Min((long)output.Length * 2, Array.MaxLength));
            }
            int n = decompressing.Read(output, total, output.Length - total);
            if (n == 0) return total;
            total += n;
        }
    }

    protected static BrineFormatException TooLarge(long max) => new("avro", "", $"a block decompresses to more than {max} bytes (raise the limit to read it)");
}

internal sealed class NullCodec : AvroCodec
{
    public override string Name => "null";
    public override int Decompress(ReadOnlySpan<byte> input, ref byte[] output, long maxBytes)
    {
        Ensure(ref output, input.Length);
        input.CopyTo(output);
        return input.Length;
    }
    public override int Compress(ReadOnlySpan<byte> input, ref byte[] output) => Decompress(input, ref output, long.MaxValue);
}

internal sealed class DeflateCodec(int? level) : AvroCodec
{
    // Fastest keeps deflate writes close to the speed of the uncompressed file; Optimal gains ~5% size for 3x time.
    readonly CompressionLevel _level = level switch { null => CompressionLevel.Fastest, <= 0 => CompressionLevel.NoCompression, < 6 => CompressionLevel.Fastest, < 9 => CompressionLevel.Optimal, _ => CompressionLevel.SmallestSize };
    public override string Name => "deflate";

    public override unsafe int Decompress(ReadOnlySpan<byte> input, ref byte[] output, long maxBytes)
    {
        fixed (byte* p = input)
        {
            using var src = new UnmanagedMemoryStream(p, input.Length);
            using var inflate = new DeflateStream(src, CompressionMode.Decompress);
            return ReadAll(inflate, input.Length, ref output, maxBytes);
        }
    }

    public override int Compress(ReadOnlySpan<byte> input, ref byte[] output)
    {
        var ms = new MemoryStream(input.Length / 2 + 64);
        using (var deflate = new DeflateStream(ms, _level, leaveOpen: true)) deflate.Write(input);
        Ensure(ref output, (int)ms.Length);
        ms.GetBuffer().AsSpan(0, (int)ms.Length).CopyTo(output);
        return (int)ms.Length;
    }
}

internal sealed class SnappyCodec : AvroCodec
{
    public override string Name => "snappy";

    public override int Decompress(ReadOnlySpan<byte> input, ref byte[] output, long maxBytes)
    {
        if (input.Length < 4) throw new BrineFormatException("avro", "", "a snappy block is shorter than its 4-byte checksum");
        var body = input[..^4];
        int n = Snappier.Snappy.GetUncompressedLength(body);
        if (n > maxBytes) throw TooLarge(maxBytes);
        Ensure(ref output, n);
        int got = Snappier.Snappy.Decompress(body, output);
        uint expected = BinaryPrimitives.ReadUInt32BigEndian(input[^4..]);
        uint actual = Crc32.HashToUInt32(output.AsSpan(0, got));
        if (expected != actual) throw new BrineFormatException("avro", "", $"snappy block checksum mismatch (stored {expected:x8}, computed {actual:x8})");
        return got;
    }

    public override int Compress(ReadOnlySpan<byte> input, ref byte[] output)
    {
        Ensure(ref output, Snappier.Snappy.GetMaxCompressedLength(input.Length) + 4);
        int n = Snappier.Snappy.Compress(input, output);
        BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(n), Crc32.HashToUInt32(input));
        return n + 4;
    }
}

internal sealed class ZstdCodec(int? level) : AvroCodec
{
    readonly ZstdSharp.Compressor _compressor = new(level ?? 3);
    readonly ZstdSharp.Decompressor _decompressor = new();
    public override string Name => "zstandard";

    public override int Decompress(ReadOnlySpan<byte> input, ref byte[] output, long maxBytes)
    {
        ulong size = ZstdSharp.Decompressor.GetDecompressedSize(input);
        if (size > 0 && size <= int.MaxValue)
        {
            if ((long)size > maxBytes) throw TooLarge(maxBytes);
            Ensure(ref output, (int)size);
            return _decompressor.Unwrap(input, output);
        }
        // Streamed frames (Java's ZstdOutputStream) do not record their size: inflate through a stream.
        using var src = new MemoryStream(input.ToArray());
        using var z = new ZstdSharp.DecompressionStream(src);
        return ReadAll(z, input.Length, ref output, maxBytes);
    }

    public override int Compress(ReadOnlySpan<byte> input, ref byte[] output)
    {
        Ensure(ref output, ZstdSharp.Compressor.GetCompressBound(input.Length));
        return _compressor.Wrap(input, output);
    }
}
