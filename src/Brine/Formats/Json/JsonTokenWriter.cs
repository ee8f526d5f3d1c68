using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text.Encodings.Web;
using System.Text.Json;
using Brine.Model;
using static Brine.Formats.Json.JsonConventions;

namespace Brine.Formats.Json;

/// <summary>
/// Writes Brine's token stream as JSON or JSON Lines with <see cref="Utf8JsonWriter"/>. Tags and references use
/// jsonpickle's convention so that Python's <c>jsonpickle.decode</c> rebuilds them: a list tagged tuple or set becomes
/// <c>{"py/tuple": […]}</c> / <c>{"py/set": […]}</c>, a tagged map <c>{"py/object": "Tag", …}</c>, an alias
/// <c>{"py/id": n}</c> numbered as jsonpickle numbers objects. Several top-level values are written one a line.
/// </summary>
internal sealed class JsonTokenWriter : TokenWriter
{
    enum Frame : byte
    {
        List,
        /// <summary>A list written inside <c>{"py/tuple": …}</c> or <c>{"py/set": …}</c>: its end closes both.</summary>
        WrappedList,
        MapKey,
        MapValue,
    }

    /// <summary>A token kept to write again: what an alias to a tuple, a set or a scalar becomes (jsonpickle cannot refer to those).</summary>
    readonly record struct Recorded(TokenKind Kind, Node? Scalar, string? Tag, string? Anchor, string? Alias);

    const int FlushAt = 1 << 16;

    readonly Stream _out;
    readonly string _format;
    readonly ArrayBufferWriter<byte> _buffer = new(FlushAt * 2);
    readonly Utf8JsonWriter _w;
    readonly bool _conventions;
    readonly bool _bytesAsPyB64;
    readonly bool _nanAsString;
    Frame[] _frames = new Frame[64];
    int _depth;
    bool _finished;

    // References within the current top-level value.
    int _nextId;
    readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    readonly Dictionary<string, List<Recorded>> _replays = new(StringComparer.Ordinal);
    readonly List<Recorded> _recording = new();
    readonly List<(string Anchor, int Start, int Depth)> _openRecordings = new();
    int _recordingPaused;

    public JsonTokenWriter(Stream output, WriteOptions options, string format, bool lines)
    {
        _out = output;
        _format = format;
        _conventions = Enabled(options.Setting(SettingName));
        _bytesAsPyB64 = _conventions && options.KeepReferences;
        _nanAsString = string.Equals(options.Setting("nan"), "string", StringComparison.OrdinalIgnoreCase);
        _w = new Utf8JsonWriter(_buffer, new JsonWriterOptions
        {
            Indented = options.Indent && !lines,
            IndentSize = 2,
            NewLine = "\n",
            // Keep non-ASCII text as UTF-8, as Python's ensure_ascii=False and jq do; the output is always UTF-8.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            // Brine's own frames keep the structure right; depth is bounded by the reader, not here.
            SkipValidation = true,
            MaxDepth = int.MaxValue,
        });
    }

    public override string FormatName => _format;

    // ---- scalars ----

    public override void WriteNull()
    {
        if (Scalar(TokenKind.Null, null)) { Key("null"); return; }
        _w.WriteNullValue();
        AfterValue();
    }

    public override void WriteBool(bool value)
    {
        if (Scalar(TokenKind.Bool, value)) { Key(value ? "true" : "false"); return; }
        _w.WriteBooleanValue(value);
        AfterValue();
    }

    public override void WriteInt(long value)
    {
        if (Scalar(TokenKind.Int, value)) { Key(value.ToString(CultureInfo.InvariantCulture)); return; }
        _w.WriteNumberValue(value);
        AfterValue();
    }

    public override void WriteBigInt(BigInteger value)
    {
        if (Scalar(TokenKind.Int, value)) { Key(value.ToString(CultureInfo.InvariantCulture)); return; }
        _w.WriteRawValue(value.ToString(CultureInfo.InvariantCulture), skipInputValidation: true);
        AfterValue();
    }

