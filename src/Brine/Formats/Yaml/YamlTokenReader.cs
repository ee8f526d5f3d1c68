using System.Numerics;
using System.Text;
using Brine.Model;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Brine.Formats.Yaml;

/// <summary>
/// Reads a YAML stream as Brine tokens from YamlDotNet's low-level <see cref="Parser"/> events, one top-level
/// value per document. Anchors become <see cref="TokenReader.Anchor"/>, aliases stay <see cref="TokenKind.Alias"/>
/// tokens (never expanded here: the pump expands them, with a limit). Plain scalars resolve by the YAML 1.2 core
/// schema, or by YAML 1.1 rules in a document that says <c>%YAML 1.1</c>.
/// </summary>
/// <remarks>
/// Merge keys (<c>&lt;&lt;: *base</c>) are applied here rather than through YamlDotNet's <c>MergingParser</c>,
/// which buffers whole documents. Anchored maps are recorded as they stream past (only they can be merged);
/// the merged entries that no explicit key overrides are written at the end of the map that merges them.
/// </remarks>
public sealed class YamlTokenReader : TokenReader
{
    readonly Parser _parser;
    readonly long _maxMergedNodes;
    bool _yaml11;
    readonly bool _defaultYaml11;
    Mark _mark = Mark.Empty;

    enum FrameKind { List, Map, Set, Omap, OmapItem, NewArgs }

    sealed class Frame
    {
        public FrameKind Kind;
        public bool AtKey = true;
        /// <summary>Scalar keys written so far (to let explicit keys override merged ones); made on first key.</summary>
        public HashSet<(TokenKind, object?)>? Keys;
        public List<Node>? MergeSources;
    }

    readonly List<Frame> _frames = new();

    // Tokens queued by one event that stands for several (merged entries, the args of python/object/new).
    // Queued tokens leave the frames alone; 'completes' marks the one that ends a node of the parent.
    readonly Queue<(TokenKind kind, string? tag, object? value, bool completes)> _queue = new();

    // Merge support: anchored maps recorded as nodes, anchors of other nodes as identities.
    readonly Dictionary<string, Node> _anchorNodes = new();
    readonly Dictionary<Node, string> _nodeAnchor = new(ReferenceEqualityComparer.Instance);
    readonly HashSet<Node> _placeholders = new(ReferenceEqualityComparer.Instance);
    NodeBuilder? _recorder;
    int _recorderDepth;
    int _depth;
    // The value of a '<<' key being collected (not written).
    NodeBuilder? _mergeCapture;
    Frame? _mergeFrame;
    long _mergedNodes;

    public YamlTokenReader(Stream input, ReadOptions options)
    {
        _parser = new Parser(new StreamReader(input, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16));
        _maxMergedNodes = 10_000_000;
        // PyYAML and other YAML 1.1 writers put no %YAML directive: yaml-version=1.1 reads their plain scalars their way.
        _defaultYaml11 = options.Setting("yaml-version") is "1.1";
    }

    public override string FormatName => "yaml";
    public override string Location => _mark.Equals(Mark.Empty) ? "" : $"line {_mark.Line}, column {_mark.Column}";

    public override bool Read()
    {
        while (true)
        {
            if (!Produce()) { Kind = TokenKind.None; return false; }
            if (_mergeCapture is not null)
            {
                _mergeCapture.Accept(this);
                if (_mergeCapture.IsComplete)
                {
                    (_mergeFrame!.MergeSources ??= new()).Add(_mergeCapture.Result);
                    _mergeCapture = null; _mergeFrame = null;
                }
                continue;
            }
            Record();
            return true;
        }
    }

    /// <summary>Keeps anchored maps as nodes while they stream past, so a later merge key can copy their entries.</summary>
    void Record()
    {
        if (Kind.IsStart())
        {
            _depth++;
            if (_recorder is null && Anchor is not null && Kind == TokenKind.StartMap)
            {
                _recorder = new NodeBuilder { ResolveExternal = FindAnchor };
                _recorderDepth = _depth;
            }
            if (_recorder is null && Anchor is { } listAnchor) Remember(listAnchor, NewPlaceholder());
        }
        else if (Kind != TokenKind.Alias && !Kind.IsEnd() && _recorder is null && Anchor is { } scalarAnchor)
            Remember(scalarAnchor, NodeBuilder.ScalarOf(this));

        _recorder?.Accept(this);

        if (Kind.IsEnd())
        {
            if (_recorder is not null && _depth == _recorderDepth)
            {
                foreach (var (name, node) in _recorder.Anchors) Remember(name, node);
                _recorder = null;
            }
            _depth--;
        }
    }

