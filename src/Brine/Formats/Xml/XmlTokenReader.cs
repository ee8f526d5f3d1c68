using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Xml;
using Brine.Model;
using static Brine.Formats.Xml.XmlConventions;

namespace Brine.Formats.Xml;

/// <summary>
/// Reads one XML document as one value with <see cref="XmlReader"/>, streaming (docs/formats/xml.md).
/// Repeated sibling elements become a list; to know whether an element starts such a run the reader holds its
/// tokens until the next sibling shows up (a small lookahead, capped), unless the element carries
/// <c>b:list="true"</c>, which Brine's writer puts on the first item of every list so its own output needs none.
/// </summary>
public sealed class XmlTokenReader : TokenReader
{
    enum Shape : byte { Pending, Map, List, Scalar, Null, Alias }
    enum Run : byte { None, Pending, List }

    /// <summary>A token waiting in the queue. A hold is a slot that becomes a StartList or nothing once the run is known.</summary>
    sealed class Tok
    {
        public TokenKind Kind;
        public string? Tag, Anchor, Str;
        public long Int;
        public BigInteger? Big;
        public double Float;
        public DecimalNumber Dec;
        public bool Bool;
        public byte[]? Bytes;
        public Timestamp Ts;
        public DateOnly Date;
        public TimeOnly Time;
        public Guid Uuid;
        public bool IsHold, Resolved, AsList;
    }

    sealed class Frame
    {
        public required string Name;
        public Shape Shape;
        public string? Type, Tag, Anchor, Ref;
        /// <summary>The element's text so far: most elements have one text node, so a builder only for the second piece.</summary>
        public string? Text;
        public StringBuilder? MoreText;
        public bool HasText => Text is not null;
        public void AddText(string s)
        {
            if (Text is null) { Text = s; return; }
            MoreText ??= new StringBuilder();
            if (MoreText.Length == 0) MoreText.Append(Text);
            MoreText.Append(s);
        }
        public string TakeText()
        {
            var s = MoreText is { Length: > 0 } b ? b.ToString() : Text ?? "";
            Text = null; MoreText?.Clear();
            return s;
        }
        public string? RunName;
        public Run Run;
        public Tok? RunHold;
    }

    const string XmlnsNamespace = "http://www.w3.org/2000/xmlns/";

    readonly XmlReader _x;
    readonly IXmlLineInfo? _lines;
    readonly ReadOptions _options;
    readonly bool _refs;
    readonly int _lookahead;
    readonly List<Tok> _queue = new();
    int _head;
    readonly List<Frame> _frames = new();
    bool _sawRoot;
    readonly Dictionary<string, string> _keys = new(ReferenceEqualityComparer.Instance);

    /// <summary>The map key of an element name; decoded once per distinct name (DecodeName scans for <c>_xHHHH_</c> escapes).</summary>
    string KeyOf(string name)
    {
        if (_keys.TryGetValue(name, out var k)) return k;
        k = ElementNameToKey(name);
        if (_keys.Count < 10_000) _keys[name] = k;
        return k;
    }

    public XmlTokenReader(Stream input, ReadOptions options)
    {
        _options = options;
        _refs = options.Setting("refs") is not ("off" or "none" or "false");
        _lookahead = int.TryParse(options.Setting("lookahead"), NumberStyles.None, CultureInfo.InvariantCulture, out var la) ? la : 100_000;
        _x = XmlReader.Create(input, new XmlReaderSettings
        {
            // No DTD: a DOCTYPE could fetch external entities (XXE) or expand entity bombs.
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            CloseInput = false,
        });
        _lines = _x as IXmlLineInfo;
    }

    public override string FormatName => "xml";

    public override string Location => _lines is { } l && l.HasLineInfo() && l.LineNumber > 0 ? $"line {l.LineNumber}, column {l.LinePosition}" : "";

