using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Brine.Model;
using MessagePack;

namespace Brine.Formats.MessagePack;

/// <summary>
/// Reads MessagePack into Brine tokens with MessagePack-CSharp's <see cref="MessagePackReader"/>, one token at a
/// time over a window of the input: the reader decodes from the window, and when a token runs past its end
/// (EndOfStreamException) the window is refilled or grown and the token decoded again. Memory is bounded by
/// the largest single string, binary or extension value, never by the number of items. Concatenated values
/// are successive top-level values (records).
/// </summary>
public sealed class MessagePackTokenReader : TokenReader
{
    static readonly UTF8Encoding StrictUtf8 = new(false, true);
    const int HeaderRoom = 32; // more than any header plus a fixed-size payload, so tokens rarely straddle a refill

    readonly InputWindow _in;
    readonly ReadOptions _options;
    // Open containers: items still to read (map entries count twice) and whether each is a map.
    long[] _remaining = new long[16];
    bool[] _isMap = new bool[16];
    int _depth;
    int _strStart, _strLength;
    long _tokenOffset;

    public MessagePackTokenReader(Stream input, ReadOptions options)
    {
        _options = options;
        _in = new InputWindow(input, 1 << 16, Math.Min(options.MaxValueBytes + 64, Array.MaxLength));
    }

    public override string FormatName => "msgpack";
    /// <summary>The size of the input window, for tests of streaming.</summary>
    internal int WindowBytes => _in.Buffer.Length;
    public override string Location => $"byte {_tokenOffset}";

    public override bool TryGetUtf8(out ReadOnlySpan<byte> utf8)
    {
        if (Kind == TokenKind.String) { utf8 = _in.Buffer.AsSpan(_strStart, _strLength); return true; }
        utf8 = default; return false;
    }

    public override bool Read()
    {
        ResetNodeInfo();
        if (_depth > 0 && _remaining[_depth - 1] == 0)
        {
            _depth--;
            Kind = _isMap[_depth] ? TokenKind.EndMap : TokenKind.EndList;
            return true;
        }
        _tokenOffset = _in.Offset;
        if (!_in.Ensure(HeaderRoom) && _in.Available == 0)
        {
            if (_depth > 0) throw Error($"unexpected end of input inside a {(_isMap[_depth - 1] ? "map" : "array")} ({_remaining[_depth - 1]} more items expected)");
            Kind = TokenKind.None;
            return false;
        }
        int parent = _depth - 1;
        while (true)
        {
            try
            {
                Decode();
                break;
            }
            catch (EndOfStreamException)
            {
                if (!_in.More())
                {
                    if (_in.AtLimit) throw new BrineLimitException(FormatName, Location, $"a value is longer than the limit of {_options.MaxValueBytes:N0} bytes");
                    throw Error($"truncated input: the value starting here runs past the end of the data at byte {_in.Base + _in.End}");
                }
            }
            catch (MessagePackSerializationException e)
            {
                throw Error(e.Message);
            }
        }
        if (parent >= 0) _remaining[parent]--;
        return true;
    }

