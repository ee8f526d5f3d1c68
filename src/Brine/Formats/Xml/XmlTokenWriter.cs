using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Xml;
using Brine.Model;
using static Brine.Formats.Xml.XmlConventions;

namespace Brine.Formats.Xml;

/// <summary>
/// Writes one value as one XML document with <see cref="XmlWriter"/>, streaming, in the mapping that
/// <see cref="XmlTokenReader"/> reads back (docs/formats/xml.md).
/// </summary>
public sealed class XmlTokenWriter : TokenWriter
{
    sealed class Frame
    {
        public bool IsMap;
        /// <summary>A list written as repeated siblings named after its key (no element of its own).</summary>
        public bool RunStyle;
        /// <summary>The element name of each item (for a list) — null with <see cref="EntryKey"/> for a key no name can carry.</summary>
        public string? ItemName;
        public string? EntryKey;
        public long Items;
        // Map state.
        public bool HasKey;
        public string Key = "";
        public bool Content, DataAttributes, LastWasText;
        public HashSet<string>? AttributeNames;
    }

    /// <summary>Where the next value goes: an element name (or a b:entry key), whether it is the root, whether it opens a run.</summary>
    readonly record struct Target(string? Name, string? EntryKey, bool IsRoot, bool FirstOfRun, string? RootTag);

    readonly XmlWriter _w;
    readonly bool _refs;
    readonly string _rootName;
    readonly List<Frame> _frames = new();
    int _values;

    public XmlTokenWriter(Stream output, WriteOptions options)
    {
        _refs = options.Setting("refs") is not ("off" or "none" or "false");
        _rootName = options.Setting("root") is { Length: > 0 } root ? XmlConvert.VerifyName(root) : RootName;
        _w = XmlWriter.Create(output, new XmlWriterSettings
        {
            Indent = options.Indent,
            IndentChars = "  ",
            Encoding = new UTF8Encoding(false),
            // Keep \r and \t exact in text and attributes (XML would normalize them on reading).
            NewLineHandling = NewLineHandling.Entitize,
            CloseOutput = false,
        });
    }

    public override string FormatName => "xml";

    Frame? Top => _frames.Count > 0 ? _frames[^1] : null;

    /// <summary>A scalar in key position becomes the pending key. Returns true when it did.</summary>
    bool TakeKey(string text)
    {
        if (Top is { IsMap: true, HasKey: false } f)
        {
            f.Key = text; f.HasKey = true;
            PendingTag = null; PendingAnchor = null;
            return true;
        }
        return false;
    }

    void ValueDone()
    {
        if (Top is { IsMap: true } f) f.HasKey = false;
        else if (_frames.Count == 0) _values++;
    }

    Target NextTarget(bool isList)
    {
        var f = Top;
        if (f is null)
        {
            if (_values > 0) throw Error("XML holds one top-level value and this is the second; put the values in a list, or write JSON Lines or YAML");
            // The root element is named after the tag when it is an XML name (b:tag still records the tag, since a
            // foreign document's root name is not a type), else after the `root` setting, else <root>.
            var tag = PendingTag;
            bool tagAsName = tag is not null && tag != RootName && IsPlainName(tag);
            return new Target(tagAsName ? tag : _rootName, null, true, false, null);
        }
        if (f.IsMap)
        {
            if (!f.HasKey) throw Error("a map key must be a scalar, not a " + (isList ? "list" : "map"));
            var name = KeyToElementName(f.Key);
            return new Target(name, name is null ? f.Key : null, false, false, null);
        }
        bool first = f.RunStyle && f.Items == 0;
        f.Items++;
        return new Target(f.ItemName, f.EntryKey, false, first, null);
    }

    void StartElement(in Target t)
    {
        if (Top is { } parent) { parent.Content = true; parent.LastWasText = false; }
        if (t.Name is null) { _w.WriteStartElement(Prefix, EntryElement, Namespace); _w.WriteAttributeString(EntryKeyAttr, t.EntryKey); }
        else _w.WriteStartElement(t.Name);
        if (t.IsRoot) _w.WriteAttributeString("xmlns", Prefix, null, Namespace);
        if (t.FirstOfRun) _w.WriteAttributeString(Prefix, ListAttr, Namespace, "true");
        if (PendingAnchor is { } a && _refs) _w.WriteAttributeString(IdAttr, a);
        if (PendingTag is { } tag && tag != t.RootTag) _w.WriteAttributeString(Prefix, TagAttr, Namespace, tag);
        PendingTag = null; PendingAnchor = null;
    }

    void WriteScalar(string? type, string text)
    {
        var t = NextTarget(false);
        StartElement(t);
        if (type is not null) _w.WriteAttributeString(Prefix, TypeAttr, Namespace, type);
        _w.WriteString(text);
        _w.WriteEndElement();
        ValueDone();
    }

    public override void WriteNull()
    {
        if (TakeKey("null")) return;
        StartElement(NextTarget(false));
        _w.WriteAttributeString(Prefix, NilAttr, Namespace, "true");
        _w.WriteEndElement();
        ValueDone();
    }

