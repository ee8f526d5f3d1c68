using System.Buffers.Binary;
using Brine.Model;

namespace Brine.Formats.Bson;

/// <summary>BSON: MongoDB's binary documents; a file of concatenated documents (mongodump) is a stream of records.</summary>
public sealed class BsonFormat : Format
{
    public override string Name => "bson";
    public override string Title => "BSON";
    public override IReadOnlyList<string> Extensions { get; } = new[] { ".bson" };
    public override IReadOnlyList<string> MediaTypes { get; } = new[] { "application/bson" };

    public override FormatCapabilities Capabilities { get; } = new()
    {
        Binary = true,
        References = ReferenceSupport.None,
        MultipleValues = true,
        Schema = "none",
        ReferencesText = "none",
        TypesText = "extended types (ObjectId, regex, Decimal128 …) as bson.* tags",
        BytesText = "native (binary subtypes)",
        Shape = "documents (records)",
        Losses = "top level must be maps (a top-level list becomes one document per item); timestamps keep milliseconds and no offset; " +
                 "dates become midnight UTC datetimes, times become strings; integers beyond 64 bits and decimals beyond 34 digits are refused; " +
                 "tags other than BSON's own (set, tuple, class names) are dropped; non-string keys become strings",
    };

    /// <summary>Strict: a plausible little-endian length, a known first element type, and the terminator where the length says.</summary>
    public override bool Sniff(ReadOnlySpan<byte> head)
    {
        if (head.Length < 5) return false;
        int size = BinaryPrimitives.ReadInt32LittleEndian(head);
        if (size < 5) return false;
        if (size <= head.Length)
        {
            if (head[size - 1] != 0) return false;
            if (size == 5) return head.Length == 5 || head.Length >= size + 5;
        }
        else if (head.Length < Brine.IO.PeekableInput.HeadSize) return false; // the whole file is shorter than it claims
        if (!IsElementType(head[4])) return false;
        // The first field name is a NUL-terminated string right after the type byte.
        int nul = head[5..Math.Min(head.Length, size)].IndexOf((byte)0);
        return nul >= 0;
    }

    static bool IsElementType(byte b) => b is >= 0x01 and <= 0x13 or 0x7F or 0xFF;

    public override int SniffPriority => 20;

    public override TokenReader CreateReader(Stream input, ReadOptions options) => new BsonTokenReader(input, options);
    public override TokenWriter CreateWriter(Stream output, WriteOptions options) => new BsonTokenWriter(output);
}
