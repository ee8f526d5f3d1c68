using System.Numerics;
using System.Text;
using Brine.Model;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Brine.Formats.Yaml;

/// <summary>
/// Writes Brine tokens as YAML through YamlDotNet's <see cref="Emitter"/> events: block style (flow style when
/// <see cref="WriteOptions.Indent"/> is false), one document per
/// top-level value (<c>---</c> between them), anchors and aliases kept, tags written the PyYAML way
/// (<c>!!python/object:models.User</c>, <c>!!python/tuple</c>, <c>!!set</c>, <c>!!binary</c>, <c>!!timestamp</c>).
/// A string that would read back as another type (<c>true</c>, <c>123</c>, <c>null</c>, <c>yes</c>, <c>~</c>,
/// <c>1e3</c>, <c>''</c>) is quoted; the check applies YAML 1.2 and YAML 1.1 (PyYAML) rules both.
/// </summary>
public sealed class YamlTokenWriter : TokenWriter
{
    readonly StreamWriter _text;
    readonly VerbatimTagWriter _tagWriter;
    readonly Emitter _emitter;
    bool _started, _finished;
    int _documents;
    // Indent=false asks for compact output: flow style ({a: 1, b: [x, y]}).
    readonly MappingStyle _mapStyle;
    readonly SequenceStyle _seqStyle;

    enum FrameKind { List, Map, Set, Omap }
    sealed class Frame { public FrameKind Kind; public bool AtKey = true; }
    readonly List<Frame> _frames = new();

    // Model anchor -> YAML anchor for the current document; generated names are noted so a given name never clashes.
    readonly Dictionary<string, string> _anchors = new();
    readonly HashSet<string> _generated = new();
    int _nextAnchor;

    public YamlTokenWriter(Stream output, WriteOptions options)
    {
        _text = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        _tagWriter = new VerbatimTagWriter(_text);
        _emitter = new Emitter(_tagWriter);
        _mapStyle = options.Indent ? MappingStyle.Block : MappingStyle.Flow;
        _seqStyle = options.Indent ? SequenceStyle.Block : SequenceStyle.Flow;
    }

    public override string FormatName => "yaml";

    void Emit(ParsingEvent e)
    {
        try { _emitter.Emit(e); }
        catch (YamlException ex) { throw Error(ex.Message); }
    }

    Frame? Top => _frames.Count > 0 ? _frames[^1] : null;

    /// <summary>Opens the document for a top-level value, or an !!omap item for an omap key.</summary>
    void BeforeNode()
    {
        if (_finished) throw new InvalidOperationException("the YAML writer is finished");
        if (!_started) { Emit(new StreamStart()); _started = true; }
        if (_frames.Count == 0)
        {
            Emit(new DocumentStart(null, null, isImplicit: _documents == 0));
            _documents++;
            _anchors.Clear(); _generated.Clear();
        }
        else if (Top is { Kind: FrameKind.Omap, AtKey: true })
            Emit(new MappingStart(AnchorName.Empty, TagName.Empty, true, _mapStyle));
    }

    /// <summary>After a whole node: closes the document, adds a set item's null value, closes an omap item.</summary>
    void AfterNode()
    {
        var top = Top;
        if (top is null) { Emit(new DocumentEnd(isImplicit: true)); return; }
        switch (top.Kind)
        {
            case FrameKind.Set:
                Emit(new Scalar(AnchorName.Empty, TagName.Empty, "null", ScalarStyle.Plain, true, false));
                break;
            case FrameKind.Omap:
                if (!top.AtKey) Emit(new MappingEnd());
                top.AtKey = !top.AtKey;
                break;
            case FrameKind.Map:
                top.AtKey = !top.AtKey;
                break;
        }
    }

    AnchorName TakeAnchor()
    {
        var a = PendingAnchor;
        PendingAnchor = null;
        if (a is null) return AnchorName.Empty;
        string name;
        if (IsPortableAnchor(a) && !_generated.Contains(a)) name = a;
        else
        {
            do name = "a" + ++_nextAnchor; while (_anchors.ContainsValue(name) || _generated.Contains(name));
            _generated.Add(name);
        }
        _anchors[a] = name;
        return new AnchorName(name);
    }

    /// <summary>Anchor names every YAML reader accepts (PyYAML allows only letters, digits, '-' and '_').</summary>
    static bool IsPortableAnchor(string a)
    {
        if (a.Length == 0) return false;
        foreach (var c in a) if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
        return true;
    }

