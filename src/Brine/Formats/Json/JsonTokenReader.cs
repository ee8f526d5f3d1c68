using System.Buffers.Text;
using System.Numerics;
using System.Text.Json;
using Brine.Model;
using static Brine.Formats.Json.JsonConventions;

namespace Brine.Formats.Json;

/// <summary>
/// Reads JSON or JSON Lines into Brine's token stream, streaming (see <see cref="JsonTokenScanner"/>) and without
/// recursion. With conventions on (the default) it reads jsonpickle's <c>py/…</c> objects and System.Text.Json's
/// <c>$id</c>/<c>$ref</c> back into tags, bytes, anchors and aliases, looking only at the first property of an
/// object to decide (both libraries write their marker first).
/// </summary>
internal sealed class JsonTokenReader : TokenReader
{
    /// <summary>What an open JSON container stands for in the model.</summary>
    enum Frame : byte
    {
        List,
        Map,
        /// <summary>A jsonpickle object: a map with a tag; <c>py/state</c> is unfolded into it.</summary>
        PyObject,
        /// <summary>An object replaced by its one convention value (<c>py/tuple</c>, <c>py/id</c>, <c>$values</c> …): its end is dropped.</summary>
        Wrapper,
        /// <summary>The <c>py/state</c> map of a jsonpickle object: its entries belong to the object, its end is dropped.</summary>
        State,
    }

    enum Marker { None, PyObject, PyTuple, PySet, PyB64, PyId, PyUncounted, DollarId, DollarRef }

    readonly JsonTokenScanner _scan;
    readonly string _format;
    readonly bool _lines;
    readonly bool _conventions;
    /// <summary>jsonpickle ids that something refers to, found by <see cref="ReferencePrescan"/>; null when the input could not be scanned ahead.</summary>
    readonly HashSet<int>? _pyIds;
    /// <summary><c>$ref</c> targets; null to anchor every <c>$id</c>.</summary>
    readonly HashSet<string>? _refs;

    Frame[] _frames = new Frame[64];
    int _depth;
    bool _replay;
    int _utf8Start, _utf8Length = -1;

    // jsonpickle numbers the lists, dicts and objects of each top-level value in order of appearance, from 0.
    int _nextId;
    readonly Stack<int> _pyObjectIds = new();
    readonly Dictionary<int, int> _stateOwner = new();

    public JsonTokenReader(Stream input, ReadOptions options, string format, bool lines)
    {
        _format = format;
        _lines = lines;
        _conventions = Enabled(options.Setting(SettingName));
        if (_conventions && input.CanSeek)
        {
            var pre = ReferencePrescan.Scan(input);
            _pyIds = pre.PyIds;
            _refs = pre.AnchorEveryId ? null : pre.Refs;
        }
        _scan = new JsonTokenScanner(input, format, options, lines);
    }

    public override string FormatName => _format;
    public override string Location => _scan.CurrentLocation;

    public override bool TryGetUtf8(out ReadOnlySpan<byte> utf8)
    {
        if (Kind == TokenKind.String && _utf8Length >= 0) { utf8 = _scan.Slice(_utf8Start, _utf8Length); return true; }
        utf8 = default;
        return false;
    }

    public override bool Read()
    {
        ResetNodeInfo();
        _utf8Length = -1;
        while (true)
        {
            if (_replay) _replay = false;
            else if (!_scan.Next()) return End();
            ref var t = ref _scan.Current;
            if (t.TopLevel) { _nextId = 0; _stateOwner.Clear(); _pyObjectIds.Clear(); }
            switch (t.Type)
            {
                case JsonTokenType.StartArray:
                    Push(Frame.List);
                    Kind = TokenKind.StartList;
                    Counted();
                    return true;
                case JsonTokenType.EndArray:
                    _depth--;
                    Kind = TokenKind.EndList;
                    return true;
                case JsonTokenType.StartObject:
                    if (_conventions) { StartObject(); return true; }
                    Push(Frame.Map);
                    Kind = TokenKind.StartMap;
                    return true;
                case JsonTokenType.EndObject:
                {
                    var f = _frames[--_depth];
                    if (f is Frame.Wrapper or Frame.State) continue;
                    if (f == Frame.PyObject) _pyObjectIds.Pop();
                    Kind = TokenKind.EndMap;
                    return true;
                }
                case JsonTokenType.PropertyName:
                {
                    var f = _frames[_depth - 1];
                    // jsonpickle ignores other keys beside a py/tuple, py/id …; so does Brine.
                    if (f == Frame.Wrapper) { SkipValue(); continue; }
                    if (f == Frame.PyObject && NameIs(ref t, PyState))
                    {
                        if (EnterState()) continue;
                        Kind = TokenKind.String;
                        StringValue = "py/state";
                        _replay = true; // the state value, not a map, stays under its key
                        return true;
                    }
                    Kind = TokenKind.String;
                    if (t.Escaped) StringValue = t.Unescaped;
                    else Defer(ref t, isName: true);
                    return true;
                }
                case JsonTokenType.String: String(ref t); return true;
                case JsonTokenType.Number: Number(ref t); return true;
                case JsonTokenType.True: Kind = TokenKind.Bool; BoolValue = true; return true;
                case JsonTokenType.False: Kind = TokenKind.Bool; BoolValue = false; return true;
                case JsonTokenType.Null: Kind = TokenKind.Null; return true;
                default: throw _scan.Error(t.TokenStart, "unexpected token " + t.Type);
            }
        }
    }

