using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using Brine.Model;
using MessagePack;
using static Brine.Formats.MessagePack.MessagePackEncoding;

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

    public override void WriteBigInt(BigInteger value)
    {
        if (value >= long.MinValue && value <= long.MaxValue) { WriteInt((long)value); return; }
        BeginNode();
        if (MessagePackEncoding.WriteBigInt(_main, value) is { } error) throw Error(error);
        AfterNode();
    }

    public override void WriteFloat(double value)
    {
        BeginNode();
        MessagePackEncoding.WriteFloat(_main, value);
        AfterNode();
    }

    public override void WriteDecimal(DecimalNumber value)
    {
        BeginNode();
        MessagePackEncoding.WriteDecimal(_main, value);
        AfterNode();
    }

    public override void WriteString(string value)
    {
        RequireWellFormed(value);
        BeginNode();
        MessagePackEncoding.WriteString(_main, value);
        AfterNode();
    }

    /// <summary>Copies UTF-8 straight through (no transcoding): the fast path for JSON → MessagePack.</summary>
    public override void WriteStringUtf8(ReadOnlySpan<byte> utf8)
    {
        BeginNode();
        MessagePackEncoding.WriteStringUtf8(_main, utf8);
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
            int size = MessagePackEncoding.ContainerHeaderSize(count);
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