    string? TakeTag() { var t = PendingTag; PendingTag = null; return t; }

    TagName MakeTag(string tag)
    {
        try
        {
            if (tag.StartsWith('!')) return new TagName(tag);
            if (IsUri(tag))
            {
                // YamlDotNet's emitter writes a global tag with no matching %TAG handle bare (invalid YAML);
                // VerbatimTagWriter turns it into !<uri>.
                if (!tag.StartsWith(YamlScalars.CoreTagPrefix, StringComparison.Ordinal)) _tagWriter.ExpectVerbatim(tag);
                return new TagName(tag);
            }
            return new TagName("!" + tag);
        }
        catch (ArgumentException e) { throw Error($"cannot write the tag '{tag}': {e.Message}"); }
    }

    /// <summary>A global tag: <c>scheme:rest</c> (tag:, http:, urn: …). Model tags such as <c>models.User</c> are not.</summary>
    static bool IsUri(string tag)
    {
        int colon = tag.IndexOf(':');
        if (colon <= 0) return false;
        if (!char.IsAsciiLetter(tag[0])) return false;
        for (int i = 1; i < colon; i++) if (!(char.IsAsciiLetterOrDigit(tag[i]) || tag[i] is '+' or '-' or '.')) return false;
        return true;
    }

    static TagName Core(string name) => new(YamlScalars.CoreTagPrefix + name);

    void WriteScalarText(string value, TagName? explicitTag, bool plainSafe, ScalarStyle style = ScalarStyle.Any)
    {
        BeforeNode();
        var anchor = TakeAnchor();
        var modelTag = TakeTag();
        if (modelTag is not null) explicitTag = MakeTag(modelTag);
        Scalar s;
        if (explicitTag is { } t)
            s = new Scalar(anchor, t, value, style, false, false);
        else
            s = new Scalar(anchor, TagName.Empty, value, plainSafe ? style : ScalarStyle.SingleQuoted, plainSafe, true);
        Emit(s);
        AfterNode();
    }

    public override void WriteNull() => WriteScalarText("null", null, true, ScalarStyle.Plain);
    public override void WriteBool(bool value) => WriteScalarText(value ? "true" : "false", null, true, ScalarStyle.Plain);
    public override void WriteInt(long value) => WriteScalarText(value.ToString(System.Globalization.CultureInfo.InvariantCulture), null, true, ScalarStyle.Plain);
    public override void WriteBigInt(BigInteger value) => WriteScalarText(value.ToString(System.Globalization.CultureInfo.InvariantCulture), null, true, ScalarStyle.Plain);
    public override void WriteFloat(double value) => WriteScalarText(YamlScalars.FormatFloat(value), null, true, ScalarStyle.Plain);
    public override void WriteDecimal(DecimalNumber value) => WriteScalarText(YamlScalars.FormatDecimal(value), null, true, ScalarStyle.Plain);

    public override void WriteString(string value)
    {
        bool safe = YamlScalars.IsPlainSafe(value);
        // Multi-line text reads best as a literal block; the emitter falls back to quotes where a block cannot hold it.
        WriteScalarText(value, null, safe, value.Contains('\n') ? ScalarStyle.Literal : ScalarStyle.Any);
    }

    public override void WriteBytes(ReadOnlySpan<byte> value)
    {
        var b64 = Convert.ToBase64String(value);
        if (b64.Length > 76)
        {
            var sb = new StringBuilder(b64.Length + b64.Length / 76 + 1);
            for (int i = 0; i < b64.Length; i += 76) sb.Append(b64, i, Math.Min(76, b64.Length - i)).Append('\n');
            WriteScalarText(sb.ToString(), Core("binary"), false, ScalarStyle.Literal);
        }
        else WriteScalarText(b64, Core("binary"), false);
    }

    public override void WriteTimestamp(Timestamp value) => WriteScalarText(value.ToString(), Core("timestamp"), false, ScalarStyle.Plain);
    public override void WriteDate(DateOnly value) => WriteScalarText(YamlScalars.FormatDate(value), Core("timestamp"), false, ScalarStyle.Plain);
    /// <summary>YAML has no time-of-day type: a time is written as a (quoted) string.</summary>
    public override void WriteTime(TimeOnly value) => WriteString(YamlScalars.FormatTime(value));
    /// <summary>YAML has no UUID type: a UUID is written as a string.</summary>
    public override void WriteUuid(Guid value) => WriteString(value.ToString());