    public override void WriteFloat(double value)
    {
        bool key = Scalar(TokenKind.Float, value);
        if (!double.IsFinite(value))
        {
            // Python writes these keys and values as NaN/Infinity; JSON has no such literals.
            var text = double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
            if (key) { Key(text); return; }
            if (!_nanAsString)
                throw Error($"{text} cannot be written in JSON, which has no such number; set nan=string to write it as the string \"{text}\", or use YAML, MessagePack, CBOR or pickle");
            _w.WriteStringValue(text);
            AfterValue();
            return;
        }
        Span<byte> buf = stackalloc byte[40];
        int n = JsonNumbers.FormatDouble(value, buf);
        if (key) { Key(System.Text.Encoding.ASCII.GetString(buf[..n])); return; }
        _w.WriteRawValue(buf[..n], skipInputValidation: true);
        AfterValue();
    }

    public override void WriteDecimal(DecimalNumber value)
    {
        var text = JsonNumbers.FormatDecimal(value);
        if (Scalar(TokenKind.Decimal, value)) { Key(text); return; }
        _w.WriteRawValue(text, skipInputValidation: true);
        AfterValue();
    }

    public override void WriteString(string value)
    {
        RequireWellFormed(value);
        if (Scalar(TokenKind.String, value)) { _w.WritePropertyName(value); KeyDone(); return; }
        _w.WriteStringValue(value);
        AfterValue();
    }

    public override void WriteStringUtf8(ReadOnlySpan<byte> utf8)
    {
        // Only build a string when the value must be remembered for a reference.
        if (PendingAnchor is not null || Recording) { WriteString(System.Text.Encoding.UTF8.GetString(utf8)); return; }
        if (Scalar(TokenKind.String, null)) { _w.WritePropertyName(utf8); KeyDone(); return; }
        _w.WriteStringValue(utf8);
        AfterValue();
    }

    public override void WriteBytes(ReadOnlySpan<byte> value)
    {
        if (Scalar(TokenKind.Bytes, PendingAnchor is not null || Recording ? value.ToArray() : null)) { Key(Convert.ToBase64String(value)); return; }
        if (_bytesAsPyB64)
        {
            _w.WriteStartObject();
            _w.WriteBase64String("py/b64"u8, value);
            _w.WriteEndObject();
        }
        else _w.WriteBase64StringValue(value);
        AfterValue();
    }