    public override bool Read()
    {
        ResetNodeInfo();
        try
        {
            while (true)
            {
                if (_head < _queue.Count)
                {
                    var t = _queue[_head];
                    if (t.IsHold && !t.Resolved)
                    {
                        // Past the cap, stop waiting: the element is a single entry (a later same-name sibling becomes a repeated key).
                        if (_queue.Count - _head > _lookahead) { t.Resolved = true; t.AsList = false; continue; }
                        if (!Advance()) throw Error("unexpected end of the document");
                        continue;
                    }
                    _head++;
                    if (_head == _queue.Count) { _queue.Clear(); _head = 0; }
                    else if (_head > 4096 && _head * 2 > _queue.Count) { _queue.RemoveRange(0, _head); _head = 0; }
                    if (t.IsHold) { if (!t.AsList) continue; Kind = TokenKind.StartList; return true; }
                    Load(t);
                    if (_free.Count < 1024) _free.Push(t);
                    return true;
                }
                if (!Advance()) { Kind = TokenKind.None; return false; }
            }
        }
        catch (XmlException e)
        {
            var where = e.LineNumber > 0 ? $"line {e.LineNumber}, column {e.LinePosition}" : Location;
            if (e.Message.Contains("DTD", StringComparison.OrdinalIgnoreCase))
                throw new BrineFormatException(FormatName, where.Length > 0 ? where : "at the DOCTYPE", "DTDs are not processed: the document has a DOCTYPE, which could declare external entities (XXE) or entity expansion bombs; remove it", e);
            throw new BrineFormatException(FormatName, where, e.Message, e);
        }
    }

    void Load(Tok t)
    {
        Kind = t.Kind; Tag = t.Tag; Anchor = t.Anchor;
        switch (t.Kind)
        {
            case TokenKind.String: case TokenKind.Alias: StringValue = t.Str; break;
            case TokenKind.Int: Int64Value = t.Int; BigValue = t.Big; break;
            case TokenKind.Float: DoubleValue = t.Float; break;
            case TokenKind.Decimal: DecimalValue = t.Dec; break;
            case TokenKind.Bool: BoolValue = t.Bool; break;
            case TokenKind.Bytes: BytesValue = t.Bytes; break;
            case TokenKind.Timestamp: TimestampValue = t.Ts; break;
            case TokenKind.Date: DateValue = t.Date; break;
            case TokenKind.Time: TimeValue = t.Time; break;
            case TokenKind.Uuid: UuidValue = t.Uuid; break;
        }
    }

    // Tokens are recycled once read (holds excepted: frames still look at them), to keep allocation per token low.
    readonly Stack<Tok> _free = new();

    Tok NewTok()
    {
        if (_free.TryPop(out var t)) { t.Tag = null; t.Anchor = null; t.Str = null; t.Big = null; t.Bytes = null; return t; }
        return new Tok();
    }

    Tok Emit(TokenKind kind, string? str = null, string? tag = null, string? anchor = null)
    {
        var t = NewTok();
        t.Kind = kind; t.Str = str; t.Tag = tag; t.Anchor = anchor;
        _queue.Add(t);
        return t;
    }

    /// <summary>Processes the next XML node. Returns false at the end of the document.</summary>
    bool Advance()
    {
        if (!_x.Read())
        {
            if (!_sawRoot) throw Error("the document has no root element");
            return false;
        }
        switch (_x.NodeType)
        {
            case XmlNodeType.Element: OnElement(); break;
            case XmlNodeType.EndElement: OnEnd(); break;
            case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace:
                if (_frames.Count > 0) _frames[^1].AddText(_x.Value);
                break;
        }
        return true;
    }

