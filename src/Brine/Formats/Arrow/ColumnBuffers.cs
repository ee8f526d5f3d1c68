using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using Apache.Arrow.Types;

namespace Brine.Formats.Arrow;

/// <summary>
/// Growable Arrow column buffers that turn into arrays without copying value by value. Apache.Arrow's builders
/// append through several layers per value; decoders that fill millions of cells write these buffers directly.
/// </summary>
internal abstract class ColumnBuffer
{
    protected byte[] Validity = new byte[64];
    public int Length;
    protected int Nulls;

    public abstract IArrowType Type { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected void MarkValid()
    {
        int i = Length;
        if ((i >> 3) >= Validity.Length) System.Array.Resize(ref Validity, Validity.Length * 2);
        Validity[i >> 3] |= (byte)(1 << (i & 7));
    }

    protected void MarkNull()
    {
        int i = Length;
        if ((i >> 3) >= Validity.Length) System.Array.Resize(ref Validity, Validity.Length * 2);
        Nulls++;
    }

    public abstract void AppendNull();

    protected ArrowBuffer ValidityBuffer() => Nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(Validity.AsSpan(0, (Length + 7) / 8).ToArray());

    /// <summary>Builds the array of the values appended so far and starts a new one.</summary>
    public abstract IArrowArray Build();

    protected void ResetCommon() { Validity = new byte[Math.Max(64, (Length + 7) / 8)]; Length = 0; Nulls = 0; }
}

/// <summary>Fixed-width values (ints, floats, dates, times, timestamps, decimals as 16/32-byte words).</summary>
internal sealed class FixedWidthBuilder<T>(IArrowType type) : ColumnBuffer where T : unmanaged
{
    T[] _values = new T[1024];
    public override IArrowType Type => type;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(T value)
    {
        if (Length == _values.Length) System.Array.Resize(ref _values, _values.Length * 2);
        MarkValid();
        _values[Length++] = value;
    }

    public override void AppendNull()
    {
        if (Length == _values.Length) System.Array.Resize(ref _values, _values.Length * 2);
        MarkNull();
        _values[Length++] = default;
    }

    public override IArrowArray Build()
    {
        var bytes = MemoryMarshal.AsBytes(_values.AsSpan(0, Length)).ToArray();
        var data = new ArrayData(type, Length, Nulls, 0, new[] { ValidityBuffer(), new ArrowBuffer(bytes) });
        _values = new T[Math.Max(1024, Length)];
        ResetCommon();
        return ArrowArrayFactory.BuildArray(data);
    }
}

/// <summary>Fixed-size byte strings (FixedSizeBinary, Decimal128/256 as raw words).</summary>
internal sealed class FixedBytesBuilder(IArrowType type, int width) : ColumnBuffer
{
    byte[] _values = new byte[1024 * width];
    public override IArrowType Type => type;

    public Span<byte> AppendSlot()
    {
        if ((Length + 1) * width > _values.Length) System.Array.Resize(ref _values, _values.Length * 2);
        MarkValid();
        var s = _values.AsSpan(Length * width, width);
        Length++;
        return s;
    }

    public override void AppendNull()
    {
        if ((Length + 1) * width > _values.Length) System.Array.Resize(ref _values, _values.Length * 2);
        MarkNull();
        _values.AsSpan(Length * width, width).Clear();
        Length++;
    }

    public override IArrowArray Build()
    {
        var data = new ArrayData(type, Length, Nulls, 0, new[] { ValidityBuffer(), new ArrowBuffer(_values.AsSpan(0, Length * width).ToArray()) });
        _values = new byte[Math.Max(1024, Length) * width];
        ResetCommon();
        return ArrowArrayFactory.BuildArray(data);
    }
}

/// <summary>Booleans as a bitmap.</summary>
internal sealed class BoolBuilder : ColumnBuffer
{
    byte[] _bits = new byte[128];
    public override IArrowType Type => BooleanType.Default;

    public void Append(bool v)
    {
        if ((Length >> 3) >= _bits.Length) System.Array.Resize(ref _bits, _bits.Length * 2);
        MarkValid();
        if (v) _bits[Length >> 3] |= (byte)(1 << (Length & 7));
        Length++;
    }

    public override void AppendNull()
    {
        if ((Length >> 3) >= _bits.Length) System.Array.Resize(ref _bits, _bits.Length * 2);
        MarkNull();
        Length++;
    }

    public override IArrowArray Build()
    {
        var data = new ArrayData(BooleanType.Default, Length, Nulls, 0, new[] { ValidityBuffer(), new ArrowBuffer(_bits.AsSpan(0, (Length + 7) / 8).ToArray()) });
        _bits = new byte[Math.Max(128, (Length + 7) / 8)];
        ResetCommon();
        return ArrowArrayFactory.BuildArray(data);
    }
}

/// <summary>Variable-length strings or binary: 32-bit offsets and one data buffer.</summary>
internal sealed class VarBytesBuilder(IArrowType type) : ColumnBuffer
{
    int[] _offsets = new int[1025];
    byte[] _data = new byte[1 << 14];
    int _dataLength;
    public override IArrowType Type => type;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(ReadOnlySpan<byte> value)
    {
        if (Length + 1 >= _offsets.Length) System.Array.Resize(ref _offsets, _offsets.Length * 2);
        if (_dataLength + value.Length > _data.Length) System.Array.Resize(ref _data, Math.Max(_data.Length * 2, _dataLength + value.Length));
        MarkValid();
        value.CopyTo(_data.AsSpan(_dataLength));
        _dataLength += value.Length;
        _offsets[++Length] = _dataLength;
    }

    public void Append(string value)
    {
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_dataLength + max > _data.Length) System.Array.Resize(ref _data, Math.Max(_data.Length * 2, _dataLength + max));
        if (Length + 1 >= _offsets.Length) System.Array.Resize(ref _offsets, _offsets.Length * 2);
        MarkValid();
        _dataLength += System.Text.Encoding.UTF8.GetBytes(value, _data.AsSpan(_dataLength));
        _offsets[++Length] = _dataLength;
    }

    public override void AppendNull()
    {
        if (Length + 1 >= _offsets.Length) System.Array.Resize(ref _offsets, _offsets.Length * 2);
        MarkNull();
        _offsets[++Length] = _dataLength;
    }

    public override IArrowArray Build()
    {
        var offsets = MemoryMarshal.AsBytes(_offsets.AsSpan(0, Length + 1)).ToArray();
        var data = new ArrayData(type, Length, Nulls, 0, new[] { ValidityBuffer(), new ArrowBuffer(offsets), new ArrowBuffer(_data.AsSpan(0, _dataLength).ToArray()) });
        _offsets = new int[Math.Max(1025, Length + 1)];
        _data = new byte[Math.Max(1 << 14, _dataLength)];
        _dataLength = 0;
        ResetCommon();
        return ArrowArrayFactory.BuildArray(data);
    }
}

/// <summary>A column of nulls only (Avro "null" fields).</summary>
internal sealed class NullColumnBuilder : ColumnBuffer
{
    public override IArrowType Type => NullType.Default;
    public override void AppendNull() { Length++; Nulls++; }
    public override IArrowArray Build() { var a = new NullArray(Length); Length = 0; Nulls = 0; return a; }
}
