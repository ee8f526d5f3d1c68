using System.Buffers.Binary;
using Brine.Model;
using MongoDB.Bson;
using MongoDB.Bson.IO;

namespace Brine.Formats.Bson;

/// <summary>
/// Reads a stream of concatenated BSON documents (a mongodump file, or one document) as top-level maps, one per
/// document. Each document is loaded on its own (BSON documents are bounded, 16 MiB in MongoDB) and decoded by
/// MongoDB.Bson's <see cref="BsonBinaryReader"/>; the file as a whole is never held.
/// </summary>
public sealed class BsonTokenReader : TokenReader
{
    enum FrameKind : byte { Document, Array, CodeWithScope }
    struct Pending { public TokenKind Kind; public string? Str; public long Int; public bool StartsScope; }

    static readonly BsonBinaryReaderSettings Settings = new()
    {
        // Keep old binary (subtype 2) and datetimes as they are: a re-encode must give the same bytes.
        FixOldBinarySubTypeOnInput = false,
        FixOldDateTimeMaxValueOnInput = false,
        MaxDocumentSize = int.MaxValue,
    };

    readonly Stream _input;
    readonly ReadOptions _options;
    readonly List<FrameKind> _frames = new();
    readonly Queue<Pending> _queue = new();
    readonly MemoryStream _doc = new();
    readonly byte[] _chunk = new byte[1 << 16];
    BsonBinaryReader? _bson;
    long _docStart, _nextDocStart;
    bool _valuePending;
    BsonType _pendingType;

    public BsonTokenReader(Stream input, ReadOptions options) { _input = input; _options = options; }

    public override string FormatName => "bson";

    public override string Location => _bson is null ? $"byte {_nextDocStart}" : $"byte {_docStart + _doc.Position}";

    public override bool Read()
    {
        ResetNodeInfo();
        try
        {
            return Step();
        }
        catch (BrineFormatException) { throw; }
        catch (Exception e) when (e is FormatException or EndOfStreamException or BsonException or InvalidOperationException or ArgumentException or IOException or OverflowException)
        {
            throw Error(e.Message);
        }
    }

    bool Step()
    {
        if (_queue.Count > 0) { EmitPending(_queue.Dequeue()); return true; }
        if (_frames.Count == 0)
        {
            if (!LoadDocument()) { Kind = TokenKind.None; return false; }
            _bson!.ReadStartDocument();
            _frames.Add(FrameKind.Document);
            Kind = TokenKind.StartMap;
            return true;
        }
        var bson = _bson!;
        var top = _frames[^1];
        if (top == FrameKind.CodeWithScope) { Pop(); Kind = TokenKind.EndMap; return true; }
        if (_valuePending) { _valuePending = false; ReadValue(bson, _pendingType); return true; }
        var type = bson.ReadBsonType();
        if (type == BsonType.EndOfDocument)
        {
            if (top == FrameKind.Document) { bson.ReadEndDocument(); Kind = TokenKind.EndMap; }
            else { bson.ReadEndArray(); Kind = TokenKind.EndList; }
            Pop();
            return true;
        }
        if (top == FrameKind.Document)
        {
            Kind = TokenKind.String;
            StringValue = bson.ReadName();
            _valuePending = true; _pendingType = type;
            return true;
        }
        // In an array the reader has consumed the index name already ("0", "1" …): the position says it.
        ReadValue(bson, type);
        return true;
    }

    void Pop()
    {
        _frames.RemoveAt(_frames.Count - 1);
        if (_frames.Count > 0) return;
        // The document is done: its declared length must be exactly what was decoded.
        if (_doc.Position != _doc.Length) throw Error($"document declares {_doc.Length} bytes but ends after {_doc.Position}");
        _bson!.Dispose();
        _bson = null;
    }

    void Push(FrameKind kind)
    {
        if (_frames.Count >= _options.MaxDepth) throw new BrineLimitException(FormatName, Location, $"nesting deeper than {_options.MaxDepth} levels");
        _frames.Add(kind);
    }

    /// <summary>Reads the next document's bytes. Returns false at a clean end of the stream.</summary>
    bool LoadDocument()
    {
        _docStart = _nextDocStart;
        Span<byte> len = stackalloc byte[4];
        int got = ReadFully(_input, len);
        if (got == 0) return false;
        if (got < 4) throw new BrineFormatException(FormatName, $"byte {_docStart}", $"truncated document: {got} of the 4 length bytes");
        int size = BinaryPrimitives.ReadInt32LittleEndian(len);
        if (size < 5) throw new BrineFormatException(FormatName, $"byte {_docStart}", $"document length {size} is too small (at least 5)");
        if (size > _options.MaxValueBytes) throw new BrineLimitException(FormatName, $"byte {_docStart}", $"document length {size:N0} exceeds the limit of {_options.MaxValueBytes:N0} bytes");
        _doc.SetLength(0);
        _doc.Write(len);
        // Copy in chunks so a lying length on a short file costs no more memory than the file holds.
        var buf = _chunk;
        int remaining = size - 4;
        while (remaining > 0)
        {
            int n = _input.Read(buf, 0, Math.Min(buf.Length, remaining));
            if (n == 0) throw new BrineFormatException(FormatName, $"byte {_docStart + size - remaining}", $"truncated document: it declares {size} bytes from byte {_docStart} but the input ends after {size - remaining}");
            _doc.Write(buf, 0, n);
            remaining -= n;
        }
        _doc.Position = 0;
        _nextDocStart = _docStart + size;
        _bson = new BsonBinaryReader(_doc, Settings);
        return true;
    }