    Node? FindAnchor(string name) => _recorder?.Anchors.GetValueOrDefault(name) ?? _anchorNodes.GetValueOrDefault(name);

    Node NewPlaceholder() { var n = Node.Null(); _placeholders.Add(n); return n; }

    void Remember(string name, Node node) { _anchorNodes[name] = node; _nodeAnchor[node] = name; }

    /// <summary>Sets the next token (not yet filtered for merge capture). False at the end of the stream.</summary>
    bool Produce()
    {
        ResetNodeInfo();
        if (_queue.Count > 0)
        {
            var (kind, tag, value, completes) = _queue.Dequeue();
            SetFromQueued(kind, tag, value);
            if (completes) AfterToken();
            return true;
        }
        try
        {
            while (_parser.MoveNext())
            {
                var ev = _parser.Current!;
                _mark = ev.Start;
                switch (ev)
                {
                    case DocumentStart ds:
                        _yaml11 = ds.Version is { } v ? v.Version.Major == 1 && v.Version.Minor <= 1 : _defaultYaml11;
                        _anchorNodes.Clear(); _nodeAnchor.Clear(); _placeholders.Clear();
                        continue;
                    case StreamStart or StreamEnd or DocumentEnd or Comment:
                        continue;
                    case AnchorAlias alias:
                        if (SwallowSetValue(null)) continue;
                        BeforeNode();
                        Kind = TokenKind.Alias;
                        StringValue = alias.Value.Value;
                        AfterToken();
                        return true;
                    case Scalar scalar:
                        if (SwallowSetValue(scalar)) continue;
                        if (IsMergeKey(scalar)) { BeginMerge(); continue; }
                        BeforeNode();
                        SetAnchor(scalar);
                        ResolveScalar(scalar);
                        AfterToken();
                        return true;
                    case SequenceStart seq:
                        if (SwallowSetValue(null)) continue;
                        BeforeNode();
                        SetAnchor(seq);
                        StartSequence(seq);
                        return true;
                    case MappingStart map:
                        if (SwallowSetValue(null)) continue;
                        if (Top is { Kind: FrameKind.Omap })
                        {
                            if (!map.Tag.IsEmpty && !map.Tag.IsNonSpecific && map.Tag.Value != CoreTag("map"))
                                throw Error("an item of an !!omap must be a map of one entry");
                            _frames.Add(new Frame { Kind = FrameKind.OmapItem });
                            continue;
                        }
                        BeforeNode();
                        SetAnchor(map);
                        StartMapping(map);
                        return true;
                    case SequenceEnd:
                    {
                        var f = Pop();
                        if (f.Kind == FrameKind.Omap) Kind = TokenKind.EndMap;
                        else if (f.Kind == FrameKind.NewArgs) { Kind = TokenKind.EndList; _queue.Enqueue((TokenKind.EndMap, null, null, true)); return true; }
                        else Kind = TokenKind.EndList;
                        AfterToken();
                        return true;
                    }
                    case MappingEnd:
                    {
                        var f = Top!;
                        if (f.Kind == FrameKind.OmapItem) { Pop(); continue; }
                        if (f.MergeSources is not null && QueueMerged(f)) { Pop(); _queue.Enqueue((TokenKind.EndMap, null, null, true)); return Produce(); }
                        Pop();
                        Kind = f.Kind == FrameKind.Set ? TokenKind.EndList : TokenKind.EndMap;
                        AfterToken();
                        return true;
                    }
                    default:
                        continue;
                }
            }
        }
        catch (YamlException e)
        {
            var m = e.Start;
            var where = m.Equals(Mark.Empty) ? Location : $"line {m.Line}, column {m.Column}";
            throw new BrineFormatException(FormatName, where, CleanMessage(e.Message), e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's parser throws this on some malformed flow collections instead of a YamlException.
            throw new BrineFormatException(FormatName, Location, "malformed YAML: " + e.Message, e);
        }
        catch (ArgumentException e)
        {
            throw new BrineFormatException(FormatName, Location, e.Message, e);
        }
        return false;
    }

    static string CleanMessage(string message)
    {
        // YamlDotNet prefixes "(Line: 1, Col: 2, Idx: 1) - (Line: …): "; Brine gives the place itself.
        int i = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && i >= 0 ? message[(i + 3)..] : message;
    }

    Frame? Top => _frames.Count > 0 ? _frames[^1] : null;

    Frame Pop()
    {
        var f = _frames[^1];
        _frames.RemoveAt(_frames.Count - 1);
        return f;
    }

    static string CoreTag(string name) => YamlScalars.CoreTagPrefix + name;

    /// <summary>In a <c>!!set</c>, values are null and are not part of the model's list: skip them.</summary>
    bool SwallowSetValue(Scalar? scalar)
    {
        if (Top is not { Kind: FrameKind.Set, AtKey: false } set) return false;
        if (scalar is null || !(scalar.Tag.IsEmpty && scalar.IsPlainImplicit && YamlScalars.IsNull12(scalar.Value) || scalar.Tag.Value == CoreTag("null")))
            throw Error("a value in a !!set must be null (a set is a map of keys to null)");
        set.AtKey = true;
        return true;
    }

    bool IsMergeKey(Scalar s) =>
        Top is { Kind: FrameKind.Map, AtKey: true } && s.Value == "<<" && s.Style == ScalarStyle.Plain && s.Tag.IsEmpty;

    void BeginMerge()
    {
        var f = Top!;
        f.AtKey = false;
        _mergeFrame = f;
        _mergeCapture = new NodeBuilder { ResolveExternal = FindAnchor };
    }

    /// <summary>Queues the entries merged into <paramref name="f"/> that no explicit key overrides. False if none.</summary>
    bool QueueMerged(Frame f)
    {
        var maps = new List<Node>();
        foreach (var src in f.MergeSources!)
        {
            if (src.IsMap) maps.Add(src);
            else if (src.IsList && src.Tag is null && src.Items!.All(i => i.IsMap)) maps.AddRange(src.Items!);
            else throw Error("the value of a merge key '<<' must be a map or a list of maps");
        }
        var seen = f.Keys ?? new HashSet<(TokenKind, object?)>();
        bool any = false;
        foreach (var m in maps)
        {
            if (_placeholders.Contains(m)) throw Error("the value of a merge key '<<' must be a map");
            foreach (var (k, v) in m.Entries!)
            {
                if (!seen.Add((k.Kind, KeyValue(k)))) continue;
                Replay(k); Replay(v); any = true;
            }
        }
        return any;
    }

    static object? KeyValue(Node n) => n.Value is byte[] b ? Convert.ToBase64String(b) : n.Value;

    /// <summary>Queues the tokens of a recorded node: anchored nodes as aliases, the rest written out again.</summary>
    void Replay(Node root)
    {
        var todo = new Stack<(Node node, bool end)>();
        todo.Push((root, false));
        while (todo.Count > 0)
        {
            var (n, end) = todo.Pop();
            if (++_mergedNodes > _maxMergedNodes)
                throw new BrineLimitException(FormatName, Location, $"merge keys expand to more than {_maxMergedNodes:N0} nodes");
            if (end) { _queue.Enqueue((n.IsList ? TokenKind.EndList : TokenKind.EndMap, null, null, false)); continue; }
            if (_nodeAnchor.TryGetValue(n, out var name) && ReferenceEquals(_anchorNodes.GetValueOrDefault(name), n))
            {
                _queue.Enqueue((TokenKind.Alias, null, name, false));
                continue;
            }
            if (_placeholders.Contains(n)) throw Error("cannot merge a node whose anchor was redefined");
            if (n.IsScalar) { _queue.Enqueue((n.Kind, n.Tag, n.Value, false)); continue; }
            _queue.Enqueue((n.Kind, n.Tag, null, false));
            todo.Push((n, true));
            if (n.IsList) for (int i = n.Items!.Count - 1; i >= 0; i--) todo.Push((n.Items[i], false));
            else for (int i = n.Entries!.Count - 1; i >= 0; i--) { todo.Push((n.Entries[i].Value, false)); todo.Push((n.Entries[i].Key, false)); }
        }
    }

    void SetFromQueued(TokenKind kind, string? tag, object? value)
    {
        Kind = kind; Tag = tag;
        switch (kind)
        {
            case TokenKind.Alias: StringValue = (string)value!; break;
            case TokenKind.String: StringValue = (string)value!; break;
            case TokenKind.Bool: BoolValue = (bool)value!; break;
            case TokenKind.Int: if (value is long l) Int64Value = l; else BigValue = (BigInteger)value!; break;
            case TokenKind.Float: DoubleValue = (double)value!; break;
            case TokenKind.Decimal: DecimalValue = (DecimalNumber)value!; break;
            case TokenKind.Bytes: BytesValue = (byte[])value!; break;
            case TokenKind.Timestamp: TimestampValue = (Timestamp)value!; break;
            case TokenKind.Date: DateValue = (DateOnly)value!; break;
            case TokenKind.Time: TimeValue = (TimeOnly)value!; break;
            case TokenKind.Uuid: UuidValue = (Guid)value!; break;
        }
    }

    /// <summary>Before a node: an !!omap holds only maps of one entry.</summary>
    void BeforeNode()
    {
        if (Top is { Kind: FrameKind.Omap }) throw Error("an item of an !!omap must be a map of one entry");
    }

    /// <summary>After a scalar, alias or end: the parent map now expects a key or a value; keys are noted.</summary>
    void AfterToken()
    {
        if (Kind.IsStart()) return;
        var parent = Top;
        if (parent is null) return;
        if (parent.Kind is FrameKind.Map or FrameKind.OmapItem)
        {
            if (parent.AtKey && Kind.IsScalar())
            {
                if (parent.Kind == FrameKind.Map) (parent.Keys ??= new()).Add((Kind, CurrentKeyValue()));
            }
            parent.AtKey = !parent.AtKey;
        }
        else if (parent.Kind == FrameKind.Set) parent.AtKey = false;
    }

    object? CurrentKeyValue() => Kind switch
    {
        TokenKind.Null => null,
        TokenKind.Bool => BoolValue,
        TokenKind.Int => BigValue is { } b ? b : Int64Value,
        TokenKind.Float => DoubleValue,
        TokenKind.Decimal => DecimalValue,
        TokenKind.String => StringValue,
        TokenKind.Bytes => Convert.ToBase64String(BytesValue!),
        TokenKind.Timestamp => TimestampValue,
        TokenKind.Date => DateValue,
        TokenKind.Time => TimeValue,
        TokenKind.Uuid => UuidValue,
        _ => null,
    };

    void SetAnchor(NodeEvent e)
    {
        if (!e.Anchor.IsEmpty) Anchor = e.Anchor.Value;
    }

    void StartSequence(SequenceStart seq)
    {
        var tag = seq.Tag.IsEmpty || seq.Tag.IsNonSpecific ? null : seq.Tag.Value;
        Kind = TokenKind.StartList;
        var kind = FrameKind.List;
        switch (tag)
        {
            case null: break;
            case YamlScalars.CoreTagPrefix + "seq" or YamlScalars.CoreTagPrefix + "python/list": tag = null; break;
            case YamlScalars.CoreTagPrefix + "python/tuple": tag = "tuple"; break;
            case YamlScalars.CoreTagPrefix + "pairs": tag = "pairs"; break;
            case YamlScalars.CoreTagPrefix + "omap":
                tag = "omap"; Kind = TokenKind.StartMap; kind = FrameKind.Omap; break;
            default:
                if (PythonClass(tag) is { } cls)
                {
                    // PyYAML's short form: !!python/object/new:cls [args] is the map {args: [...]}.
                    tag = cls; Kind = TokenKind.StartMap; kind = FrameKind.NewArgs;
                    _queue.Enqueue((TokenKind.String, null, "args", false));
                    _queue.Enqueue((TokenKind.StartList, null, null, false));
                }
                break;
        }
        Tag = tag;
        _frames.Add(new Frame { Kind = kind });
    }

    void StartMapping(MappingStart map)
    {
        var tag = map.Tag.IsEmpty || map.Tag.IsNonSpecific ? null : map.Tag.Value;
        Kind = TokenKind.StartMap;
        var kind = FrameKind.Map;
        if (tag is YamlScalars.CoreTagPrefix + "map" or YamlScalars.CoreTagPrefix + "python/dict") tag = null;
        else if (tag == YamlScalars.CoreTagPrefix + "set") { tag = "set"; Kind = TokenKind.StartList; kind = FrameKind.Set; }
        else if (tag is not null && PythonClass(tag) is { } cls) tag = cls;
        Tag = tag;
        _frames.Add(new Frame { Kind = kind });
    }

    /// <summary>The class of <c>!!python/object:cls</c> or <c>!!python/object/new:cls</c>, else null.</summary>
    static string? PythonClass(string tag)
    {
        const string obj = YamlScalars.CoreTagPrefix + "python/object:";
        const string objNew = YamlScalars.CoreTagPrefix + "python/object/new:";
        if (tag.StartsWith(objNew, StringComparison.Ordinal)) return tag[objNew.Length..];
        if (tag.StartsWith(obj, StringComparison.Ordinal)) return tag[obj.Length..];
        return null;
    }

    void ResolveScalar(Scalar s)
    {
        var v = s.Value;
        if (s.Tag.IsEmpty)
        {
            if (s.Style is ScalarStyle.Plain) ResolvePlain(v);
            else { Kind = TokenKind.String; StringValue = v; }
            return;
        }
        if (s.Tag.IsNonSpecific) { Kind = TokenKind.String; StringValue = v; return; }
        var tag = s.Tag.Value;
        if (!tag.StartsWith(YamlScalars.CoreTagPrefix, StringComparison.Ordinal)) { Kind = TokenKind.String; StringValue = v; Tag = tag; return; }
        switch (tag[YamlScalars.CoreTagPrefix.Length..])
        {
            case "str" or "python/str" or "python/unicode": Kind = TokenKind.String; StringValue = v; return;
            case "null" or "python/none":
                if (!(YamlScalars.IsNull12(v))) throw Error($"'{v}' is not a !!null");
                Kind = TokenKind.Null; return;
            case "bool" or "python/bool":
                if (!(_yaml11 ? YamlScalars.TryBool11(v, out var b) : YamlScalars.TryBool12(v, out b))) throw Error($"'{v}' is not a !!bool");
                Kind = TokenKind.Bool; BoolValue = b; return;
            case "int" or "python/int" or "python/long":
                if (!(YamlScalars.TryInt12(v, out var i) || YamlScalars.TryInt11(v, out i))) throw Error($"'{v}' is not an !!int");
                SetInt(i); return;
            case "float" or "python/float":
                if (!(YamlScalars.TryFloat12(v, out var d) || YamlScalars.TryFloat11(v, out d))) throw Error($"'{v}' is not a !!float");
                SetFloat(v, d); return;
            case "binary" or "python/bytes":
                try { Kind = TokenKind.Bytes; BytesValue = Convert.FromBase64String(RemoveWhitespace(v)); }
                catch (FormatException) { throw Error("invalid base64 in !!binary"); }
                return;
            case "timestamp":
                if (!YamlScalars.TryTimestamp(v.Trim(), out var ts, out var date, out var dateOnly)) throw Error($"'{v}' is not a !!timestamp");
                if (dateOnly) { Kind = TokenKind.Date; DateValue = date; } else { Kind = TokenKind.Timestamp; TimestampValue = ts; }
                return;
            default:
                // Other core-prefixed tags (python/name:…, python/complex …) pass through with the text.
                Kind = TokenKind.String; StringValue = v; Tag = tag; return;
        }
    }

    static string RemoveWhitespace(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s) if (!char.IsWhiteSpace(c)) sb.Append(c);
        return sb.ToString();
    }

