using System.Buffers;
using System.Runtime.CompilerServices;

namespace Brine.Formats.MessagePack;

/// <summary>
/// A growable byte buffer that the binary writers encode into and then copy to their stream in large blocks.
/// It is an <see cref="IBufferWriter{T}"/> so that MessagePackWriter can write straight into it.
/// </summary>
internal sealed class OutputBuffer : IBufferWriter<byte>
{
    byte[] _data;
    public int Length;

    public OutputBuffer(int capacity = 1 << 16) => _data = ArrayPool<byte>.Shared.Rent(capacity);

    public int Capacity => _data.Length;
    public ReadOnlySpan<byte> Written => _data.AsSpan(0, Length);
    public Span<byte> WrittenSpan => _data.AsSpan(0, Length);

    public void Advance(int count) => Length += count;

    public Memory<byte> GetMemory(int sizeHint = 0) { Ensure(sizeHint); return _data.AsMemory(Length); }

    // The fast paths are small enough to inline into the writers' per-token code; growing is the rare call.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        if ((uint)(_data.Length - Length) < (uint)Math.Max(sizeHint, 16)) Ensure(sizeHint);
        return _data.AsSpan(Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteByte(byte b) { if (Length == _data.Length) Ensure(1); _data[Length++] = b; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (_data.Length - Length < bytes.Length) Ensure(bytes.Length);
        bytes.CopyTo(_data.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>Moves the bytes from <paramref name="at"/> on up by <paramref name="count"/>, leaving a gap to fill.</summary>
    public void InsertGap(int at, int count)
    {
        Ensure(count);
        _data.AsSpan(at, Length - at).CopyTo(_data.AsSpan(at + count));
        Length += count;
    }

    void Ensure(int sizeHint)
    {
        if (sizeHint < 16) sizeHint = 16;
        if (_data.Length - Length >= sizeHint) return;
        long want = Math.Max((long)_data.Length * 2, (long)Length + sizeHint);
        if (want > Array.MaxLength) want = Math.Max((long)Length + sizeHint, Array.MaxLength);
        if (want > Array.MaxLength) throw new InvalidOperationException("output value larger than 2 GB");
        var bigger = ArrayPool<byte>.Shared.Rent((int)want);
        _data.AsSpan(0, Length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_data);
        _data = bigger;
    }

    /// <summary>Copies the contents to <paramref name="stream"/> and empties the buffer.</summary>
    public void FlushTo(Stream stream)
    {
        if (Length == 0) return;
        stream.Write(_data, 0, Length);
        Length = 0;
    }

    public void Release()
    {
        if (_data.Length == 0) return;
        ArrayPool<byte>.Shared.Return(_data);
        _data = Array.Empty<byte>();
        Length = 0;
    }
}
