using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using Brine.Model;
using MessagePack;

namespace Brine.Formats.MessagePack;

/// <summary>
/// The MessagePack encodings Brine writes, always the smallest the spec allows (as MessagePackWriter's), shared by
/// <see cref="MessagePackTokenWriter"/> and the direct JSON → MessagePack transcoder so that both give the same bytes.
/// </summary>
/// <remarks>
/// The hot encodings (integers, string and container headers, floats) are written by hand rather than through
/// MessagePackWriter: a MessagePackWriter is a ref struct that cannot live between token calls, and creating and
/// flushing one per token measured ~190 ns against ~20 ns for these few lines (10 M tokens, .NET 10). The
/// msgpack-test-suite checks them.
/// </remarks>
internal static class MessagePackEncoding
{
    public static void WriteInteger(OutputBuffer o, long v)
    {
        var span = o.GetSpan(9);
        int n;
        if (v >= 0)
        {
            if (v <= MessagePackRange.MaxFixPositiveInt) { span[0] = (byte)v; n = 1; }
            else if (v <= byte.MaxValue) { span[0] = MessagePackCode.UInt8; span[1] = (byte)v; n = 2; }
            else if (v <= ushort.MaxValue) { span[0] = MessagePackCode.UInt16; BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)v); n = 3; }
            else if (v <= uint.MaxValue) { span[0] = MessagePackCode.UInt32; BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)v); n = 5; }
            else { span[0] = MessagePackCode.UInt64; BinaryPrimitives.WriteUInt64BigEndian(span[1..], (ulong)v); n = 9; }
        }
        else
        {
            if (v >= MessagePackRange.MinFixNegativeInt) { span[0] = unchecked((byte)(sbyte)v); n = 1; }
            else if (v >= sbyte.MinValue) { span[0] = MessagePackCode.Int8; span[1] = unchecked((byte)(sbyte)v); n = 2; }
            else if (v >= short.MinValue) { span[0] = MessagePackCode.Int16; BinaryPrimitives.WriteInt16BigEndian(span[1..], (short)v); n = 3; }
            else if (v >= int.MinValue) { span[0] = MessagePackCode.Int32; BinaryPrimitives.WriteInt32BigEndian(span[1..], (int)v); n = 5; }
            else { span[0] = MessagePackCode.Int64; BinaryPrimitives.WriteInt64BigEndian(span[1..], v); n = 9; }
        }
        o.Advance(n);
    }

    /// <summary>An integer beyond 64 bits signed: uint64 when it fits, else an error message (MessagePack has no bigger integer).</summary>
    public static string? WriteBigInt(OutputBuffer o, BigInteger value)
    {
        if (value >= long.MinValue && value <= long.MaxValue) { WriteInteger(o, (long)value); return null; }
        if (value.Sign > 0 && value <= ulong.MaxValue)
        {
            var w = new MessagePackWriter(o); w.Write((ulong)value); w.Flush();
            return null;
        }
        return $"the integer {value} does not fit in 64 bits, and MessagePack has no bigger integer; convert to CBOR, pickle, YAML or JSON to keep it";
    }

    /// <summary>float64 always, as MessagePackWriter.Write(double) writes it.</summary>
    public static void WriteFloat(OutputBuffer o, double value)
    {
        var span = o.GetSpan(9);
        span[0] = MessagePackCode.Float64;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        o.Advance(9);
    }

    /// <summary>MessagePack has no decimal: a float when the double reads back as the same number, else the digits as a string.</summary>
    public static void WriteDecimal(OutputBuffer o, DecimalNumber value)
    {
        double d = value.ToDouble();
        if (double.IsFinite(d) && DecimalNumber.TryParse(d.ToString("R", CultureInfo.InvariantCulture), out var back) && back.ValueEquals(value))
            WriteFloat(o, d);
        else
            WriteString(o, value.ToString());
    }

    /// <summary>A string already checked to be well-formed UTF-16.</summary>
    public static void WriteString(OutputBuffer o, string value)
    {
        var w = new MessagePackWriter(o); w.Write(value); w.Flush();
    }

    /// <summary>UTF-8 copied straight through (no transcoding).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // the commonest token of a JSON conversion
    public static void WriteStringUtf8(OutputBuffer o, ReadOnlySpan<byte> utf8)
    {
        int n = utf8.Length;
        var span = o.GetSpan(n + 5);
        if (n < 32) { span[0] = (byte)(MessagePackCode.MinFixStr | n); utf8.CopyTo(span[1..]); o.Advance(n + 1); }
        else { WriteStringHeader(o, n); o.Write(utf8); }
    }

    /// <summary>A header of the fix / 8 / 16 / 32-bit family: fixCode | n when n &lt; fixLimit, else the smallest sized form.</summary>
    static void WriteHeader(OutputBuffer o, uint n, byte fixCode, uint fixLimit, byte code8, byte code16, byte code32)
    {
        var span = o.GetSpan(5);
        if (n < fixLimit) { span[0] = (byte)(fixCode | n); o.Advance(1); }
        else if (code8 != 0 && n <= byte.MaxValue) { span[0] = code8; span[1] = (byte)n; o.Advance(2); }
        else if (n <= ushort.MaxValue) { span[0] = code16; BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)n); o.Advance(3); }
        else { span[0] = code32; BinaryPrimitives.WriteUInt32BigEndian(span[1..], n); o.Advance(5); }
    }

    public static void WriteStringHeader(OutputBuffer o, int length) =>
        WriteHeader(o, (uint)length, MessagePackCode.MinFixStr, 32, MessagePackCode.Str8, MessagePackCode.Str16, MessagePackCode.Str32);

    public static void WriteContainerHeader(OutputBuffer o, bool isMap, uint count)
    {
        if (isMap) WriteHeader(o, count, MessagePackCode.MinFixMap, 16, 0, MessagePackCode.Map16, MessagePackCode.Map32);
        else WriteHeader(o, count, MessagePackCode.MinFixArray, 16, 0, MessagePackCode.Array16, MessagePackCode.Array32);
    }

    /// <summary>Bytes a container header takes for <paramref name="count"/> items.</summary>
    public static int ContainerHeaderSize(long count) => count < 16 ? 1 : count <= ushort.MaxValue ? 3 : 5;
}