    bool End()
    {
        Kind = TokenKind.None;
        if (!_lines && !_scan.SeenValue) throw Error("no JSON value: the input is empty");
        return false;
    }

    void StartObject()
    {
        Next();
        ref var k = ref _scan.Current;
        var marker = k.Type == JsonTokenType.PropertyName ? Classify(ref k) : Marker.None;
        switch (marker)
        {
            case Marker.PyObject:
            {
                ref var v = ref NextValue(JsonTokenType.String, "py/object names a class: a string");
                Tag = _scan.GetString(v);
                Push(Frame.PyObject);
                Kind = TokenKind.StartMap;
                _pyObjectIds.Push(Counted(alsoStateId: true));
                return;
            }
            case Marker.PyTuple:
            case Marker.PySet:
                NextValue(JsonTokenType.StartArray, (marker == Marker.PyTuple ? "py/tuple" : "py/set") + " holds a list");
                Push(Frame.Wrapper);
                Push(Frame.List);
                Kind = TokenKind.StartList;
                Tag = marker == Marker.PyTuple ? "tuple" : "set";
                return;
            case Marker.PyB64:
            {
                ref var v = ref NextValue(JsonTokenType.String, "py/b64 holds a base64 string");
                try { BytesValue = Convert.FromBase64String(_scan.GetString(v)); }
                catch (FormatException) { throw _scan.Error(v.TokenStart, "py/b64 holds text that is not base64"); }
                Push(Frame.Wrapper);
                Kind = TokenKind.Bytes;
                return;
            }
            case Marker.PyId:
            {
                ref var v = ref NextValue(JsonTokenType.Number, "py/id holds an object number");
                if (!Utf8Parser.TryParse(_scan.ValueOf(v), out int id, out int used) || used != v.ValueLength || id < 0)
                    throw _scan.Error(v.TokenStart, "py/id holds an object number");
                Push(Frame.Wrapper);
                Kind = TokenKind.Alias;
                StringValue = ResolvePyId(id, v.TokenStart);
                return;
            }
            case Marker.DollarRef:
            {
                ref var v = ref NextValue(JsonTokenType.String, "$ref holds an id string");
                Push(Frame.Wrapper);
                Kind = TokenKind.Alias;
                StringValue = _scan.GetString(v);
                return;
            }
            case Marker.DollarId:
            {
                ref var v = ref NextValue(JsonTokenType.String, "$id holds an id string");
                var id = _scan.GetString(v);
                if (_refs is null || _refs.Contains(id)) Anchor = id;
                _nextId++;
                Next();
                ref var k2 = ref _scan.Current;
                if (k2.Type == JsonTokenType.PropertyName && NameIs(ref k2, DollarValues))
                {
                    NextValue(JsonTokenType.StartArray, "$values holds a list");
                    Push(Frame.Wrapper);
                    Push(Frame.List);
                    Kind = TokenKind.StartList;
                    return;
                }
                Push(Frame.Map);
                Kind = TokenKind.StartMap;
                _replay = true;
                return;
            }
            case Marker.PyUncounted:
                Push(Frame.Map);
                Kind = TokenKind.StartMap;
                _replay = true;
                return;
            default:
                Push(Frame.Map);
                Kind = TokenKind.StartMap;
                Counted();
                _replay = true; // the first key (or the end) is read next
                return;
        }
    }

    Marker Classify(ref RawToken k)
    {
        ReadOnlySpan<byte> name = k.Escaped ? System.Text.Encoding.UTF8.GetBytes(k.Unescaped!) : _scan.ValueOf(k);
        if (name.Length < 3) return Marker.None;
        if (name[0] == 'p' && name[1] == 'y' && name[2] == '/')
        {
            if (name.SequenceEqual(PyObject)) return Marker.PyObject;
            if (name.SequenceEqual(PyTuple)) return Marker.PyTuple;
            if (name.SequenceEqual(PySet)) return Marker.PySet;
            if (name.SequenceEqual(PyB64)) return Marker.PyB64;
            if (name.SequenceEqual(PyId)) return Marker.PyId;
            if (name.SequenceEqual(PyType) || name.SequenceEqual(PyFunction)) return Marker.PyUncounted;
            return Marker.None;
        }
        if (name[0] == '$')
        {
            if (name.SequenceEqual(DollarId)) return Marker.DollarId;
            if (name.SequenceEqual(DollarRef)) return Marker.DollarRef;
        }
        return Marker.None;
    }

