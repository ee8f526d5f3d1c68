using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using Brine.Model;
using MessagePack;

namespace Brine.Formats.MessagePack;

/// <summary>
/// Writes Brine tokens as MessagePack with MessagePack-CSharp's <see cref="MessagePackWriter"/>, always in the
/// smallest encoding. MessagePack puts a container's item count in its header, so a container whose count is
/// unknown (-1) is kept in the output buffer until it ends, behind a one-byte placeholder for its header; at its
/// end the header is written there, and only when the count needs a longer header (16 items or more) are the
/// container's bytes moved up to make room. Records are mostly small maps, so most containers are never moved.
/// The outermost unknown-length list of a top-level value on a seekable stream is not buffered: an array32
/// header is written and its count patched at the end, so a huge list streams in constant memory.
/// </summary>
public sealed class MessagePackTokenWriter : TokenWriter
{
    const int FlushThreshold = 1 << 15; // half the buffer, so that small values never make it grow

    readonly Stream _out;
    readonly OutputBuffer _main = new();
    // Unknown-length containers still open: while any is, the buffer cannot be flushed.
    int _openUnknown;

    struct Frame
    {
        public bool IsMap;
        public long Declared;  // items expected (entries × 2 for maps), or -1
        public long Items;
        public int HeaderAt;   // buffer offset of the placeholder byte of an unknown-length header, or -1
        public long PatchAt;   // stream position of a patched array32 header, or -1
    }
    Frame[] _frames = new Frame[16];
    int _depth;
    readonly byte[] _scratch = new byte[12];

    public MessagePackTokenWriter(Stream output, WriteOptions options) { _out = output; }

    public override string FormatName => "msgpack";
    /// <summary>The most bytes the writer holds at the moment, for tests of streaming.</summary>
    internal int BufferedBytes => _main.Capacity;

    /// <summary>Counts the node in its container and forgets the tag and anchor (MessagePack has neither).</summary>
    void BeginNode()
    {
        if (_depth > 0) _frames[_depth - 1].Items++;
        PendingTag = null; PendingAnchor = null;
    }

    void AfterNode()
    {
        if (_openUnknown == 0 && _main.Length >= FlushThreshold) _main.FlushTo(_out);
    }

    public override void WriteNull()
    {
        BeginNode();
        _main.WriteByte(MessagePackCode.Nil);
        AfterNode();
    }

    public override void WriteBool(bool value)
    {
        BeginNode();
        _main.WriteByte(value ? MessagePackCode.True : MessagePackCode.False);
        AfterNode();
    }

    public override void WriteInt(long value)
    {
        BeginNode();
        WriteInteger(_main, value);
        AfterNode();
    }

    // The hot encodings (integers, string and container headers, nil, bool) are written here rather than
    // through MessagePackWriter: a MessagePackWriter is a ref struct that cannot live between token calls,
    // and creating and flushing one per token measured ~190 ns against ~20 ns for these few lines
    // (10 M tokens, .NET 10, this machine) — most of a JSON → MessagePack conversion's time.
    // The encodings are the smallest the spec allows, as MessagePackWriter's; the msgpack-test-suite checks them.

    static void WriteInteger(OutputBuffer o, long v)
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

