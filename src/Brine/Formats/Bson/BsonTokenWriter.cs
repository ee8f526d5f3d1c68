using System.Globalization;
using System.Numerics;
using Brine.Model;
using MongoDB.Bson;
using MongoDB.Bson.IO;

namespace Brine.Formats.Bson;

/// <summary>
/// Writes each top-level map as one BSON document, and each item of a top-level list as one document (records,
/// the mongodump layout). Documents go through MongoDB.Bson's <see cref="BsonBinaryWriter"/> into a buffer that
/// is copied out when the document ends, because BSON's length prefix is patched after the content and the
/// output stream need not be seekable; only one document is held at a time.
/// </summary>
public sealed class BsonTokenWriter : TokenWriter
{
    enum FrameKind : byte { Records, Document, Array, Synthetic, CodeWithScope }

    sealed class Frame
    {
        public FrameKind Kind;
        public bool ExpectKey = true;
        public string? Key;
        public string? Tag;
        public Dictionary<string, object?>? Fields;
        public long Index;
    }

    static readonly BsonBinaryWriterSettings Settings = new() { FixOldBinarySubTypeOnOutput = false, MaxDocumentSize = int.MaxValue };

    readonly Stream _output;
    readonly MemoryStream _doc = new();
    readonly List<Frame> _frames = new();
    BsonBinaryWriter? _bson;

    public BsonTokenWriter(Stream output) { _output = output; }

    public override string FormatName => "bson";

    string? TakeTag() { var t = PendingTag; PendingTag = null; PendingAnchor = null; return t; }

    /// <summary>
    /// Handles the position before a value: a key in a document, the start of a document at the top, or a
    /// field of a synthetic map. Returns the BSON writer when the value should be written now.
    /// </summary>
    BsonBinaryWriter? BeforeValue(TokenKind kind, object? scalar)
    {
        if (_frames.Count == 0)
        {
            if (kind == TokenKind.StartMap) return null;
            if (kind == TokenKind.StartList) return null;
            throw Error($"the top-level value is a {Describe(kind)}; BSON holds only documents (maps). Put it in a map, or write JSON, MessagePack or CBOR");
        }
        var f = _frames[^1];
        switch (f.Kind)
        {
            case FrameKind.Records:
                if (kind != TokenKind.StartMap)
                    throw Error($"item {f.Index} of the top-level list is a {Describe(kind)}; each item becomes a BSON document and must be a map. Write JSON, MessagePack or CBOR instead");
                f.Index++;
                return null;
            case FrameKind.Document:
                if (f.ExpectKey)
                {
                    if (!kind.IsScalar()) throw Error($"a map key is a {Describe(kind)}; BSON field names are strings");
                    var key = KeyText(kind, scalar);
                    if (key.Contains('\0')) throw Error($"the key \"{key.Replace("\0", "\\0")}\" holds a NUL character, which BSON field names cannot hold");
                    _bson!.WriteName(key);
                    f.ExpectKey = false;
                    return null; // the key itself is not a value
                }
                f.ExpectKey = true;
                return _bson;
            case FrameKind.Array:
                f.Index++;
                return _bson;
            case FrameKind.Synthetic:
            case FrameKind.CodeWithScope:
                if (f.ExpectKey)
                {
                    if (kind != TokenKind.String) throw Error($"a {f.Tag} map has string keys, not a {Describe(kind)}");
                    f.Key = (string)scalar!;
                    f.ExpectKey = false;
                    return null;
                }
                f.ExpectKey = true;
                if (f.Kind == FrameKind.CodeWithScope && f.Key == "scope" && kind == TokenKind.StartMap) return _bson;
                if (!kind.IsScalar()) throw Error($"the field '{f.Key}' of a {f.Tag} map is a {Describe(kind)}; a scalar was expected");
                f.Fields![f.Key!] = scalar;
                return null;
        }
        throw new InvalidOperationException();
    }

    /// <summary>True when the token was a key (or a synthetic field) and nothing more is to be written.</summary>
    bool IsKeyOrField(TokenKind kind, object? scalar, out BsonBinaryWriter w)
    {
        var f = _frames.Count > 0 ? _frames[^1] : null;
        bool keyPosition = f is not null && f.ExpectKey && f.Kind is FrameKind.Document or FrameKind.Synthetic or FrameKind.CodeWithScope;
        bool fieldPosition = f is not null && !f.ExpectKey && f.Kind is FrameKind.Synthetic or FrameKind.CodeWithScope && kind.IsScalar();
        var bw = BeforeValue(kind, scalar);
        w = bw!;
        if (keyPosition || fieldPosition) { PendingTag = null; PendingAnchor = null; return true; }
        return false;
    }

