using Brine.Model;

namespace Brine.Formats.Xml;

/// <summary>XML: one document a value, elements for entries, repeated siblings for lists, id/ref attributes for references.</summary>
public sealed class XmlFormat : Format
{
    public override string Name => "xml";
    public override string Title => "XML";
    public override IReadOnlyList<string> Extensions { get; } = new[] { ".xml" };
    public override IReadOnlyList<string> MediaTypes { get; } = new[] { "application/xml", "text/xml" };

    public override FormatCapabilities Capabilities { get; } = new()
    {
        Binary = false,
        References = ReferenceSupport.Convention,
        MultipleValues = false,
        Schema = "optional (XSD)",
        ReferencesText = "id/ref attributes",
        TypesText = "b:type / b:tag attributes; untyped text is a string",
        BytesText = "base64 (b:type=\"bytes\")",
        Shape = "tree",
        Losses = "one top-level value per document; map keys become strings; comments, processing instructions and namespace declarations are not kept; " +
                 "whitespace-only text between child elements is indentation; a foreign id attribute is read as an anchor (setting refs=off keeps it as @id)",
    };

    /// <summary>Lenient: optional BOM and whitespace, then <c>&lt;?xml</c> or an element start.</summary>
    public override bool Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) head = head[3..];
        int i = 0;
        while (i < head.Length && head[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') i++;
        head = head[i..];
        if (head.Length < 2 || head[0] != '<') return false;
        return head.StartsWith("<?xml"u8) || head.StartsWith("<!--"u8) || head.StartsWith("<!DOCTYPE"u8) || char.IsAsciiLetter((char)head[1]) || head[1] == '_';
    }

    public override int SniffPriority => 80;

    public override TokenReader CreateReader(Stream input, ReadOptions options) => new XmlTokenReader(input, options);
    public override TokenWriter CreateWriter(Stream output, WriteOptions options) => new XmlTokenWriter(output, options);
}
