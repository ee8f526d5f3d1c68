using System.Globalization;
using System.Numerics;
using System.Xml;
using Brine.Model;

namespace Brine.Formats.Xml;

/// <summary>
/// The mapping between XML and Brine's model, shared by the reader and the writer (docs/formats/xml.md).
/// Brine's own markers live in one namespace, declared on the root as <c>xmlns:b</c>, so they never
/// collide with a document's own <c>type</c> or <c>list</c> attributes.
/// </summary>
public static class XmlConventions
{
    public const string Namespace = "urn:brine:xml";
    public const string Prefix = "b";
    /// <summary>The root element's name when the top-level value has no tag that is an XML name.</summary>
    public const string RootName = "root";
    /// <summary>The element name of the items of a wrapped list (<c>b:type="list"</c>).</summary>
    public const string ItemName = "item";
    /// <summary>The key that holds text content of an element that also has children or attributes.</summary>
    public const string TextKey = "#text";
    /// <summary>Keys that start with this are attributes.</summary>
    public const char AttributePrefix = '@';

    // Brine's marker attributes (in Namespace).
    public const string TypeAttr = "type", NilAttr = "nil", ListAttr = "list", TagAttr = "tag";
    /// <summary>The element for a key that no XML name can carry (the empty key): <c>&lt;b:entry key=""&gt;</c>.</summary>
    public const string EntryElement = "entry", EntryKeyAttr = "key";
    // Reference attributes (no namespace, the common XML convention).
    public const string IdAttr = "id", RefAttr = "ref";

    /// <summary>A map key as an element name: XML-escaped with <see cref="XmlConvert.EncodeLocalName"/> (<c>my key</c> → <c>my_x0020_key</c>).</summary>
    public static string? KeyToElementName(string key) => key.Length == 0 ? null : XmlConvert.EncodeLocalName(key);

    public static string ElementNameToKey(string name) => XmlConvert.DecodeName(name);

    /// <summary>Whether <paramref name="s"/> can be an attribute or element name as is (no colon, no escaping).</summary>
    public static bool IsPlainName(string s)
    {
        if (s.Length == 0 || !XmlConvert.IsStartNCNameChar(s[0])) return false;
        foreach (var c in s) if (!XmlConvert.IsNCNameChar(c)) return false;
        // Escape sequences in a plain name would decode to something else.
        return XmlConvert.DecodeName(s) == s && !s.StartsWith("xmlns", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether every character can appear in XML 1.0 text.</summary>
    public static bool IsXmlText(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (XmlConvert.IsXmlChar(c)) continue;
            if (i + 1 < s.Length && XmlConvert.IsXmlSurrogatePair(s[i + 1], c)) { i++; continue; }
            return false;
        }
        return true;
    }

    public static string FormatFloat(double d) =>
        double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "INF" : double.IsNegativeInfinity(d) ? "-INF" : d.ToString("R", CultureInfo.InvariantCulture);

    public static bool TryParseFloat(string s, out double d)
    {
        switch (s.Trim())
        {
            case "NaN": d = double.NaN; return true;
            case "INF" or "+INF" or "Infinity": d = double.PositiveInfinity; return true;
            case "-INF" or "-Infinity": d = double.NegativeInfinity; return true;
        }
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d);
    }

    public static string FormatTime(TimeOnly t) => t.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture).TrimEnd('.');

    /// <summary>The <c>b:type</c> names of scalar kinds; String has none (untyped text reads as a string).</summary>
    public static string? TypeName(TokenKind kind) => kind switch
    {
        TokenKind.Bool => "bool",
        TokenKind.Int => "int",
        TokenKind.Float => "float",
        TokenKind.Decimal => "decimal",
        TokenKind.Bytes => "bytes",
        TokenKind.Timestamp => "timestamp",
        TokenKind.Date => "date",
        TokenKind.Time => "time",
        TokenKind.Uuid => "uuid",
        _ => null,
    };

    /// <summary>A string holding characters XML cannot carry (control characters, lone surrogates) is written as base64 with this type.</summary>
    public const string Base64StringType = "string-base64";

    public static BigInteger ParseInteger(string s) => BigInteger.Parse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
}
