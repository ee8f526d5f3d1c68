namespace Brine.IO;

/// <summary>How far a conversion has got, read by another thread to draw progress (no callbacks on the hot path).</summary>
public sealed class ConversionProgress
{
    internal Func<long>? BytesSource;
    /// <summary>Input bytes consumed so far.</summary>
    public long BytesRead => BytesSource?.Invoke() ?? 0;
    /// <summary>The input's size when known (a file), else null (standard input).</summary>
    public long? TotalBytes { get; internal set; }
    /// <summary>Top-level values or rows written so far.</summary>
    public long Values;
}

/// <summary>A read-through stream that counts the bytes taken from the one it wraps.</summary>
public sealed class ProgressStream(Stream inner) : Stream
{
    long _read;

    /// <summary>Bytes read so far: the position for seekable streams (random-access readers such as Parquet), else the count.</summary>
    public long BytesRead => inner.CanSeek ? Math.Max(_read, SafePosition()) : Volatile.Read(ref _read);

    long SafePosition() { try { return inner.Position; } catch (ObjectDisposedException) { return _read; } }

    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => inner.CanSeek;
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => inner.Position = value; }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => Count(await inner.ReadAsync(buffer, ct));
    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }

    int Count(int n) { if (!inner.CanSeek) Volatile.Write(ref _read, _read + n); else _read = Math.Max(_read, SafePosition()); return n; }
}