    bool InKeyPosition => _frames.Count > 0 && _frames[^1].ExpectKey && _frames[^1].Kind != FrameKind.Records && _frames[^1].Kind != FrameKind.Array;

    static string KeyText(TokenKind kind, object? scalar) => scalar switch
    {
        string s => s,
        null => kind == TokenKind.Null ? "null" : "",
        IFormattable fm => fm.ToString(null, CultureInfo.InvariantCulture),
        _ => scalar.ToString() ?? "",
    };

    static string Describe(TokenKind kind) => kind switch
    {
        TokenKind.StartList => "list",
        TokenKind.StartMap => "map",
        _ => kind.ToString(),
    };

    public override void WriteNull()
    {
        if (IsKeyOrField(TokenKind.Null, null, out var w)) return;
        switch (TakeTag())
        {
            case BsonTags.MinKey: w.WriteMinKey(); break;
            case BsonTags.MaxKey: w.WriteMaxKey(); break;
            case BsonTags.Undefined: w.WriteUndefined(); break;
            default: w.WriteNull(); break;
        }
    }

    public override void WriteBool(bool value)
    {
        if (IsKeyOrField(TokenKind.Bool, value, out var w)) return;
        TakeTag(); w.WriteBoolean(value);
    }

    public override void WriteInt(long value)
    {
        if (IsKeyOrField(TokenKind.Int, value, out var w)) return;
        // Int32 when the value fits, unless the tag says it was an int64: that is how bson-corpus bytes re-encode exactly.
        if (TakeTag() != BsonTags.Int64 && value is >= int.MinValue and <= int.MaxValue) w.WriteInt32((int)value);
        else w.WriteInt64(value);
    }

    public override void WriteBigInt(BigInteger value)
    {
        if (value >= long.MinValue && value <= long.MaxValue) { WriteInt((long)value); return; }
        if (IsKeyOrField(TokenKind.Int, value, out _)) return;
        throw Error($"the integer {value} does not fit 64 bits; BSON has no larger integer (write it as a string, or use CBOR, MessagePack or pickle)");
    }

    public override void WriteFloat(double value)
    {
        if (IsKeyOrField(TokenKind.Float, value, out var w)) return;
        TakeTag(); w.WriteDouble(value);
    }

    public override void WriteDecimal(DecimalNumber value)
    {
        if (IsKeyOrField(TokenKind.Decimal, value, out var w)) return;
        TakeTag();
        if (!BsonTags.TryToDecimal128(value, out var d))
            throw Error($"the decimal {value} does not fit Decimal128 exactly (34 digits, exponent -6176…6111)");
        w.WriteDecimal128(d);
    }

    public override void WriteString(string value)
    {
        if (IsKeyOrField(TokenKind.String, value, out var w)) return;
        switch (TakeTag())
        {
            case BsonTags.ObjectId:
                if (!ObjectId.TryParse(value, out var oid)) throw Error($"'{value}' is tagged objectid but is not 24 hex digits");
                w.WriteObjectId(oid); break;
            case BsonTags.Code: w.WriteJavaScript(value); break;
            case BsonTags.Symbol: w.WriteSymbol(value); break;
            case BsonTags.Decimal128:
                if (!BsonTags.TryParseDecimal128Text(value, out var d)) throw Error($"'{value}' is tagged bson.decimal128 but is not a Decimal128");
                w.WriteDecimal128(d); break;
            default: w.WriteString(value); break;
        }
    }

