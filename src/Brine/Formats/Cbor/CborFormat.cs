using Brine.Formats.MessagePack;
using Brine.Model;

namespace Brine.Formats.Cbor;

/// <summary>CBOR (RFC 8949): a binary tree format with numeric tags; concatenated items are records.</summary>
public sealed class CborFormat : Format
{
    /// <summary>The tag text for a CBOR tag Brine has no meaning for: <c>cbor:N</c> (several are joined by spaces, outermost first).</summary>
    public const string TagPrefix = "cbor:";
    /// <summary>The tag on the Null read from CBOR's <c>undefined</c>.</summary>
    public const string UndefinedTag = "cbor:undefined";
    /// <summary>The tag on the Int read from a CBOR simple value other than false, true, null and undefined.</summary>
    public const string SimpleTag = "cbor:simple";
    public const ulong SetTag = 258, UuidTag = 37, FullDateTag = 1004, SelfDescribeTag = 55799;

    public override string Name => "cbor";
    public override string Title => "CBOR";
    public override IReadOnlyList<string> Extensions { get; } = new[] { ".cbor" };
    public override IReadOnlyList<string> MediaTypes { get; } = new[] { "application/cbor" };

    public override FormatCapabilities Capabilities { get; } = new()
    {
        Binary = true,
        References = ReferenceSupport.Native,
        NativeTags = false,
        MultipleValues = true,
        Schema = "none",
        ReferencesText = "tags 28/29 (shareable / shared ref)",
        TypesText = "tags: bignum, decimal fraction, date-time, UUID, date, set; others as cbor:N",
        BytesText = "native",
        Shape = "tree, records",
        Losses = "tags other than set and cbor:N dropped (CBOR tags are numbers); time of day → string; " +
                 "timestamps outside years 1–9999 → epoch seconds (float when fractional)",
    };

    // After MessagePack: a CBOR array head (0x80–0x9f) is also a MessagePack map or array head, and CBOR has
    // the self-describe tag for files that want to be recognised.
    public override int SniffPriority => 61;

    /// <summary>The self-describe tag 55799 (d9 d9 f7), or a head that starts with an array, map or tag and decodes as CBOR.</summary>
    public override bool Sniff(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 3 && head[0] == 0xd9 && head[1] == 0xd9 && head[2] == 0xf7) return true;
        if (head.IsEmpty || head[0] < 0x80 || head[0] > 0xdb) return false;
        using var r = new CborTokenReader(new MemoryStream(head.ToArray(), false), new ReadOptions { MaxValueBytes = head.Length });
        try
        {
            int tokens = 0;
            while (r.Read() && ++tokens < 100_000) { }
            return true;
        }
        catch (BrineFormatException e)
        {
            return head.Length >= IO.PeekableInput.HeadSize && (e.Detail.StartsWith("truncated", StringComparison.Ordinal) || e.Detail.StartsWith("unexpected end", StringComparison.Ordinal) || e is BrineLimitException);
        }
    }

    public override TokenReader CreateReader(Stream input, ReadOptions options) => new CborTokenReader(input, options);
    public override TokenWriter CreateWriter(Stream output, WriteOptions options) => new CborTokenWriter(output, options);
}