    public override void WriteTimestamp(Timestamp value) => Text(TokenKind.Timestamp, value, value.ToString());
    public override void WriteDate(DateOnly value) => Text(TokenKind.Date, value, value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
    public override void WriteTime(TimeOnly value) => Text(TokenKind.Time, value, value.ToString(value.Ticks % TimeSpan.TicksPerSecond == 0 ? "HH:mm:ss" : "HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture));
    public override void WriteUuid(Guid value) => Text(TokenKind.Uuid, value, value.ToString("D"));

    void Text(TokenKind kind, object value, string text)
    {
        if (Scalar(kind, value)) { Key(text); return; }
        _w.WriteStringValue(text);
        AfterValue();
    }

    // ---- containers ----

    public override void StartList(int count = -1)
    {
        var (tag, anchor) = TakePending();
        if (IsKey) throw Error("a map key must be a scalar, not a list (JSON keys are strings)");
        bool wrapped = _conventions && tag is "tuple" or "set";
        // jsonpickle cannot refer to a tuple or a set: keep it to write again where an alias names it.
        if (anchor is not null && wrapped) _openRecordings.Add((anchor, _recording.Count, _depth));
        Record(new Recorded(TokenKind.StartList, null, tag, anchor, null));
        if (wrapped)
        {
            _w.WriteStartObject();
            _w.WritePropertyName(tag == "tuple" ? "py/tuple"u8 : "py/set"u8);
            _w.WriteStartArray();
            Push(Frame.WrappedList);
        }
        else
        {
            Number(anchor);
            _w.WriteStartArray();
            Push(Frame.List);
        }
    }

    public override void EndList()
    {
        if (_depth == 0 || _frames[_depth - 1] is not (Frame.List or Frame.WrappedList)) throw Error("end of a list that is not open");
        var f = _frames[--_depth];
        _w.WriteEndArray();
        if (f == Frame.WrappedList) _w.WriteEndObject();
        EndContainer(TokenKind.EndList);
    }

    public override void StartMap(int count = -1)
    {
        var (tag, anchor) = TakePending();
        if (IsKey) throw Error("a map key must be a scalar, not a map (JSON keys are strings)");
        Record(new Recorded(TokenKind.StartMap, null, tag, anchor, null));
        Number(anchor);
        _w.WriteStartObject();
        if (_conventions && tag is not null)
        {
            _w.WritePropertyName("py/object"u8);
            _w.WriteStringValue(tag);
        }
        Push(Frame.MapKey);
    }

    public override void EndMap()
    {
        if (_depth == 0 || _frames[_depth - 1] is not (Frame.MapKey or Frame.MapValue)) throw Error("end of a map that is not open");
        if (_frames[_depth - 1] == Frame.MapValue) throw Error("a map ends after a key that has no value");
        _depth--;
        _w.WriteEndObject();
        EndContainer(TokenKind.EndMap);
    }

    void EndContainer(TokenKind kind)
    {
        Record(new Recorded(kind, null, null, null, null));
        for (int i = _openRecordings.Count - 1; i >= 0 && _openRecordings[i].Depth == _depth; i--)
        {
            var (anchor, start, _) = _openRecordings[i];
            _replays[anchor] = _recording.GetRange(start, _recording.Count - start);
            _openRecordings.RemoveAt(i);
        }
        if (_openRecordings.Count == 0) _recording.Clear();
        AfterValue();
    }

    // ---- references ----

    public override void WriteAlias(string anchor)
    {
        TakePending();
        if (!_conventions) throw Error("a shared reference cannot be written with conventions=none (JSON itself has no references); expand references or turn conventions on");
        Record(new Recorded(TokenKind.Alias, null, null, null, anchor));
        if (_ids.TryGetValue(anchor, out int id))
        {
            if (IsKey) throw Error("a map key cannot be a reference to a list or map");
            _w.WriteStartObject();
            _w.WriteNumber("py/id"u8, id);
            _w.WriteEndObject();
            AfterValue();
            return;
        }
        if (_replays.TryGetValue(anchor, out var tokens)) { Replay(tokens); return; }
        foreach (var open in _openRecordings)
            if (open.Anchor == anchor)
                throw Error($"'{anchor}' is a tuple or set that contains itself: jsonpickle has no reference to a tuple or set, so it cannot be written");
        throw Error($"alias '{anchor}' refers to no earlier anchor");
    }

    /// <summary>Writes a kept tuple, set or scalar again. Anchored nodes inside it were written already: they become references.</summary>
    void Replay(List<Recorded> tokens)
    {
        _recordingPaused++;
        try
        {
            for (int i = 0; i < tokens.Count; i++)
            {
                var r = tokens[i];
                if (i > 0 && r.Anchor is not null && (_ids.ContainsKey(r.Anchor) || _replays.ContainsKey(r.Anchor)))
                {
                    WriteAlias(r.Anchor);
                    if (r.Kind.IsStart()) i = MatchingEnd(tokens, i);
                    continue;
                }
                if (r.Tag is not null) SetTag(r.Tag);
                switch (r.Kind)
                {
                    case TokenKind.StartList: StartList(); break;
                    case TokenKind.EndList: EndList(); break;
                    case TokenKind.StartMap: StartMap(); break;
                    case TokenKind.EndMap: EndMap(); break;
                    case TokenKind.Alias: WriteAlias(r.Alias!); break;
                    default: WriteScalarNode(r.Scalar!); break;
                }
            }
        }
        finally { _recordingPaused--; }
    }

    static int MatchingEnd(List<Recorded> tokens, int start)
    {
        int depth = 0;
        for (int i = start; i < tokens.Count; i++)
        {
            if (tokens[i].Kind.IsStart()) depth++;
            else if (tokens[i].Kind.IsEnd() && --depth == 0) return i;
        }
        return tokens.Count - 1;
    }

    /// <summary>Gives a list or dict jsonpickle's number (its order among lists, dicts and objects) and notes the anchor's.</summary>
    void Number(string? anchor)
    {
        int id = _nextId++;
        if (anchor is not null) _ids[anchor] = id;
    }

    bool Recording => _openRecordings.Count > 0 && _recordingPaused == 0;

    void Record(in Recorded r)
    {
        if (Recording) _recording.Add(r);
    }

    // ---- structure ----

    bool IsKey => _depth > 0 && _frames[_depth - 1] == Frame.MapKey;

    (string? Tag, string? Anchor) TakePending()
    {
        var p = (PendingTag, PendingAnchor);
        PendingTag = null;
        PendingAnchor = null;
        if (_finished) throw Error("write after Finish");
        return p;
    }

    /// <summary>Common start of every scalar: takes the pending tag (dropped: JSON scalars carry none) and anchor. Returns whether it is a map key.</summary>
    bool Scalar(TokenKind kind, object? value)
    {
        var (tag, anchor) = TakePending();
        if (anchor is not null || Recording)
        {
            var node = ScalarNode(kind, value);
            node.Tag = tag;
            if (anchor is not null)
                _replays[anchor] = new List<Recorded> { new(kind, node, null, anchor, null) };
            Record(new Recorded(kind, node, null, anchor, null));
        }
        return IsKey;
    }

    static Node ScalarNode(TokenKind kind, object? v) => kind switch
    {
        TokenKind.Null => Node.Null(),
        TokenKind.Bool => Node.Bool((bool)v!),
        TokenKind.Int => v is long l ? Node.Int(l) : Node.Int((BigInteger)v!),
        TokenKind.Float => Node.Float((double)v!),
        TokenKind.Decimal => Node.Decimal((DecimalNumber)v!),
        TokenKind.String => Node.String((string)v!),
        TokenKind.Bytes => Node.Bytes((byte[])v!),
        TokenKind.Timestamp => Node.Timestamp((Timestamp)v!),
        TokenKind.Date => Node.Date((DateOnly)v!),
        TokenKind.Time => Node.Time((TimeOnly)v!),
        _ => Node.Uuid((Guid)v!),
    };

    void Key(string text)
    {
        _w.WritePropertyName(text);
        KeyDone();
    }

    void KeyDone() => _frames[_depth - 1] = Frame.MapValue;

    void AfterValue()
    {
        if (_depth == 0) { EndOfValue(); return; }
        ref var f = ref _frames[_depth - 1];
        if (f == Frame.MapValue) f = Frame.MapKey;
        if (_w.BytesPending + _buffer.WrittenCount >= FlushAt) Drain();
    }

    /// <summary>A top-level value is complete: end its line; references start afresh (jsonpickle numbers per document).</summary>
    void EndOfValue()
    {
        _w.Flush();
        _buffer.GetSpan(1)[0] = (byte)'\n';
        _buffer.Advance(1);
        _w.Reset();
        if (_nextId > 0 || _replays.Count > 0)
        {
            _nextId = 0;
            _ids.Clear();
            _replays.Clear();
        }
        if (_buffer.WrittenCount >= FlushAt) Drain();
    }

    void Drain()
    {
        _w.Flush();
        _out.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }

    void Push(Frame f)
    {
        if (_depth == _frames.Length) Array.Resize(ref _frames, _frames.Length * 2);
        _frames[_depth++] = f;
    }

    public override void Finish()
    {
        if (_finished) return;
        if (_depth != 0) throw Error("the output ends inside an unfinished list or map");
        Drain();
        _out.Flush();
        _finished = true;
    }

    public override void Dispose()
    {
        _w.Dispose();
        base.Dispose();
    }
}
