using System.Buffers;

namespace Brine.IO;

/// <summary>
/// A write-only stream that gathers bytes in pooled 1 MiB segments and hands them back as one exact array: a large
/// output costs one copy, not the doubling copies of a <see cref="MemoryStream"/> plus its <c>ToArray</c>.
/// Seeking back drops what follows (a writer that gives up part-way, such as pickle's direct object path, rewinds).
/// </summary>
internal sealed class SegmentBuffer : Stream
{
    const int SegmentSize = 1 << 20;
    readonly List<byte[]> _segments = new();
    long _length;

    public override bool CanRead => false;
    public override bool CanSeek => true;
    public override bool CanWrite => true;
    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set
        {
            if (value < 0 || value > _length) throw new ArgumentOutOfRangeException(nameof(value), "a segment buffer only moves back");
            _length = value;
            int keep = (int)((value + SegmentSize - 1) / SegmentSize);
            for (int i = _segments.Count - 1; i >= keep; i--) { ArrayPool<byte>.Shared.Return(_segments[i]); _segments.RemoveAt(i); }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            int at = (int)(_length % SegmentSize);
            if (at == 0 && _length / SegmentSize == _segments.Count) _segments.Add(ArrayPool<byte>.Shared.Rent(SegmentSize));
            var seg = _segments[(int)(_length / SegmentSize)];
            int n = Math.Min(data.Length, SegmentSize - at);
            data[..n].CopyTo(seg.AsSpan(at));
            data = data[n..];
            _length += n;
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Everything written, as one array.</summary>
    public byte[] ToArray()
    {
        var result = GC.AllocateUninitializedArray<byte>(checked((int)_length));
        long done = 0;
        foreach (var seg in _segments)
        {
            int n = (int)Math.Min(SegmentSize, _length - done);
            if (n <= 0) break;
            seg.AsSpan(0, n).CopyTo(result.AsSpan((int)done));
            done += n;
        }
        return result;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _length + offset, _ => _length + offset };
        return _length;
    }

    public override void SetLength(long value) => Position = value;
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Returns the segments to the pool (disposing does not: some writers dispose their output before the bytes are taken).</summary>
    public void Release()
    {
        foreach (var seg in _segments) ArrayPool<byte>.Shared.Return(seg);
        _segments.Clear();
        _length = 0;
    }
}