    void OnElement()
    {
        string name = _x.Name;
        bool empty = _x.IsEmptyElement;
        bool isEntry = _x.LocalName == EntryElement && _x.NamespaceURI == Namespace;
        string? type = null, tag = null, nil = null, list = null, id = null, rf = null, entryKey = null;
        List<(string name, string value)>? attrs = null;
        if (_x.MoveToFirstAttribute())
        {
            do
            {
                var ns = _x.NamespaceURI;
                if (ns == XmlnsNamespace) continue;
                if (ns == Namespace)
                {
                    switch (_x.LocalName)
                    {
                        case TypeAttr: type = _x.Value; break;
                        case TagAttr: tag = _x.Value; break;
                        case NilAttr: nil = _x.Value; break;
                        case ListAttr: list = _x.Value; break;
                    }
                    continue;
                }
                var an = _x.Name;
                if (isEntry && an == EntryKeyAttr) entryKey = _x.Value;
                else if (_refs && an == IdAttr) id = _x.Value;
                else if (_refs && an == RefAttr) rf = _x.Value;
                else (attrs ??= new()).Add((an, _x.Value));
            } while (_x.MoveToNextAttribute());
            _x.MoveToElement();
        }

        string runName = isEntry ? "\u0001" + entryKey : name;
        if (_frames.Count == 0)
        {
            if (_sawRoot) throw Error("a second root element");
            _sawRoot = true;
            // The root element's name is not taken as a type: only b:tag gives the top-level value a tag.
        }
        else
        {
            var parent = _frames[^1];
            if (parent.Shape == Shape.Pending) OpenAsMap(parent);
            switch (parent.Shape)
            {
                case Shape.Map:
                {
                    FlushMapText(parent);
                    bool marked = list == "true";
                    if (!marked && parent.RunName == runName && (parent.Run == Run.List || (parent.Run == Run.Pending && !parent.RunHold!.Resolved)))
                    {
                        if (parent.Run == Run.Pending) { parent.RunHold!.Resolved = true; parent.RunHold.AsList = true; parent.Run = Run.List; parent.RunHold = null; }
                    }
                    else
                    {
                        CloseRun(parent);
                        Emit(TokenKind.String, isEntry ? entryKey ?? "" : KeyOf(name));
                        parent.RunName = runName;
                        if (marked) { Emit(TokenKind.StartList); parent.Run = Run.List; }
                        else { parent.RunHold = Emit(TokenKind.None); parent.RunHold.IsHold = true; parent.Run = Run.Pending; }
                    }
                    break;
                }
                case Shape.List:
                    FlushListText(parent);
                    break;
                default:
                    throw Error($"element <{name}> inside <{parent.Name}>, which is {Describe(parent)} and cannot have child elements");
            }
        }

        if (_frames.Count >= _options.MaxDepth) throw new BrineLimitException(FormatName, Location, $"nesting deeper than {_options.MaxDepth} levels");
        var f = new Frame { Name = name, Tag = tag, Anchor = id };
        if (nil == "true") f.Shape = Shape.Null;
        else if (rf is not null && attrs is null && type is null) { f.Shape = Shape.Alias; f.Ref = rf; }
        else if (type == "list")
        {
            if (attrs is not null) throw Error($"element <{name}> is a list (b:type=\"list\") but has attributes");
            f.Shape = Shape.List;
            Emit(TokenKind.StartList, tag: tag, anchor: id);
        }
        else if (type == "map" || attrs is not null || rf is not null)
        {
            f.Shape = Shape.Map;
            Emit(TokenKind.StartMap, tag: tag, anchor: id);
            if (rf is not null) { Emit(TokenKind.String, AttributePrefix + RefAttr); Emit(TokenKind.String, rf); }
            if (attrs is not null)
                foreach (var (an, av) in attrs) { Emit(TokenKind.String, AttributePrefix + an); Emit(TokenKind.String, av); }
        }
        else if (type is not null) { f.Shape = Shape.Scalar; f.Type = type; }
        else f.Shape = Shape.Pending;
        _frames.Add(f);
        if (empty) OnEnd();
    }

    static string Describe(Frame f) => f.Shape switch
    {
        Shape.Null => "nil",
        Shape.Alias => "a reference (ref=\"" + f.Ref + "\")",
        _ => "typed b:type=\"" + f.Type + "\"",
    };

    void OpenAsMap(Frame f)
    {
        f.Shape = Shape.Map;
        Emit(TokenKind.StartMap, tag: f.Tag, anchor: f.Anchor);
        FlushMapText(f);
    }

    /// <summary>Text between the children of a map is a <c>#text</c> entry; whitespace-only text is indentation.</summary>
    void FlushMapText(Frame f)
    {
        if (!f.HasText) return;
        var s = f.TakeText();
        if (string.IsNullOrWhiteSpace(s)) return;
        CloseRun(f);
        f.RunName = null;
        Emit(TokenKind.String, TextKey);
        Emit(TokenKind.String, s);
    }

