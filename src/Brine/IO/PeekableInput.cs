namespace Brine.IO;

/// <summary>Reads the first bytes of a stream for format detection, then hands back a stream that still starts at byte 0.</summary>
public static class PeekableInput
{
    public const int HeadSize = 8192;

    public static (Stream stream, byte[] head) Open(Stream input)
    {
        if (input.CanSeek)
        {
            var start = input.Position;
            var buf = new byte[HeadSize];
            int n = ReadAtLeast(input, buf);
            input.Position = start;
            return (input, buf[..n]);
        }
        var head = new byte[HeadSize];
        int got = ReadAtLeast(input, head);
        head = head[..got];
        return (new PrefixedStream(head, input), head);
    }

    static int ReadAtLeast(Stream s, byte[] buf)
    {
        int total = 0;
        while (total < buf.Length) { int n = s.Read(buf, total, buf.Length - total); if (n == 0) break; total += n; }
        return total;
    }

    /// <summary>The bytes already read, followed by the rest of the stream.</summary>
    sealed class PrefixedStream(byte[] prefix, Stream rest) : Stream
    {
        int _pos;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            if (_pos < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _pos);
                prefix.AsSpan(_pos, n).CopyTo(buffer);
                _pos += n;
                return n;
            }
            return rest.Read(buffer);
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { if (disposing) rest.Dispose(); base.Dispose(disposing); }
    }
}
