using System.Buffers.Binary;
using System.Formats.Cbor;
using System.Globalization;
using System.Numerics;
using Brine.Formats.MessagePack;
using Brine.Model;

namespace Brine.Formats.Cbor;

/// <summary>
/// Reads CBOR (RFC 8949) into Brine tokens, streaming. System.Formats.Cbor's <see cref="CborReader"/> decodes
/// every scalar (integers, half/single/double floats, text and byte strings, definite or chunked) and the
/// tagged scalars (bignums, decimal fractions, date-times, UUIDs). Array, map and tag headers are decoded
/// here instead, because CborReader refuses a container whose declared items are not all in its buffer and
/// nests at most MaxDepth levels: walking the structure ourselves lets a huge or indefinite array stream item
/// by item and nesting go as deep as memory allows. Memory is bounded by the largest single scalar.
/// </summary>
public sealed class CborTokenReader : TokenReader
{
    readonly InputWindow _in;
    readonly ReadOptions _options;
    readonly CborReader _cbor = new(ReadOnlyMemory<byte>.Empty, CborConformanceMode.Strict, allowMultipleRootLevelValues: true);
    // Open containers: items still to read (map entries count twice; -1 for indefinite length), and whether each is a map.
    long[] _remaining = new long[16];
    bool[] _isMap = new bool[16];
    long[] _count = new long[16];
    int _depth;
    long _tokenOffset;
    int _shareables; // tag 28 values seen in the current top-level value
    readonly List<string> _anchorNames = new();

    public CborTokenReader(Stream input, ReadOptions options)
    {
        _options = options;
        _in = new InputWindow(input, 1 << 16, Math.Min(options.MaxValueBytes + 64, Array.MaxLength));
    }

    public override string FormatName => "cbor";
    /// <summary>The size of the input window, for tests of streaming.</summary>
    internal int WindowBytes => _in.Buffer.Length;
    public override string Location => $"byte {_tokenOffset}";

    public override bool Read()
    {
        ResetNodeInfo();
        if (_depth > 0 && _remaining[_depth - 1] == 0) return Close();
        _tokenOffset = _in.Offset;
        _in.Ensure(9);
        if (_in.Available == 0)
        {
            if (_depth > 0) throw Error($"unexpected end of input inside {(_isMap[_depth - 1] ? "a map" : "an array")}");
            Kind = TokenKind.None;
            return false;
        }
        if (_in.Buffer[_in.Pos] == 0xff)
        {
            if (_depth == 0 || _remaining[_depth - 1] != -1) throw Error("a break (0xff) outside an indefinite-length array or map");
            if (_isMap[_depth - 1] && _count[_depth - 1] % 2 != 0) throw Error("an indefinite-length map ends after a key without its value");
            _in.Pos++;
            return Close();
        }
        if (_depth == 0) { _shareables = 0; _anchorNames.Clear(); }
        int parent = _depth - 1;
        ReadNode();
        if (parent >= 0)
        {
            if (_remaining[parent] > 0) _remaining[parent]--;
            _count[parent]++;
        }
        return true;
    }

    bool Close()
    {
        _depth--;
        Kind = _isMap[_depth] ? TokenKind.EndMap : TokenKind.EndList;
        return true;
    }

    /// <summary>Reads one node: its tags, then a container start or a scalar.</summary>
    void ReadNode()
    {
        while (true)
        {
            var h = Header();
            switch (h.Major)
            {
                case 6:
                    if (HandleTag(h)) return;
                    continue;
                case 4:
                case 5:
                {
                    _in.Pos += h.Length;
                    bool isMap = h.Major == 5;
                    long items = h.Indefinite ? -1 : (long)Math.Min(h.Argument, (ulong)long.MaxValue / 2) * (isMap ? 2 : 1);
                    if (!h.Indefinite) Count = h.Argument <= int.MaxValue ? (int)h.Argument : -1;
                    Push(items, isMap);
                    Kind = isMap ? TokenKind.StartMap : TokenKind.StartList;
                    return;
                }
                default:
                    ReadScalar(h);
                    return;
            }
        }
    }

