using System.Globalization;
using Brine.Model;

namespace Brine.Formats.MessagePack;

/// <summary>MessagePack (msgpack.org): a binary tree format; concatenated values are records.</summary>
public sealed class MessagePackFormat : Format
{
    /// <summary>The tag on bytes read from an extension type other than the timestamp: <c>msgpack.ext:N</c>.</summary>
    public const string ExtTagPrefix = "msgpack.ext:";

    public override string Name => "msgpack";
    public override string Title => "MessagePack";
    public override IReadOnlyList<string> Aliases { get; } = new[] { "messagepack" };
    public override IReadOnlyList<string> Extensions { get; } = new[] { ".msgpack", ".mpk" };
    public override IReadOnlyList<string> MediaTypes { get; } = new[] { "application/msgpack", "application/x-msgpack" };

    public override FormatCapabilities Capabilities { get; } = new()
    {
        Binary = true,
        References = ReferenceSupport.None,
        NativeTags = false,
        MultipleValues = true,
        Schema = "none",
        ReferencesText = "none",
        TypesText = "ext types (timestamp; others as tagged bytes)",
        BytesText = "native",
        Shape = "tree, records",
        Losses = "tags dropped (except msgpack.ext:N on bytes); integers beyond 64 bits refused; decimal → float when exact, else string; " +
                 "timestamp offset dropped (kept as UTC); date, time, uuid → strings; references expanded",
    };

    // After the strict binary signatures (Parquet, Avro …), before the text formats.
    public override int SniffPriority => 60;

    /// <summary>
    /// MessagePack has no signature. Accept a head that starts with an array or map header and decodes as
    /// MessagePack to its end (or is cut by the head's length), with valid UTF-8 strings.
    /// </summary>
    public override bool Sniff(ReadOnlySpan<byte> head) => MessagePackSniffer.Looks(head);

    public override TokenReader CreateReader(Stream input, ReadOptions options) => new MessagePackTokenReader(input, options);
    public override TokenWriter CreateWriter(Stream output, WriteOptions options) => new MessagePackTokenWriter(output, options);

    internal static bool TryParseExtTag(string tag, out sbyte code)
    {
        code = 0;
        return tag.StartsWith(ExtTagPrefix, StringComparison.Ordinal)
            && sbyte.TryParse(tag.AsSpan(ExtTagPrefix.Length), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out code);
    }
}

internal static class MessagePackSniffer
{
    public static bool Looks(ReadOnlySpan<byte> head)
    {
        if (head.IsEmpty) return false;
        byte first = head[0];
        bool container = first is >= 0x80 and <= 0x9f || first is >= 0xdc and <= 0xdf;
        if (!container) return false;
        using var r = new MessagePackTokenReader(new MemoryStream(head.ToArray(), false), new ReadOptions { MaxValueBytes = head.Length });
        try
        {
            int tokens = 0;
            while (r.Read() && ++tokens < 100_000) { }
            return true;
        }
        catch (BrineFormatException e)
        {
            // A head cut in the middle of a value is fine when the file may go on.
            return head.Length >= IO.PeekableInput.HeadSize && (e.Detail.StartsWith("truncated", StringComparison.Ordinal) || e.Detail.StartsWith("unexpected end", StringComparison.Ordinal) || e is BrineLimitException);
        }
    }
}