    public override void StartList(int count = -1)
    {
        BeforeNode();
        var anchor = TakeAnchor();
        var tag = TakeTag();
        if (tag == "set")
        {
            Emit(new MappingStart(anchor, Core("set"), false, _mapStyle));
            _frames.Add(new Frame { Kind = FrameKind.Set });
            return;
        }
        var yamlTag = tag switch
        {
            null => TagName.Empty,
            "tuple" => Core("python/tuple"),
            "pairs" => Core("pairs"),
            _ => MakeTag(tag),
        };
        Emit(new SequenceStart(anchor, yamlTag, yamlTag.IsEmpty, _seqStyle));
        _frames.Add(new Frame { Kind = FrameKind.List });
    }

    public override void EndList()
    {
        var f = Pop();
        if (f.Kind == FrameKind.Set) Emit(new MappingEnd());
        else Emit(new SequenceEnd());
        AfterNode();
    }

    public override void StartMap(int count = -1)
    {
        BeforeNode();
        var anchor = TakeAnchor();
        var tag = TakeTag();
        if (tag == "omap")
        {
            Emit(new SequenceStart(anchor, Core("omap"), false, _seqStyle));
            _frames.Add(new Frame { Kind = FrameKind.Omap });
            return;
        }
        TagName yamlTag;
        if (tag is null) yamlTag = TagName.Empty;
        else if (tag.StartsWith('!') || IsUri(tag)) yamlTag = MakeTag(tag);
        else yamlTag = Core("python/object:" + tag);  // a typed object: PyYAML's spelling
        Emit(new MappingStart(anchor, yamlTag, yamlTag.IsEmpty, _mapStyle));
        _frames.Add(new Frame { Kind = FrameKind.Map });
    }

    public override void EndMap()
    {
        var f = Pop();
        if (f.Kind == FrameKind.Omap)
        {
            if (!f.AtKey) throw Error("a map ended after a key with no value");
            Emit(new SequenceEnd());
        }
        else Emit(new MappingEnd());
        AfterNode();
    }

    Frame Pop()
    {
        if (_frames.Count == 0) throw Error("end of a container that was not started");
        var f = _frames[^1];
        _frames.RemoveAt(_frames.Count - 1);
        return f;
    }

    public override void WriteAlias(string anchor)
    {
        if (!_anchors.TryGetValue(anchor, out var name)) throw Error($"alias '{anchor}' refers to no earlier anchor in this document");
        BeforeNode();
        PendingTag = null; PendingAnchor = null;
        Emit(new AnchorAlias(new AnchorName(name)));
        AfterNode();
    }

    public override void Finish()
    {
        if (_finished) return;
        if (_frames.Count > 0) throw Error("the stream ended inside a " + (Top!.Kind is FrameKind.Map or FrameKind.Omap ? "map" : "list"));
        if (_started) Emit(new StreamEnd());
        _finished = true;
        _text.Flush();
    }

    public override void Dispose()
    {
        _text.Dispose();
        base.Dispose();
    }
}

/// <summary>
/// The text writer under the emitter. YamlDotNet 18.1's emitter writes a global tag that matches no %TAG
/// handle as bare text (<c>tag:example.com,2000:x value</c>, which reads back as a plain string) where libyaml
/// writes the verbatim form <c>!&lt;tag:example.com,2000:x&gt;</c>. It writes such a tag in one
/// <see cref="Write(string)"/> call, so this writer wraps exactly that call; scalars are written a character at a time.
/// </summary>
sealed class VerbatimTagWriter : TextWriter
{
    readonly TextWriter _inner;
    string? _expected;

    public VerbatimTagWriter(TextWriter inner) { _inner = inner; }
    public override Encoding Encoding => _inner.Encoding;

    /// <summary>The next node carries this global tag.</summary>
    public void ExpectVerbatim(string tag) => _expected = tag;

    public override void Write(char value) => _inner.Write(value);
    public override void Write(char[] buffer, int index, int count) => _inner.Write(buffer, index, count);
    public override void Write(string? value)
    {
        if (_expected is not null && value == _expected)
        {
            _inner.Write("!<"); _inner.Write(value); _inner.Write('>');
            _expected = null;
            return;
        }
        _inner.Write(value);
    }
    public override void Flush() => _inner.Flush();
}