    /// <summary>Consumes a tag. Returns true when the tag and its content made a whole token.</summary>
    bool HandleTag(in CborHeader h)
    {
        ulong tag = h.Argument;
        switch (tag)
        {
            case 28: // shareable: the next node may be referred to by tag 29
                _in.Pos += h.Length;
                Anchor = "id" + (++_shareables).ToString(CultureInfo.InvariantCulture);
                _anchorNames.Add(Anchor);
                return false;
            case 29: // sharedref: an alias to the n-th shareable node
            {
                _in.Pos += h.Length;
                var c = Header();
                if (c.Major != 0) throw Error("tag 29 (shared reference) must hold an unsigned integer");
                if (c.Argument >= (ulong)_anchorNames.Count) throw Error($"shared reference {c.Argument} refers to no earlier shareable value (tag 28)");
                _in.Pos += c.Length;
                StringValue = _anchorNames[(int)c.Argument];
                Anchor = null;
                Kind = TokenKind.Alias;
                return true;
            }
            case 258: // a set (draft registration): an array of unique items
                _in.Pos += h.Length;
                AddTag("set");
                return false;
            case 0 or 1 or 2 or 3 or 4 or 37 or 1004 when TrySemanticTag(h):
                return true;
            default:
                _in.Pos += h.Length;
                AddTag(CborFormat.TagPrefix + tag.ToString(CultureInfo.InvariantCulture));
                return false;
        }
    }

    void AddTag(string tag) => Tag = Tag is null ? tag : Tag + " " + tag;

    /// <summary>Decodes a standard tag and its content as one value when the content has the expected type; false leaves it as a plain tag.</summary>
    bool TrySemanticTag(in CborHeader h)
    {
        int start = _in.Pos;
        _in.Pos += h.Length;
        var c = Header();
        _in.Pos = start;
        bool fits = h.Argument switch
        {
            0 or 1004 => c.Major == 3,
            1 => c.Major is 0 or 1 || (c.Major == 7 && c.Ai is 25 or 26 or 27),
            2 or 3 or 37 => c.Major == 2,
            4 => c.Major == 4 && !c.Indefinite && c.Argument == 2,
            _ => false,
        };
        if (!fits) return false;
        long known = c.Major is 2 or 3 && !c.Indefinite ? h.Length + c.Length + (long)c.Argument
                   : c.Major is 0 or 1 or 7 ? h.Length + c.Length : -1;
        ulong tagNumber = h.Argument;
        while (true)
        {
            var r = Begin(known, out int slice);
            try { DecodeSemantic(r, tagNumber); End(r, slice); return true; }
            catch (Exception e) when (IsDecodeError(e)) { Retry(e, known); }
        }
    }

