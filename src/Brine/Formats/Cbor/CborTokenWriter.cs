using System.Buffers.Binary;
using System.Formats.Cbor;
using System.Globalization;
using System.Numerics;
using Brine.Formats.MessagePack;
using Brine.Model;

namespace Brine.Formats.Cbor;

/// <summary>
/// Writes Brine tokens as CBOR. Scalars (shortest-form integers and floats, strings, bignums, decimal fractions)
/// go through System.Formats.Cbor's <see cref="CborWriter"/>. Array, map and tag headers are written here:
/// CborWriter can only hand out a finished top-level item, so letting it write containers would hold a whole
/// top-level value in memory; writing the headers ourselves streams any size. Containers of known size get
/// definite lengths, others indefinite lengths closed by a break. Anchors and aliases become tags 28 and 29.
/// </summary>
public sealed class CborTokenWriter : TokenWriter
{
    const int FlushThreshold = 1 << 15; // half the buffer, so that small values never make it grow

    readonly Stream _out;
    readonly OutputBuffer _main = new();
    readonly CborWriter _w = new(CborConformanceMode.Lax, convertIndefiniteLengthEncodings: false, allowMultipleRootLevelValues: true);
    long[] _declared = new long[16]; // items expected (entries × 2 for maps), or -1 for indefinite length
    long[] _items = new long[16];
    bool[] _isMap = new bool[16];
    int _depth;
    readonly Dictionary<string, int> _shareables = new(StringComparer.Ordinal);

    public CborTokenWriter(Stream output, WriteOptions options)
    {
        _out = output;
        if (options.Setting("selfdescribe") is "true" or "1" or "yes") { WriteHead(6, CborFormat.SelfDescribeTag); }
    }

    public override string FormatName => "cbor";

    /// <summary>Moves what CborWriter holds into the output buffer, so that hand-written headers follow it in order.</summary>
    void Drain()
    {
        if (_w.BytesWritten == 0) return;
        int n = _w.Encode(_main.GetSpan(_w.BytesWritten));
        _main.Advance(n);
        _w.Reset();
    }

    /// <summary>An initial byte and its argument in the shortest form (RFC 8949 §3).</summary>
    void WriteHead(int major, ulong argument)
    {
        Drain();
        Span<byte> b = stackalloc byte[9];
        int n;
        byte mt = (byte)(major << 5);
        if (argument < 24) { b[0] = (byte)(mt | (byte)argument); n = 1; }
        else if (argument <= byte.MaxValue) { b[0] = (byte)(mt | 24); b[1] = (byte)argument; n = 2; }
        else if (argument <= ushort.MaxValue) { b[0] = (byte)(mt | 25); BinaryPrimitives.WriteUInt16BigEndian(b[1..], (ushort)argument); n = 3; }
        else if (argument <= uint.MaxValue) { b[0] = (byte)(mt | 26); BinaryPrimitives.WriteUInt32BigEndian(b[1..], (uint)argument); n = 5; }
        else { b[0] = (byte)(mt | 27); BinaryPrimitives.WriteUInt64BigEndian(b[1..], argument); n = 9; }
        _main.Write(b[..n]);
    }

    void WriteByte(byte b) { Drain(); _main.Write(stackalloc byte[] { b }); }

    /// <summary>Counts the node in its container and writes its anchor (tag 28) and tags. Returns the tag text left to the scalar.</summary>
    string? BeginNode()
    {
        if (_depth > 0) _items[_depth - 1]++;
        else _shareables.Clear(); // shared-reference numbers start again with each top-level value
        var tag = PendingTag; var anchor = PendingAnchor;
        PendingTag = null; PendingAnchor = null;
        if (anchor is not null)
        {
            if (!_shareables.TryAdd(anchor, _shareables.Count)) throw Error($"anchor '{anchor}' is defined twice");
            WriteHead(6, 28);
        }
        if (tag is null) return null;
        string? rest = null;
        foreach (var part in tag.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "set") WriteHead(6, CborFormat.SetTag);
            else if (part.StartsWith(CborFormat.TagPrefix, StringComparison.Ordinal) &&
                     ulong.TryParse(part.AsSpan(CborFormat.TagPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out ulong n))
                WriteHead(6, n);
            else if (part is CborFormat.UndefinedTag or CborFormat.SimpleTag) rest = part;
            // Other tags (type names such as models.User) have no CBOR form and are dropped, as documented.
        }
        return rest;
    }

    void AfterNode()
    {
        if (_w.BytesWritten >= FlushThreshold) Drain();
        if (_main.Length >= FlushThreshold) _main.FlushTo(_out);
    }

    public override void WriteNull()
    {
        if (BeginNode() == CborFormat.UndefinedTag) _w.WriteSimpleValue(CborSimpleValue.Undefined);
        else _w.WriteNull();
        AfterNode();
    }

    public override void WriteBool(bool value) { BeginNode(); _w.WriteBoolean(value); AfterNode(); }

    public override void WriteInt(long value)
    {
        if (BeginNode() == CborFormat.SimpleTag && value is >= 0 and <= 255 and not (>= 20 and <= 31)) _w.WriteSimpleValue((CborSimpleValue)value);
        else _w.WriteInt64(value);
        AfterNode();
    }

    public override void WriteBigInt(BigInteger value)
    {
        BeginNode();
        if (value.Sign >= 0 && value <= ulong.MaxValue) _w.WriteUInt64((ulong)value);
        else if (value.Sign < 0 && value >= -(BigInteger.One << 64)) _w.WriteCborNegativeIntegerRepresentation((ulong)(-1 - value));
        else _w.WriteBigInteger(value); // tags 2 and 3
        AfterNode();
    }

