using System.Buffers;

namespace Brine.IO;

/// <summary>
/// A write-only stream that gathers bytes in pooled segments and hands them back as one exact array: a large
/// output costs one copy, not the doubling copies of a <see cref="MemoryStream"/> plus its <c>ToArray</c>. A writer
/// with a buffer of its own can hand that buffer over whole (<see cref="Adopt"/>) instead of copying it in.
/// Seeking back drops what follows (a writer that gives up part-way, such as pickle's direct object path, rewinds).
/// </summary>
internal sealed class SegmentBuffer : Stream
{
    const int SegmentSize = 1 << 20;

    struct Segment
    {
        public byte[] Array;
        public int Length;
        /// <summary>Rented here (returned to the pool by <see cref="Release"/>).</summary>
        public bool Rented;
        /// <summary>Written by <see cref="Write"/> (an adopted buffer is not appended to).</summary>
        public bool Open;
    }

    readonly List<Segment> _segments = new();
    /// <summary>Arrays rented here and handed to a writer by <see cref="Adopt"/>, not yet back.</summary>
    readonly HashSet<byte[]> _lent = new(ReferenceEqualityComparer.Instance);
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
            while (_segments.Count > 0 && _length - _segments[^1].Length >= value)
            {
                var last = _segments[^1];
                _length -= last.Length;
                if (last.Rented) ArrayPool<byte>.Shared.Return(last.Array);
                _segments.RemoveAt(_segments.Count - 1);
            }
            if (_segments.Count > 0 && _length > value)
            {
                var last = _segments[^1];
                last.Length -= (int)(_length - value);
                _segments[^1] = last;
                _length = value;
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            if (_segments.Count == 0 || !_segments[^1].Open || _segments[^1].Length == _segments[^1].Array.Length)
                _segments.Add(new Segment { Array = ArrayPool<byte>.Shared.Rent(SegmentSize), Rented = true, Open = true });
            var seg = _segments[^1];
            int n = Math.Min(data.Length, seg.Array.Length - seg.Length);
            data[..n].CopyTo(seg.Array.AsSpan(seg.Length));
            seg.Length += n;
            _segments[^1] = seg;
            data = data[n..];
            _length += n;
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>
    /// Takes the first <paramref name="length"/> bytes of <paramref name="buffer"/> as they are (the caller gives the
    /// array up) and returns a pooled array at least as long for the caller to go on writing into.
    /// </summary>
    public byte[] Adopt(byte[] buffer, int length)
    {
        bool rented = _lent.Remove(buffer);
        if (length > 0) _segments.Add(new Segment { Array = buffer, Length = length, Rented = rented });
        else if (rented) ArrayPool<byte>.Shared.Return(buffer);
        _length += length;
        var next = ArrayPool<byte>.Shared.Rent(buffer.Length);
        _lent.Add(next);
        return next;
    }

    /// <summary>Everything written, as one array.</summary>
    public byte[] ToArray()
    {
        var result = GC.AllocateUninitializedArray<byte>(checked((int)_length));
        int at = 0;
        foreach (var seg in _segments)
        {
            seg.Array.AsSpan(0, seg.Length).CopyTo(result.AsSpan(at));
            at += seg.Length;
        }
        return result;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch { SeekOrigin.Begin => offset, _ => _length + offset };
        return _length;
    }

    public override void SetLength(long value) => Position = value;
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Returns the segments to the pool (disposing does not: some writers dispose their output before the bytes are taken).</summary>
    public void Release()
    {
        foreach (var seg in _segments) if (seg.Rented) ArrayPool<byte>.Shared.Return(seg.Array);
        _segments.Clear();
        _length = 0;
    }
}