    void DecodeSemantic(CborReader r, ulong tagNumber)
    {
            switch (tagNumber)
            {
                case 0:
                {
                    r.ReadTag();
                    var text = r.ReadTextString();
                    if (!Timestamp.TryParse(text, out var ts) || ts.OffsetMinutes is null) throw Error($"tag 0 holds '{text}', not an RFC 3339 date-time");
                    TimestampValue = ts; Kind = TokenKind.Timestamp;
                    break;
                }
                case 1:
                {
                    r.ReadTag();
                    if (r.PeekState() is CborReaderState.UnsignedInteger or CborReaderState.NegativeInteger)
                    {
                        var secs = ReadInteger(r);
                        if (secs < long.MinValue || secs > long.MaxValue) throw Error("tag 1 epoch seconds out of range");
                        TimestampValue = new Timestamp((long)secs, 0, 0);
                    }
                    else
                    {
                        double d = r.ReadDouble();
                        if (!double.IsFinite(d) || Math.Abs(d) > 9.2e18) throw Error($"tag 1 epoch seconds {d} out of range");
                        double whole = Math.Floor(d);
                        int nanos = (int)Math.Min(999_999_999, Math.Round((d - whole) * 1e9));
                        TimestampValue = new Timestamp((long)whole, nanos, 0);
                    }
                    Kind = TokenKind.Timestamp;
                    break;
                }
                case 2 or 3:
                    SetInteger(r.ReadBigInteger());
                    break;
                case 4:
                {
                    r.ReadTag();
                    r.ReadStartArray();
                    var exponent = ReadInteger(r);
                    BigInteger mantissa = r.PeekState() == CborReaderState.Tag ? r.ReadBigInteger() : ReadInteger(r);
                    r.ReadEndArray();
                    if (exponent < int.MinValue + 1 || exponent > int.MaxValue) throw Error("decimal fraction exponent out of range");
                    DecimalValue = new DecimalNumber(mantissa, -(int)exponent);
                    Kind = TokenKind.Decimal;
                    break;
                }
                case 37:
                {
                    r.ReadTag();
                    var b = r.ReadByteString();
                    if (b.Length != 16) throw Error($"tag 37 (UUID) holds {b.Length} bytes, not 16");
                    UuidValue = new Guid(b, bigEndian: true);
                    Kind = TokenKind.Uuid;
                    break;
                }
                case 1004:
                {
                    r.ReadTag();
                    var text = r.ReadTextString();
                    if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) throw Error($"tag 1004 holds '{text}', not an RFC 3339 full-date");
                    DateValue = date; Kind = TokenKind.Date;
                    break;
                }
            }
    }

    static BigInteger ReadInteger(CborReader r) => r.PeekState() switch
    {
        CborReaderState.UnsignedInteger => r.ReadUInt64(),
        CborReaderState.NegativeInteger => -1 - (BigInteger)r.ReadCborNegativeIntegerRepresentation(),
        var s => throw new InvalidOperationException($"expected an integer, found {s}"),
    };

    void SetInteger(BigInteger v)
    {
        if (v >= long.MinValue && v <= long.MaxValue) Int64Value = (long)v; else BigValue = v;
        Kind = TokenKind.Int;
    }

    void ReadScalar(in CborHeader h)
    {
        long known = h.Major is 2 or 3 ? (h.Indefinite ? -1 : h.Length + (long)h.Argument) : h.Length;
        if (h.Major == 7 && h.Ai == 31) throw Error("a break (0xff) outside an indefinite-length array or map");
        while (true)
        {
            var r = Begin(known, out int slice);
            try { DecodeScalar(r); End(r, slice); return; }
            catch (Exception e) when (IsDecodeError(e)) { Retry(e, known); }
        }
    }

    void DecodeScalar(CborReader r)
    {
            switch (r.PeekState())
            {
                case CborReaderState.UnsignedInteger:
                {
                    ulong u = r.ReadUInt64();
                    if (u > long.MaxValue) BigValue = u; else Int64Value = (long)u;
                    Kind = TokenKind.Int;
                    break;
                }
                case CborReaderState.NegativeInteger:
                {
                    ulong n = r.ReadCborNegativeIntegerRepresentation();
                    if (n <= long.MaxValue) Int64Value = -1 - (long)n; else BigValue = -1 - (BigInteger)n;
                    Kind = TokenKind.Int;
                    break;
                }
                case CborReaderState.TextString:
                case CborReaderState.StartIndefiniteLengthTextString:
                    StringValue = r.ReadTextString();
                    Kind = TokenKind.String;
                    break;
                case CborReaderState.ByteString:
                case CborReaderState.StartIndefiniteLengthByteString:
                    BytesValue = r.ReadByteString();
                    Kind = TokenKind.Bytes;
                    break;
                case CborReaderState.HalfPrecisionFloat:
                case CborReaderState.SinglePrecisionFloat:
                case CborReaderState.DoublePrecisionFloat:
                    DoubleValue = r.ReadDouble();
                    Kind = TokenKind.Float;
                    break;
                case CborReaderState.Boolean:
                    BoolValue = r.ReadBoolean();
                    Kind = TokenKind.Bool;
                    break;
                case CborReaderState.Null:
                    r.ReadNull();
                    Kind = TokenKind.Null;
                    break;
                case CborReaderState.SimpleValue:
                {
                    var v = r.ReadSimpleValue();
                    if (v == CborSimpleValue.Undefined) { Kind = TokenKind.Null; AddTag(CborFormat.UndefinedTag); }
                    else { Int64Value = (byte)v; Kind = TokenKind.Int; AddTag(CborFormat.SimpleTag); }
                    break;
                }
                case var s:
                    throw Error($"unexpected CBOR item ({s})");
            }
    }

    /// <summary>
    /// Points CborReader at the window from the current position. When the item's size is known
    /// (<paramref name="known"/> ≥ 0) the window is made that large first and the reader sees exactly the item;
    /// otherwise (chunked strings, a decimal fraction) it sees all that is buffered, and a read that runs out of
    /// data is retried on a larger window (see <see cref="Retry"/>).
    /// </summary>
    CborReader Begin(long known, out int slice)
    {
        if (known > _options.MaxValueBytes + 64) throw new BrineLimitException(FormatName, Location, $"a value of {known:N0} bytes is longer than the limit of {_options.MaxValueBytes:N0}");
        if (known >= 0 && !_in.Ensure((int)known)) throw Truncated();
        slice = known >= 0 ? (int)known : _in.Available;
        _cbor.Reset(_in.Buffer.AsMemory(_in.Pos, slice));
        return _cbor;
    }

    void End(CborReader r, int slice) => _in.Pos += slice - r.BytesRemaining;

    static bool IsDecodeError(Exception e) => e is CborContentException or InvalidOperationException or FormatException or OverflowException or ArgumentException;

    /// <summary>Returns when a larger window may help; throws the decode error otherwise.</summary>
    void Retry(Exception e, long known)
    {
        if (e is BrineFormatException bfe) throw bfe;
        if (known < 0 && _in.More()) return;
        if (known < 0 && _in.AtLimit) throw new BrineLimitException(FormatName, Location, $"a value is longer than the limit of {_options.MaxValueBytes:N0} bytes");
        throw Error(e.Message.TrimEnd('.') + (known < 0 && _in.Eof ? $" (the input ends at byte {_in.Base + _in.End})" : ""));
    }

    BrineFormatException Truncated() => Error($"truncated input: the value starting here runs past the end of the data at byte {_in.Base + _in.End}");

    readonly struct CborHeader
    {
        public readonly int Major, Ai, Length;
        public readonly ulong Argument;
        public bool Indefinite => Ai == 31;
        public CborHeader(int major, int ai, ulong argument, int length) { Major = major; Ai = ai; Argument = argument; Length = length; }
    }

    /// <summary>The initial byte and argument of the item at the current position (RFC 8949 §3).</summary>
    CborHeader Header()
    {
        if (!_in.Ensure(1)) throw Truncated();
        byte ib = _in.Buffer[_in.Pos];
        int major = ib >> 5, ai = ib & 31;
        if (ai < 24) return new CborHeader(major, ai, (ulong)ai, 1);
        if (ai == 31)
        {
            if (major is 0 or 1 or 6) throw Error($"initial byte 0x{ib:x2}: major type {major} cannot have indefinite length");
            return new CborHeader(major, ai, 0, 1);
        }
        if (ai > 27) throw Error($"initial byte 0x{ib:x2} uses reserved additional information {ai}");
        int n = 1 << (ai - 24);
        if (!_in.Ensure(1 + n)) throw Truncated();
        var b = _in.Buffer.AsSpan(_in.Pos + 1, n);
        ulong arg = n switch
        {
            1 => b[0],
            2 => BinaryPrimitives.ReadUInt16BigEndian(b),
            4 => BinaryPrimitives.ReadUInt32BigEndian(b),
            _ => BinaryPrimitives.ReadUInt64BigEndian(b),
        };
        return new CborHeader(major, ai, arg, 1 + n);
    }

    void Push(long items, bool isMap)
    {
        if (_depth >= _options.MaxDepth) throw new BrineLimitException(FormatName, Location, $"nesting deeper than the limit of {_options.MaxDepth:N0}");
        if (_depth == _remaining.Length)
        {
            Array.Resize(ref _remaining, _depth * 2);
            Array.Resize(ref _isMap, _depth * 2);
            Array.Resize(ref _count, _depth * 2);
        }
        _remaining[_depth] = items; _isMap[_depth] = isMap; _count[_depth] = 0; _depth++;
    }
}