    public override void WriteBool(bool value) { var s = value ? "true" : "false"; if (!TakeKey(s)) WriteScalar("bool", s); }
    public override void WriteInt(long value) { var s = value.ToString(CultureInfo.InvariantCulture); if (!TakeKey(s)) WriteScalar("int", s); }
    public override void WriteBigInt(BigInteger value) { var s = value.ToString(CultureInfo.InvariantCulture); if (!TakeKey(s)) WriteScalar("int", s); }
    public override void WriteFloat(double value) { var s = FormatFloat(value); if (!TakeKey(s)) WriteScalar("float", s); }
    public override void WriteDecimal(DecimalNumber value) { var s = value.ToString(); if (!TakeKey(s)) WriteScalar("decimal", s); }
    public override void WriteBytes(ReadOnlySpan<byte> value) { var s = Convert.ToBase64String(value); if (!TakeKey(s)) WriteScalar("bytes", s); }
    public override void WriteTimestamp(Timestamp value) { var s = value.ToString(); if (!TakeKey(s)) WriteScalar("timestamp", s); }
    public override void WriteDate(DateOnly value) { var s = value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture); if (!TakeKey(s)) WriteScalar("date", s); }
    public override void WriteTime(TimeOnly value) { var s = FormatTime(value); if (!TakeKey(s)) WriteScalar("time", s); }
    public override void WriteUuid(Guid value) { var s = value.ToString("D"); if (!TakeKey(s)) WriteScalar("uuid", s); }

    public override void WriteString(string value)
    {
        if (TakeKey(value)) return;
        bool plain = PendingTag is null && PendingAnchor is null && IsXmlText(value);
        if (plain && Top is { IsMap: true } m)
        {
            // "@name": an attribute, while the start tag is still open and the name is free.
            if (m.Key.Length > 1 && m.Key[0] == AttributePrefix && !m.Content)
            {
                var an = m.Key[1..];
                if (IsPlainName(an) && !(_refs && an is IdAttr or RefAttr) && (m.AttributeNames ??= new()).Add(an))
                {
                    _w.WriteAttributeString(an, value);
                    m.DataAttributes = true;
                    ValueDone();
                    return;
                }
            }
            // "#text": text content (not whitespace only, which reads as indentation; not right after other text, which would merge).
            if (m.Key == TextKey && !string.IsNullOrWhiteSpace(value) && !m.LastWasText)
            {
                // Without attributes or children yet, text alone would read back as a plain string.
                if (!m.Content && !m.DataAttributes) _w.WriteAttributeString(Prefix, TypeAttr, Namespace, "map");
                _w.WriteString(value);
                m.Content = true; m.LastWasText = true;
                ValueDone();
                return;
            }
        }
        if (IsXmlText(value)) WriteScalar(null, value);
        else WriteScalar(Base64StringType, Convert.ToBase64String(MemoryMarshal.AsBytes(value.AsSpan())));
    }

    public override void StartList(int count = -1)
    {
        var f = Top;
        // A plain list in a map is a run of sibling elements named after its key; any other list is wrapped.
        if (f is { IsMap: true, HasKey: true } && PendingTag is null && PendingAnchor is null)
        {
            var name = KeyToElementName(f.Key);
            // The run's elements are the map's content (its end must not add attributes after them).
            f.Content = true; f.LastWasText = false;
            _frames.Add(new Frame { RunStyle = true, ItemName = name, EntryKey = name is null ? f.Key : null });
            return;
        }
        if (f is { IsMap: true, HasKey: false }) throw Error("a map key must be a scalar, not a list");
        StartElement(NextTarget(true));
        _w.WriteAttributeString(Prefix, TypeAttr, Namespace, "list");
        _frames.Add(new Frame { ItemName = ItemName });
    }

    public override void EndList()
    {
        var f = Top ?? throw Error("EndList without a list");
        _frames.RemoveAt(_frames.Count - 1);
        if (f.RunStyle)
        {
            if (f.Items == 0)
            {
                // An empty run has no element at all: write an empty wrapped list instead.
                StartElement(new Target(f.ItemName, f.EntryKey, false, false, null));
                _w.WriteAttributeString(Prefix, TypeAttr, Namespace, "list");
                _w.WriteEndElement();
            }
        }
        else _w.WriteEndElement();
        ValueDone();
    }

    public override void StartMap(int count = -1)
    {
        StartElement(NextTarget(false));
        _frames.Add(new Frame { IsMap = true });
    }

    public override void EndMap()
    {
        var f = Top ?? throw Error("EndMap without a map");
        if (f.HasKey) throw Error($"the map ended after the key '{f.Key}' without its value");
        _frames.RemoveAt(_frames.Count - 1);
        // An element with no attributes and no children would read back as an empty string.
        if (!f.Content && !f.DataAttributes) _w.WriteAttributeString(Prefix, TypeAttr, Namespace, "map");
        _w.WriteEndElement();
        ValueDone();
    }

    public override void WriteAlias(string anchor)
    {
        if (Top is { IsMap: true, HasKey: false }) throw Error("a map key cannot be a reference");
        PendingTag = null; PendingAnchor = null;
        StartElement(NextTarget(false));
        _w.WriteAttributeString(RefAttr, anchor);
        _w.WriteEndElement();
        ValueDone();
    }

    public override void Finish()
    {
        if (_frames.Count > 0) throw Error("the input ended inside a value");
        if (_values > 0) _w.WriteEndDocument();
        _w.Flush();
    }

    public override void Dispose()
    {
        _w.Dispose();
        base.Dispose();
    }
}