    bool NameIs(ref RawToken t, ReadOnlySpan<byte> name) =>
        t.Escaped ? t.Unescaped == System.Text.Encoding.UTF8.GetString(name) : _scan.ValueOf(t).SequenceEqual(name);

    /// <summary>Numbers a list, dict or object as jsonpickle does and anchors it when something refers to it.</summary>
    int Counted(bool alsoStateId = false)
    {
        int id = _nextId++;
        // Most files refer to nothing: then no lookup per container.
        if (_pyIds is { Count: > 0 } && (_pyIds.Contains(id) || (alsoStateId && _pyIds.Contains(id + 1)))) Anchor = AnchorOf(id);
        return id;
    }

    /// <summary>After the <c>py/state</c> key: a map is unfolded into the object (true); anything else stays as an entry.</summary>
    bool EnterState()
    {
        Next();
        if (_scan.Current.Type != JsonTokenType.StartObject) return false;
        // jsonpickle numbers the state dict too; a reference to it means the object.
        _stateOwner[_nextId++] = _pyObjectIds.Peek();
        Push(Frame.State);
        return true;
    }

    string ResolvePyId(int id, int at)
    {
        if (id >= _nextId) throw _scan.Error(at, $"py/id {id} refers to no earlier object (jsonpickle numbers lists, dicts and objects from 0 in order)");
        if (_stateOwner.TryGetValue(id, out var owner)) id = owner;
        if (_pyIds is null)
            throw _scan.Error(at, $"py/id {id} refers back to an object, which Brine marks by scanning the input ahead; this input cannot be re-read (not seekable): read it from a file");
        return AnchorOf(id);
    }

    void Next()
    {
        if (!_scan.Next()) throw Error("unexpected end of input");
    }

    ref RawToken NextValue(JsonTokenType type, string expected)
    {
        Next();
        ref var v = ref _scan.Current;
        if (v.Type != type) throw _scan.Error(v.TokenStart, expected);
        return ref v;
    }

    void SkipValue()
    {
        Next();
        var type = _scan.Current.Type;
        if (type is not (JsonTokenType.StartObject or JsonTokenType.StartArray)) return;
        int depth = 1;
        while (depth > 0)
        {
            Next();
            type = _scan.Current.Type;
            if (type is JsonTokenType.StartObject or JsonTokenType.StartArray) depth++;
            else if (type is JsonTokenType.EndObject or JsonTokenType.EndArray) depth--;
        }
    }

    void String(ref RawToken t)
    {
        Kind = TokenKind.String;
        if (t.Escaped) StringValue = t.Unescaped;
        else Defer(ref t, isName: false);
    }

    /// <summary>
    /// Keeps where an unescaped string lies instead of making it: <see cref="TryGetUtf8"/> hands out the bytes, and
    /// <see cref="TokenReader.StringValue"/> is made on first use. The bytes are checked for UTF-8 here, as
    /// making the string would, so that bad input fails at the same place either way.
    /// </summary>
    void Defer(ref RawToken t, bool isName)
    {
        var bytes = _scan.ValueOf(t);
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) { StringValue = _scan.GetString(t); return; } // throws with the location
        _utf8Start = t.ValueStart;
        _utf8Length = t.ValueLength;
        _deferredIsName = isName;
        DeferStringValue();
    }

    bool _deferredIsName;

    protected override string MakeStringValue()
    {
        var bytes = _scan.Slice(_utf8Start, _utf8Length);
        return _deferredIsName ? _scan.GetName(bytes) : _scan.GetValueString(bytes);
    }

    void Number(ref RawToken t)
    {
        var error = JsonNumbers.Parse(_scan.ValueOf(t), out var kind, out Int64Value, out var big, out DoubleValue, out DecimalValue);
        if (error is not null) throw _scan.Error(t.TokenStart, error);
        switch (kind)
        {
            case JsonNumbers.Kind.Int: Kind = TokenKind.Int; break;
            case JsonNumbers.Kind.Big:
                Kind = TokenKind.Int;
                if (big >= long.MinValue && big <= long.MaxValue) Int64Value = (long)big; else BigValue = big;
                break;
            case JsonNumbers.Kind.Float: Kind = TokenKind.Float; break;
            default: Kind = TokenKind.Decimal; break;
        }
    }

    void Push(Frame f)
    {
        if (_depth == _frames.Length) Array.Resize(ref _frames, _frames.Length * 2);
        _frames[_depth++] = f;
    }
}
