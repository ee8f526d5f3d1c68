using Brine.Model;
using Brine.Tabular;
using AvroSchema = Avro.Schema;

namespace Brine.Formats.Avro;

/// <summary>
/// Avro object container files (<c>.avro</c>). Schemas are parsed by Apache.Avro (<c>Schema.Parse</c>); the binary
/// encoding, container blocks and schema resolution are Brine's own code, measured several times faster than
/// Apache.Avro's GenericDatumReader/Writer (docs/formats/avro.md). Settings: <c>compression</c> (or <c>codec</c>):
/// null, deflate (default), snappy, zstandard; <c>level</c>. A reader schema (<c>--schema</c>) resolves the data.
/// </summary>
public sealed class AvroFormat : Format, ITableFormat
{
    public override string Name => "avro";
    public override string Title => "Apache Avro container file";
    public override IReadOnlyList<string> Extensions { get; } = new[] { ".avro" };
    public override IReadOnlyList<string> MediaTypes { get; } = new[] { "application/avro", "avro/binary", "application/vnd.apache.avro+binary" };

    public override FormatCapabilities Capabilities { get; } = new()
    {
        Binary = true,
        References = ReferenceSupport.None,
        Schema = "required (in the file; inferred on write, or --schema)",
        ReferencesText = "none",
        TypesText = "named types (records, enums, fixed), logical types",
        BytesText = "native",
        Shape = "rows",
        Losses = "tags (record names are the schema's), shared references (expanded), map keys must be strings, big integers beyond 64 bits",
    };

    public override bool Sniff(ReadOnlySpan<byte> head) => head.StartsWith(AvroContainerReader.Magic);
    public override int SniffPriority => 10;

    /// <summary>The codec when none is named: deflate is in every Avro implementation (the spec requires it) and costs little at the fastest level.</summary>
    public const string DefaultCodec = "deflate";

    public override TokenReader CreateReader(Stream input, ReadOptions options) => new AvroTokenReader(input, options);
    public override TokenWriter CreateWriter(Stream output, WriteOptions options) => new AvroTokenWriter(output, options);

    public TableReader OpenTable(Stream input, TableReadOptions options) => new AvroTableReader(input, options);
    public TableWriter CreateTable(Stream output, Apache.Arrow.Schema schema, TableWriteOptions options) => new AvroTableWriter(output, schema, options);

    internal static AvroCodec CodecFromSettings(string? name, string? level)
    {
        int? lv = level is null ? null : int.TryParse(level, out var l) ? l : throw new BrineUsageException($"avro: level must be an integer, not '{level}'");
        return AvroCodec.Find(name ?? DefaultCodec, lv)
            ?? throw new BrineUsageException($"avro: unknown codec '{name}' (use null, deflate, snappy or zstandard)");
    }

    internal static AvroSchema? LoadReaderSchema(string? path) => path is null ? null : LoadSchemaFile(path);

    /// <summary>Parses an Avro schema file (.avsc, JSON) with Apache.Avro.</summary>
    public static AvroSchema LoadSchemaFile(string path)
    {
        if (!File.Exists(path)) throw new BrineUsageException($"schema file not found: {path}");
        return ParseSchema(File.ReadAllText(path), path);
    }

    public static AvroSchema ParseSchema(string json, string where = "schema")
    {
        try { return AvroSchema.Parse(json); }
        catch (Exception e) when (e is not OutOfMemoryException) // Apache.Avro's parser throws many exception types on bad JSON
        { throw new BrineFormatException("avro", where, "the Avro schema does not parse: " + e.Message); }
    }
}