    /// <summary>The shortest of half, single or double precision that keeps the value (CborWriter picks it).</summary>
    public override void WriteFloat(double value) { BeginNode(); _w.WriteDouble(value); AfterNode(); }

    /// <summary>Tag 4: a decimal fraction [exponent, mantissa], exact at any precision.</summary>
    public override void WriteDecimal(DecimalNumber value)
    {
        BeginNode();
        _w.WriteTag(CborTag.DecimalFraction);
        _w.WriteStartArray(2);
        _w.WriteInt64(-(long)value.Scale);
        var m = value.Unscaled;
        if (m >= long.MinValue && m <= long.MaxValue) _w.WriteInt64((long)m); else _w.WriteBigInteger(m);
        _w.WriteEndArray();
        AfterNode();
    }

    public override void WriteString(string value) { RequireWellFormed(value); BeginNode(); _w.WriteTextString(value); AfterNode(); }

    /// <summary>Copies UTF-8 straight through (CborWriter takes only UTF-16 text).</summary>
    public override void WriteStringUtf8(ReadOnlySpan<byte> utf8)
    {
        BeginNode();
        WriteHead(3, (ulong)utf8.Length);
        _main.Write(utf8);
        AfterNode();
    }

    public override void WriteBytes(ReadOnlySpan<byte> value) { BeginNode(); _w.WriteByteString(value); AfterNode(); }

    /// <summary>Tag 0 (RFC 3339 text, nanoseconds and offset kept); tag 1 epoch seconds outside years 1–9999.</summary>
    public override void WriteTimestamp(Timestamp value)
    {
        BeginNode();
        const long MinSeconds = -62135596800, MaxSeconds = 253402300799; // 0001-01-01, 9999-12-31T23:59:59
        if (value.UnixSeconds is >= MinSeconds + 86400 and <= MaxSeconds - 86400)
        {
            var t = value.OffsetMinutes is null ? new Timestamp(value.UnixSeconds, value.Nanoseconds, 0) : value;
            _w.WriteTag(CborTag.DateTimeString);
            _w.WriteTextString(t.ToString());
        }
        else
        {
            _w.WriteTag(CborTag.UnixTimeSeconds);
            if (value.Nanoseconds == 0) _w.WriteInt64(value.UnixSeconds);
            else _w.WriteDouble(value.UnixSeconds + value.Nanoseconds / 1e9);
        }
        AfterNode();
    }

    /// <summary>Tag 1004 (RFC 8943 full-date).</summary>
    public override void WriteDate(DateOnly value)
    {
        BeginNode();
        _w.WriteTag((CborTag)CborFormat.FullDateTag);
        _w.WriteTextString(value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        AfterNode();
    }

    /// <summary>CBOR has no time-of-day tag: the time as text.</summary>
    public override void WriteTime(TimeOnly value) =>
        WriteString(value.Ticks % TimeSpan.TicksPerSecond == 0
            ? value.ToString("HH:mm:ss", CultureInfo.InvariantCulture)
            : value.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture));

    /// <summary>Tag 37: the 16 bytes in RFC 9562 (big-endian) order.</summary>
    public override void WriteUuid(Guid value)
    {
        BeginNode();
        Span<byte> b = stackalloc byte[16];
        value.TryWriteBytes(b, bigEndian: true, out _);
        _w.WriteTag((CborTag)CborFormat.UuidTag);
        _w.WriteByteString(b);
        AfterNode();
    }

    public override void StartList(int count = -1) => Start(false, count);
    public override void StartMap(int count = -1) => Start(true, count);
    public override void EndList() => End(false);
    public override void EndMap() => End(true);

    void Start(bool isMap, int count)
    {
        BeginNode();
        if (_depth == _declared.Length)
        {
            Array.Resize(ref _declared, _depth * 2);
            Array.Resize(ref _items, _depth * 2);
            Array.Resize(ref _isMap, _depth * 2);
        }
        _declared[_depth] = count < 0 ? -1 : isMap ? 2L * count : count;
        _items[_depth] = 0;
        _isMap[_depth] = isMap;
        _depth++;
        if (count >= 0) WriteHead(isMap ? 5 : 4, (ulong)count);
        else WriteByte(isMap ? (byte)0xbf : (byte)0x9f);
        AfterNode();
    }

    void End(bool isMap)
    {
        if (_depth == 0) throw Error($"End{(isMap ? "Map" : "List")} without a start");
        int d = _depth - 1;
        if (_isMap[d] != isMap) throw Error($"End{(isMap ? "Map" : "List")} closes a {(_isMap[d] ? "map" : "list")}");
        if (isMap && _items[d] % 2 != 0) throw Error("a map ends after a key without its value");
        if (_declared[d] >= 0 && _items[d] != _declared[d])
            throw Error($"a {(isMap ? "map" : "list")} announced {(isMap ? _declared[d] / 2 : _declared[d])} {(isMap ? "entries" : "items")} but got {(isMap ? _items[d] / 2 : _items[d])}");
        if (_declared[d] < 0) WriteByte(0xff);
        _depth--;
        AfterNode();
    }

    /// <summary>Tag 29 with the number of the shareable (tag 28) node the anchor named.</summary>
    public override void WriteAlias(string anchor)
    {
        if (!_shareables.TryGetValue(anchor, out int index)) throw Error($"alias '{anchor}' refers to no earlier anchor");
        if (_depth > 0) _items[_depth - 1]++;
        PendingTag = null; PendingAnchor = null;
        WriteHead(6, 29);
        WriteHead(0, (ulong)index);
        AfterNode();
    }

    public override void Finish()
    {
        if (_depth > 0) throw Error($"Finish with {_depth} open container(s)");
        Drain();
        _main.FlushTo(_out);
        _out.Flush();
    }

    public override void Dispose()
    {
        _main.Release();
        base.Dispose();
    }
}