    static int ReadFully(Stream s, Span<byte> buf)
    {
        int total = 0;
        while (total < buf.Length) { int n = s.Read(buf[total..]); if (n == 0) break; total += n; }
        return total;
    }

    void ReadValue(BsonBinaryReader bson, BsonType type)
    {
        switch (type)
        {
            case BsonType.Double: Kind = TokenKind.Float; DoubleValue = bson.ReadDouble(); break;
            case BsonType.String: Kind = TokenKind.String; StringValue = bson.ReadString(); break;
            case BsonType.Document: bson.ReadStartDocument(); Push(FrameKind.Document); Kind = TokenKind.StartMap; break;
            case BsonType.Array: bson.ReadStartArray(); Push(FrameKind.Array); Kind = TokenKind.StartList; break;
            case BsonType.Binary:
            {
                var b = bson.ReadBinaryData();
                if (b.SubType == BsonBinarySubType.UuidStandard && b.Bytes.Length == 16) { Kind = TokenKind.Uuid; UuidValue = new Guid(b.Bytes, bigEndian: true); }
                else
                {
                    Kind = TokenKind.Bytes; BytesValue = b.Bytes;
                    if (b.SubType != BsonBinarySubType.Binary) Tag = BsonTags.BinaryPrefix + ((int)b.SubType).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                break;
            }
            case BsonType.Undefined: bson.ReadUndefined(); Kind = TokenKind.Null; Tag = BsonTags.Undefined; break;
            case BsonType.ObjectId: Kind = TokenKind.String; StringValue = bson.ReadObjectId().ToString(); Tag = BsonTags.ObjectId; break;
            case BsonType.Boolean: Kind = TokenKind.Bool; BoolValue = bson.ReadBoolean(); break;
            case BsonType.DateTime: Kind = TokenKind.Timestamp; TimestampValue = Timestamp.FromUnixMilliseconds(bson.ReadDateTime()); break;
            case BsonType.Null: bson.ReadNull(); Kind = TokenKind.Null; break;
            case BsonType.RegularExpression:
            {
                var r = bson.ReadRegularExpression();
                StartSynthetic(BsonTags.Regex);
                Key("pattern"); Str(r.Pattern); Key("options"); Str(r.Options);
                _queue.Enqueue(new Pending { Kind = TokenKind.EndMap });
                break;
            }
            case BsonType.JavaScript: Kind = TokenKind.String; StringValue = bson.ReadJavaScript(); Tag = BsonTags.Code; break;
            case BsonType.Symbol: Kind = TokenKind.String; StringValue = bson.ReadSymbol(); Tag = BsonTags.Symbol; break;
            case BsonType.JavaScriptWithScope:
            {
                var code = bson.ReadJavaScriptWithScope();
                StartSynthetic(BsonTags.CodeWithScope);
                Push(FrameKind.CodeWithScope);
                Key("code"); Str(code); Key("scope");
                _queue.Enqueue(new Pending { Kind = TokenKind.StartMap, StartsScope = true });
                break;
            }
            case BsonType.Int32: Kind = TokenKind.Int; Int64Value = bson.ReadInt32(); break;
            case BsonType.Timestamp:
            {
                ulong ts = (ulong)bson.ReadTimestamp();
                StartSynthetic(BsonTags.Timestamp);
                Key("t"); _queue.Enqueue(new Pending { Kind = TokenKind.Int, Int = (long)(ts >> 32) });
                Key("i"); _queue.Enqueue(new Pending { Kind = TokenKind.Int, Int = (long)(ts & 0xFFFFFFFF) });
                _queue.Enqueue(new Pending { Kind = TokenKind.EndMap });
                break;
            }
            case BsonType.Int64:
            {
                Kind = TokenKind.Int; Int64Value = bson.ReadInt64();
                if (Int64Value is >= int.MinValue and <= int.MaxValue) Tag = BsonTags.Int64;
                break;
            }
            case BsonType.Decimal128:
            {
                var d = bson.ReadDecimal128();
                if (BsonTags.TryToDecimalNumber(d, out var exact)) { Kind = TokenKind.Decimal; DecimalValue = exact; }
                else { Kind = TokenKind.String; StringValue = BsonTags.Decimal128Text(d); Tag = BsonTags.Decimal128; }
                break;
            }
            case BsonType.MinKey: bson.ReadMinKey(); Kind = TokenKind.Null; Tag = BsonTags.MinKey; break;
            case BsonType.MaxKey: bson.ReadMaxKey(); Kind = TokenKind.Null; Tag = BsonTags.MaxKey; break;
            default: throw Error($"BSON type 0x{(int)type:X2} is not supported");
        }
    }

    void StartSynthetic(string tag) { Kind = TokenKind.StartMap; Tag = tag; Count = 2; }
    void Key(string k) => _queue.Enqueue(new Pending { Kind = TokenKind.String, Str = k });
    void Str(string s) => _queue.Enqueue(new Pending { Kind = TokenKind.String, Str = s });

    void EmitPending(Pending p)
    {
        Kind = p.Kind;
        switch (p.Kind)
        {
            case TokenKind.String: StringValue = p.Str; break;
            case TokenKind.Int: Int64Value = p.Int; break;
            case TokenKind.StartMap when p.StartsScope:
                _bson!.ReadStartDocument();
                Push(FrameKind.Document);
                break;
        }
    }

    public override void Dispose()
    {
        _bson?.Dispose();
        base.Dispose();
    }
}