    void Decode()
    {
        var r = new MessagePackReader(_in.Unread);
        switch (r.NextMessagePackType)
        {
            case MessagePackType.Nil:
                r.ReadNil();
                Kind = TokenKind.Null;
                break;
            case MessagePackType.Boolean:
                BoolValue = r.ReadBoolean();
                Kind = TokenKind.Bool;
                break;
            case MessagePackType.Integer:
                if (r.NextCode == MessagePackCode.UInt64)
                {
                    ulong u = r.ReadUInt64();
                    if (u > long.MaxValue) BigValue = u; else Int64Value = (long)u;
                }
                else Int64Value = r.ReadInt64();
                Kind = TokenKind.Int;
                break;
            case MessagePackType.Float:
                DoubleValue = r.ReadDouble();
                Kind = TokenKind.Float;
                break;
            case MessagePackType.String:
            {
                if (!r.TryReadStringSpan(out var span)) throw new EndOfStreamException();
                if (span.Length > _options.MaxValueBytes) throw TooLong(span.Length);
                int start = _in.Pos + (int)r.Consumed - span.Length;
                try { StringValue = StrictUtf8.GetString(span); }
                catch (DecoderFallbackException) { throw Error("a string is not valid UTF-8"); }
                _strStart = start; _strLength = span.Length;
                Kind = TokenKind.String;
                break;
            }
            case MessagePackType.Binary:
            {
                var seq = r.ReadBytes();
                if (seq.HasValue && seq.Value.Length > _options.MaxValueBytes) throw TooLong(seq.Value.Length);
                BytesValue = seq.HasValue ? seq.Value.ToArray() : Array.Empty<byte>();
                Kind = TokenKind.Bytes;
                break;
            }
            case MessagePackType.Array:
            {
                if (!r.TryReadArrayHeader(out int count)) throw new EndOfStreamException();
                Push(count, false);
                Kind = TokenKind.StartList;
                Count = count;
                break;
            }
            case MessagePackType.Map:
            {
                if (!r.TryReadMapHeader(out int count)) throw new EndOfStreamException();
                Push(2L * count, true);
                Kind = TokenKind.StartMap;
                Count = count;
                break;
            }
            case MessagePackType.Extension:
            {
                if (!r.TryReadExtensionFormatHeader(out var header)) throw new EndOfStreamException();
                if (header.Length > _options.MaxValueBytes) throw TooLong(header.Length);
                var data = r.ReadRaw(header.Length);
                if (header.TypeCode == ReservedMessagePackExtensionTypeCode.DateTime)
                {
                    Span<byte> b = stackalloc byte[12];
                    if (header.Length is not (4 or 8 or 12)) throw Error($"a timestamp extension must hold 4, 8 or 12 bytes, not {header.Length}");
                    data.CopyTo(b);
                    TimestampValue = DecodeTimestamp(b[..(int)header.Length]);
                    Kind = TokenKind.Timestamp;
                }
                else
                {
                    BytesValue = data.ToArray();
                    Tag = ExtTag(header.TypeCode);
                    Kind = TokenKind.Bytes;
                }
                break;
            }
            default:
                throw Error($"invalid byte 0x{r.NextCode:x2} (never used in MessagePack)");
        }
        _in.Pos += (int)r.Consumed;
    }

    Timestamp DecodeTimestamp(ReadOnlySpan<byte> b)
    {
        long seconds; uint nanos;
        switch (b.Length)
        {
            case 4:
                seconds = BinaryPrimitives.ReadUInt32BigEndian(b); nanos = 0; break;
            case 8:
                ulong v = BinaryPrimitives.ReadUInt64BigEndian(b);
                nanos = (uint)(v >> 34); seconds = (long)(v & 0x3_FFFF_FFFFUL); break;
            default:
                nanos = BinaryPrimitives.ReadUInt32BigEndian(b); seconds = BinaryPrimitives.ReadInt64BigEndian(b[4..]); break;
        }
        if (nanos > 999_999_999) throw Error($"a timestamp has {nanos} nanoseconds (at most 999999999)");
        return new Timestamp(seconds, (int)nanos, 0);
    }

    BrineLimitException TooLong(long length) =>
        new(FormatName, Location, $"a value of {length:N0} bytes is longer than the limit of {_options.MaxValueBytes:N0}");

    void Push(long count, bool isMap)
    {
        if (_depth >= _options.MaxDepth) throw new BrineLimitException(FormatName, Location, $"nesting deeper than the limit of {_options.MaxDepth:N0}");
        if (_depth == _remaining.Length)
        {
            Array.Resize(ref _remaining, _depth * 2);
            Array.Resize(ref _isMap, _depth * 2);
        }
        _remaining[_depth] = count; _isMap[_depth] = isMap; _depth++;
    }

    // Tags for extension types are shared so that reading many ext values does not allocate a string each.
    static readonly string[] ExtTags = Enumerable.Range(-128, 256).Select(i => MessagePackFormat.ExtTagPrefix + i).ToArray();
    internal static string ExtTag(sbyte code) => ExtTags[code + 128];
}