    public override void WriteBytes(ReadOnlySpan<byte> value)
    {
        if (IsKeyOrField(TokenKind.Bytes, InKeyPosition ? Convert.ToBase64String(value) : null, out var w)) return;
        var subtype = BsonBinarySubType.Binary;
        if (TakeTag() is { } tag && tag.StartsWith(BsonTags.BinaryPrefix, StringComparison.Ordinal)
            && byte.TryParse(tag.AsSpan(BsonTags.BinaryPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var st))
            subtype = (BsonBinarySubType)st;
        w.WriteBinaryData(new BsonBinaryData(value.ToArray(), subtype));
    }

    public override void WriteTimestamp(Model.Timestamp value)
    {
        if (IsKeyOrField(TokenKind.Timestamp, value, out var w)) return;
        TakeTag(); w.WriteDateTime(value.ToUnixMilliseconds()); // milliseconds: finer digits and the offset are lost (documented)
    }

    public override void WriteDate(DateOnly value)
    {
        if (IsKeyOrField(TokenKind.Date, value, out var w)) return;
        TakeTag(); w.WriteDateTime(new DateTimeOffset(value.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeMilliseconds());
    }

    public override void WriteTime(TimeOnly value)
    {
        if (IsKeyOrField(TokenKind.Time, value, out var w)) return;
        TakeTag(); w.WriteString(value.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture).TrimEnd('.'));
    }

    public override void WriteUuid(Guid value)
    {
        if (IsKeyOrField(TokenKind.Uuid, value, out var w)) return;
        TakeTag(); w.WriteBinaryData(new BsonBinaryData(value.ToByteArray(bigEndian: true), BsonBinarySubType.UuidStandard));
    }

    public override void StartList(int count = -1)
    {
        if (IsKeyOrField(TokenKind.StartList, null, out var w)) return;
        TakeTag();
        if (_frames.Count == 0) { _frames.Add(new Frame { Kind = FrameKind.Records }); return; }
        w.WriteStartArray();
        _frames.Add(new Frame { Kind = FrameKind.Array });
    }

    public override void EndList()
    {
        var f = _frames[^1];
        _frames.RemoveAt(_frames.Count - 1);
        if (f.Kind == FrameKind.Array) _bson!.WriteEndArray();
    }

    public override void StartMap(int count = -1)
    {
        var parent = _frames.Count > 0 ? _frames[^1] : null;
        bool scope = parent is { Kind: FrameKind.CodeWithScope, ExpectKey: false };
        var w = BeforeValue(TokenKind.StartMap, null);
        var tag = TakeTag();
        if (w is null)
        {
            // A top-level map or an item of the top-level list: a new document.
            _doc.SetLength(0);
            _bson = new BsonBinaryWriter(_doc, Settings);
            _bson.WriteStartDocument();
            _frames.Add(new Frame { Kind = FrameKind.Document });
            return;
        }
        if (scope)
        {
            w.WriteJavaScriptWithScope(parent!.Fields!.GetValueOrDefault("code") as string ?? throw Error("a bson.codewscope map needs its 'code' string before 'scope'"));
            w.WriteStartDocument();
            _frames.Add(new Frame { Kind = FrameKind.Document });
            return;
        }
        switch (tag)
        {
            case BsonTags.Regex or BsonTags.Timestamp:
                _frames.Add(new Frame { Kind = FrameKind.Synthetic, Tag = tag, Fields = new() });
                return;
            case BsonTags.CodeWithScope:
                _frames.Add(new Frame { Kind = FrameKind.CodeWithScope, Tag = tag, Fields = new() });
                return;
        }
        w.WriteStartDocument();
        _frames.Add(new Frame { Kind = FrameKind.Document });
    }

    public override void EndMap()
    {
        var f = _frames[^1];
        _frames.RemoveAt(_frames.Count - 1);
        switch (f.Kind)
        {
            case FrameKind.Document:
                _bson!.WriteEndDocument();
                if (_frames.Count == 0 || _frames[^1].Kind == FrameKind.Records) FlushDocument();
                break;
            case FrameKind.Synthetic:
                WriteSynthetic(f);
                break;
            case FrameKind.CodeWithScope:
                if (f.Fields!.ContainsKey("code") && f.Key != "scope") throw Error("a bson.codewscope map needs a 'scope' map");
                break;
        }
    }

    void WriteSynthetic(Frame f)
    {
        var fields = f.Fields!;
        if (f.Tag == BsonTags.Regex)
        {
            if (fields.GetValueOrDefault("pattern") is not string pattern || fields.GetValueOrDefault("options") is not string options || fields.Count != 2)
                throw Error("a bson.regex map must hold exactly the strings 'pattern' and 'options'");
            _bson!.WriteRegularExpression(new BsonRegularExpression(pattern, options));
        }
        else
        {
            if (fields.GetValueOrDefault("t") is not long t || fields.GetValueOrDefault("i") is not long i || fields.Count != 2 || (ulong)t > uint.MaxValue || (ulong)i > uint.MaxValue)
                throw Error("a bson.timestamp map must hold exactly the unsigned 32-bit integers 't' and 'i'");
            _bson!.WriteTimestamp((long)(((ulong)t << 32) | (ulong)i));
        }
    }

    void FlushDocument()
    {
        _bson!.Flush();
        _output.Write(_doc.GetBuffer(), 0, (int)_doc.Length);
        _bson.Dispose();
        _bson = null;
    }

    public override void WriteAlias(string anchor) =>
        throw Error($"BSON has no references (alias '{anchor}'); expand them with --refs expand, or write YAML or pickle");

    public override void Finish()
    {
        if (_frames.Count > 0) throw Error("the input ended inside a document");
        _output.Flush();
    }

    public override void Dispose()
    {
        _bson?.Dispose();
        base.Dispose();
    }
}
