using Xunit;
using Brine.Formats;
using Brine.Model;

namespace Brine.Tests.MessagePack;

/// <summary>Encodes trees to bytes and back with one format, for the MessagePack and CBOR tests.</summary>
public static class BinaryCodec
{
    public static byte[] Encode(Format format, params Node[] values) => Encode(format, values, expand: false);

    public static byte[] Encode(Format format, IEnumerable<Node> values, bool expand, Stream? target = null)
    {
        var ms = target ?? new MemoryStream();
        using (var w = format.CreateWriter(ms, WriteOptions.Default))
        {
            using var r = new NodeReader(values, expand);
            TokenPump.Copy(r, w);
            w.Finish();
        }
        return ms is MemoryStream m ? m.ToArray() : Array.Empty<byte>();
    }

    public static List<Node> Decode(Format format, byte[] bytes, ReadOptions? options = null)
    {
        using var r = format.CreateReader(new MemoryStream(bytes, false), options ?? ReadOptions.Default);
        return NodeBuilder.ReadAll(r);
    }

    public static Node DecodeOne(Format format, byte[] bytes)
    {
        var all = Decode(format, bytes);
        Assert.Single(all);
        return all[0];
    }

    /// <summary>"c4-01-01" or "c40101" → bytes.</summary>
    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace("-", "").Replace(" ", ""));

    public static string ToHex(byte[] b) => Convert.ToHexString(b).ToLowerInvariant();

    /// <summary>A stream that cannot seek, like standard output or a socket.</summary>
    public sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => inner.CanWrite;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