    void FlushListText(Frame f)
    {
        if (!f.HasText) return;
        if (!string.IsNullOrWhiteSpace(f.TakeText())) throw Error($"text inside <{f.Name}>, which is a list (b:type=\"list\")");
    }

    void CloseRun(Frame f)
    {
        if (f.Run == Run.List) Emit(TokenKind.EndList);
        else if (f.Run == Run.Pending && !f.RunHold!.Resolved) { f.RunHold.Resolved = true; f.RunHold.AsList = false; }
        f.Run = Run.None; f.RunHold = null; f.RunName = null;
    }

    void OnEnd()
    {
        var f = _frames[^1];
        _frames.RemoveAt(_frames.Count - 1);
        string text = f.Shape is Shape.Map or Shape.List ? "" : f.TakeText();
        switch (f.Shape)
        {
            case Shape.Pending: Emit(TokenKind.String, text, f.Tag, f.Anchor); break;
            case Shape.Scalar: _queue.Add(ParseTyped(f, text)); break;
            case Shape.Null:
                if (!string.IsNullOrWhiteSpace(text)) throw Error($"element <{f.Name}> is nil but has text");
                Emit(TokenKind.Null, tag: f.Tag, anchor: f.Anchor);
                break;
            case Shape.Alias:
                if (!string.IsNullOrWhiteSpace(text)) throw Error($"element <{f.Name}> is a reference (ref=\"{f.Ref}\") but has text");
                Emit(TokenKind.Alias, f.Ref);
                break;
            case Shape.Map: FlushMapText(f); CloseRun(f); Emit(TokenKind.EndMap); break;
            case Shape.List: FlushListText(f); Emit(TokenKind.EndList); break;
        }
    }

    Tok ParseTyped(Frame f, string text)
    {
        var t = NewTok();
        t.Tag = f.Tag; t.Anchor = f.Anchor;
        var s = text.Trim();
        bool ok = true;
        switch (f.Type)
        {
            case "string": t.Kind = TokenKind.String; t.Str = text; break;
            case Base64StringType:
                t.Kind = TokenKind.String;
                t.Str = MemoryMarshal.Cast<byte, char>(Convert.FromBase64String(s)).ToString();
                break;
            case "bool":
                t.Kind = TokenKind.Bool;
                if (s is "true" or "1") t.Bool = true; else if (s is "false" or "0") t.Bool = false; else ok = false;
                break;
            case "int":
                t.Kind = TokenKind.Int;
                if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) t.Int = l;
                else if (BigInteger.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var b)) t.Big = b;
                else ok = false;
                break;
            case "float": t.Kind = TokenKind.Float; ok = TryParseFloat(s, out t.Float); break;
            case "decimal": t.Kind = TokenKind.Decimal; ok = DecimalNumber.TryParse(s, out t.Dec); break;
            case "bytes":
                t.Kind = TokenKind.Bytes;
                try { t.Bytes = Convert.FromBase64String(s); } catch (FormatException) { ok = false; }
                break;
            case "timestamp": t.Kind = TokenKind.Timestamp; ok = Timestamp.TryParse(s, out t.Ts); break;
            case "date": t.Kind = TokenKind.Date; ok = DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out t.Date); break;
            case "time": t.Kind = TokenKind.Time; ok = TimeOnly.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.None, out t.Time); break;
            case "uuid": t.Kind = TokenKind.Uuid; ok = Guid.TryParse(s, out t.Uuid); break;
            default: throw Error($"element <{f.Name}> has an unknown b:type=\"{f.Type}\" (known: string, bool, int, float, decimal, bytes, timestamp, date, time, uuid, map, list)");
        }
        if (!ok) throw Error($"element <{f.Name}> is b:type=\"{f.Type}\" but its text '{(s.Length > 40 ? s[..40] + "…" : s)}' is not one");
        return t;
    }

    public override void Dispose()
    {
        _x.Dispose();
        base.Dispose();
    }
}