    void ResolvePlain(string v)
    {
        switch (YamlScalars.PlainKind(v, _yaml11))
        {
            case TokenKind.Null: Kind = TokenKind.Null; return;
            case TokenKind.Bool:
                Kind = TokenKind.Bool;
                BoolValue = _yaml11 ? YamlScalars.TryBool11(v, out var b) && b : YamlScalars.TryBool12(v, out b) && b;
                return;
            case TokenKind.Int:
            {
                BigInteger i;
                if (_yaml11) YamlScalars.TryInt11(v, out i); else YamlScalars.TryInt12(v, out i);
                SetInt(i);
                return;
            }
            case TokenKind.Float:
            {
                double d;
                if (_yaml11) YamlScalars.TryFloat11(v, out d); else YamlScalars.TryFloat12(v, out d);
                SetFloat(v, d);
                return;
            }
            case TokenKind.Timestamp:
                YamlScalars.TryTimestamp(v, out var ts, out var date, out var dateOnly);
                if (dateOnly) { Kind = TokenKind.Date; DateValue = date; } else { Kind = TokenKind.Timestamp; TimestampValue = ts; }
                return;
            default: Kind = TokenKind.String; StringValue = v; return;
        }
    }

    void SetInt(BigInteger i)
    {
        Kind = TokenKind.Int;
        if (i >= long.MinValue && i <= long.MaxValue) Int64Value = (long)i; else BigValue = i;
    }

    void SetFloat(string text, double d)
    {
        if (double.IsFinite(d) && YamlScalars.NeedsDecimal(text) && DecimalNumber.TryParse(text.Replace("_", ""), out var dec))
        { Kind = TokenKind.Decimal; DecimalValue = dec; return; }
        Kind = TokenKind.Float; DoubleValue = d;
    }
}