    /// <summary>A header of the fix / 8 / 16 / 32-bit family: fixCode | n when n &lt; fixLimit, else the smallest sized form.</summary>
    static void WriteHeader(OutputBuffer o, uint n, byte fixCode, uint fixLimit, byte code8, byte code16, byte code32)
    {
        var span = o.GetSpan(5);
        if (n < fixLimit) { span[0] = (byte)(fixCode | n); o.Advance(1); }
        else if (code8 != 0 && n <= byte.MaxValue) { span[0] = code8; span[1] = (byte)n; o.Advance(2); }
        else if (n <= ushort.MaxValue) { span[0] = code16; BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)n); o.Advance(3); }
        else { span[0] = code32; BinaryPrimitives.WriteUInt32BigEndian(span[1..], n); o.Advance(5); }
    }

    static void WriteStringHeader(OutputBuffer o, int length) =>
        WriteHeader(o, (uint)length, MessagePackCode.MinFixStr, 32, MessagePackCode.Str8, MessagePackCode.Str16, MessagePackCode.Str32);

    static void WriteContainerHeader(OutputBuffer o, bool isMap, uint count)
    {
        if (isMap) WriteHeader(o, count, MessagePackCode.MinFixMap, 16, 0, MessagePackCode.Map16, MessagePackCode.Map32);
        else WriteHeader(o, count, MessagePackCode.MinFixArray, 16, 0, MessagePackCode.Array16, MessagePackCode.Array32);
    }

    public override void WriteBigInt(BigInteger value)
    {
        if (value >= long.MinValue && value <= long.MaxValue) { WriteInt((long)value); return; }
        if (value.Sign > 0 && value <= ulong.MaxValue)
        {
            BeginNode();
            var w = new MessagePackWriter(_main); w.Write((ulong)value); w.Flush();
            AfterNode();
            return;
        }
        throw Error($"the integer {value} does not fit in 64 bits, and MessagePack has no bigger integer; convert to CBOR, pickle, YAML or JSON to keep it");
    }

    public override void WriteFloat(double value)
    {
        BeginNode();
        // float64 always, as MessagePackWriter.Write(double) writes it; by hand for the cost (see WriteInteger).
        var span = _main.GetSpan(9);
        span[0] = MessagePackCode.Float64;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        _main.Advance(9);
        AfterNode();
    }

    /// <summary>MessagePack has no decimal: a float when the double reads back as the same number, else the digits as a string.</summary>
    public override void WriteDecimal(DecimalNumber value)
    {
        double d = value.ToDouble();
        if (double.IsFinite(d) && DecimalNumber.TryParse(d.ToString("R", CultureInfo.InvariantCulture), out var back) && back.ValueEquals(value))
            WriteFloat(d);
        else
            WriteString(value.ToString());
    }

    public override void WriteString(string value)
    {
        RequireWellFormed(value);
        BeginNode();
        var w = new MessagePackWriter(_main); w.Write(value); w.Flush();
        AfterNode();
    }

    /// <summary>Copies UTF-8 straight through (no transcoding): the fast path for JSON → MessagePack.</summary>
    public override void WriteStringUtf8(ReadOnlySpan<byte> utf8)
    {
        BeginNode();
        var o = _main;
        var span = o.GetSpan(utf8.Length + 5);
        int n = utf8.Length;
        if (n < 32) { span[0] = (byte)(MessagePackCode.MinFixStr | n); utf8.CopyTo(span[1..]); o.Advance(n + 1); }
        else { WriteStringHeader(o, n); o.Write(utf8); }
        AfterNode();
    }

    /// <summary>Bytes tagged <c>msgpack.ext:N</c> become extension type N again; other bytes are bin.</summary>
    public override void WriteBytes(ReadOnlySpan<byte> value)
    {
        var tag = PendingTag;
        BeginNode();
        var w = new MessagePackWriter(_main);
        if (tag is not null && MessagePackFormat.TryParseExtTag(tag, out sbyte code))
        {
            w.WriteExtensionFormatHeader(new ExtensionHeader(code, value.Length));
            w.WriteRaw(value);
        }
        else w.Write(value);
        w.Flush();
        AfterNode();
    }

    /// <summary>The timestamp extension (-1) in its smallest form: 32-bit seconds, 34-bit seconds + nanoseconds, or 96-bit. The offset is not kept.</summary>
    public override void WriteTimestamp(Timestamp value)
    {
        BeginNode();
        Span<byte> b = _scratch;
        long s = value.UnixSeconds; uint ns = (uint)value.Nanoseconds;
        int n;
        if (s >= 0 && s >> 34 == 0)
        {
            if (ns == 0 && s <= uint.MaxValue) { BinaryPrimitives.WriteUInt32BigEndian(b, (uint)s); n = 4; }
            else { BinaryPrimitives.WriteUInt64BigEndian(b, ((ulong)ns << 34) | (ulong)s); n = 8; }
        }
        else { BinaryPrimitives.WriteUInt32BigEndian(b, ns); BinaryPrimitives.WriteInt64BigEndian(b[4..], s); n = 12; }
        var w = new MessagePackWriter(_main);
        w.WriteExtensionFormatHeader(new ExtensionHeader(ReservedMessagePackExtensionTypeCode.DateTime, n));
        w.WriteRaw(b[..n]);
        w.Flush();
        AfterNode();
    }

    public override void WriteDate(DateOnly value) => WriteString(value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));

    public override void WriteTime(TimeOnly value) =>
        WriteString(value.Ticks % TimeSpan.TicksPerSecond == 0
            ? value.ToString("HH:mm:ss", CultureInfo.InvariantCulture)
            : value.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture));

    public override void WriteUuid(Guid value) => WriteString(value.ToString("D"));

    public override void StartList(int count = -1) => Start(false, count);
    public override void StartMap(int count = -1) => Start(true, count);
    public override void EndList() => End(false);
    public override void EndMap() => End(true);

    void Start(bool isMap, int count)
    {
        BeginNode();
        if (_depth == _frames.Length) Array.Resize(ref _frames, _depth * 2);
        ref var f = ref _frames[_depth];
        f = new Frame { IsMap = isMap, Declared = count < 0 ? -1 : (isMap ? 2L * count : count), HeaderAt = -1, PatchAt = -1 };
        if (count >= 0) WriteContainerHeader(_main, isMap, (uint)count);
        else if (_depth == 0 && !isMap && _out.CanSeek)
        {
            // Constant memory for a huge top-level list: a fixed-width array32 header, patched at the end.
            _main.FlushTo(_out);
            f.PatchAt = _out.Position;
            _main.Write(stackalloc byte[] { MessagePackCode.Array32, 0, 0, 0, 0 });
        }
        else
        {
            f.HeaderAt = _main.Length;
            _main.WriteByte(0);
            _openUnknown++;
        }
        _depth++;
    }

    void End(bool isMap)
    {
        if (_depth == 0) throw Error($"End{(isMap ? "Map" : "List")} without a start");
        ref var f = ref _frames[_depth - 1];
        if (f.IsMap != isMap) throw Error($"End{(isMap ? "Map" : "List")} closes a {(f.IsMap ? "map" : "list")}");
        if (isMap && f.Items % 2 != 0) throw Error("a map ends after a key without its value");
        if (f.Declared >= 0 && f.Items != f.Declared)
            throw Error($"a {(isMap ? "map" : "list")} announced {(isMap ? f.Declared / 2 : f.Declared)} {(isMap ? "entries" : "items")} but got {(isMap ? f.Items / 2 : f.Items)}");
        long count = isMap ? f.Items / 2 : f.Items;
        if (count > uint.MaxValue) throw Error($"a {(isMap ? "map" : "list")} of {count:N0} {(isMap ? "entries" : "items")} exceeds MessagePack's limit of 4,294,967,295");
        _depth--;
        if (f.HeaderAt >= 0)
        {
            // The header's placeholder is one byte; a longer header moves the container's items up. Every open
            // container's placeholder lies before this one, so their offsets stay right.
            int size = count < 16 ? 1 : count <= ushort.MaxValue ? 3 : 5;
            if (size > 1) _main.InsertGap(f.HeaderAt + 1, size - 1);
            int end = _main.Length;
            _main.Length = f.HeaderAt;
            WriteContainerHeader(_main, isMap, (uint)count);
            _main.Length = end;
            _openUnknown--;
        }
        else if (f.PatchAt >= 0)
        {
            _main.FlushTo(_out);
            long end = _out.Position;
            Span<byte> n = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(n, (uint)count);
            _out.Position = f.PatchAt + 1;
            _out.Write(n);
            _out.Position = end;
        }
        AfterNode();
    }

    public override void WriteAlias(string anchor) =>
        throw Error($"MessagePack has no references (alias '{anchor}'); expand them (--refs expand) or convert to YAML, CBOR or pickle");

    public override void Finish()
    {
        if (_depth > 0) throw Error($"Finish with {_depth} open container(s)");
        _main.FlushTo(_out);
        _out.Flush();
    }

    public override void Dispose()
    {
        _main.Release();
        base.Dispose();
    }
}
