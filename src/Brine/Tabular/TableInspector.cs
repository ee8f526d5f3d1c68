using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using Brine.Formats;
using Brine.Formats.Parquet;
using Brine.IO;
using Brine.Model;
using Brine.Tabular.Filtering;
using ParquetSharp;

namespace Brine.Tabular;

/// <summary>What <c>brine inspect</c> shows of a table file.</summary>
public sealed record TableDescription(string Format, Schema Schema, long Rows, long FileBytes, IReadOnlyList<RowGroupDescription> RowGroups, string? CreatedBy = null)
{
    /// <summary>The file header's entries worth showing (Avro: codec, sync marker, metadata), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Header { get; init; } = System.Array.Empty<KeyValuePair<string, string>>();
    /// <summary>The format's own schema text when it has one (Avro's writer schema, indented JSON).</summary>
    public string? NativeSchema { get; init; }
}

public sealed record RowGroupDescription(int Index, long Rows, long TotalBytes, long CompressedBytes, IReadOnlyList<ColumnChunkDescription> Columns);

public sealed record ColumnChunkDescription(string Path, string PhysicalType, string Compression, long CompressedBytes, long UncompressedBytes, string? Min, string? Max, long? Nulls);

/// <summary>Describes table files: schema, row count and, for Parquet, each row group with sizes, codecs and statistics.</summary>
public static class TableInspector
{
    public static TableDescription Describe(string path, string? format = null)
    {
        using var raw = File.OpenRead(path);
        var (input, head) = PeekableInput.Open(raw);
        var f = Conversion.Converter.ResolveInput(path, format, head);
        if (f is not ITableFormat table) throw new BrineUsageException($"{f.Title} is not a table format; inspect describes tables ({string.Join(", ", FormatRegistry.Default.All.Where(x => x is ITableFormat).Select(x => x.Name))})");
        if (f is ParquetFormat) return DescribeParquet(path, raw.Length);
        using var reader = table.OpenTable(input, new TableReadOptions());
        long rows = reader.RowCount ?? Count(reader);
        var description = new TableDescription(f.Name, reader.Schema, rows, raw.Length, System.Array.Empty<RowGroupDescription>());
        return f is Formats.Avro.AvroFormat ? WithAvroHeader(description, path) : description;
    }

    /// <summary>Avro's header: the codec, the sync marker, other metadata, and the writer schema as the file holds it.</summary>
    static TableDescription WithAvroHeader(TableDescription d, string path)
    {
        using var stream = File.OpenRead(path);
        var container = new Formats.Avro.AvroContainerReader(stream, 1 << 30);
        var header = new List<KeyValuePair<string, string>>
        {
            new("codec", container.Metadata.TryGetValue("avro.codec", out var c) ? System.Text.Encoding.UTF8.GetString(c) : "null"),
            new("sync marker", Convert.ToHexString(container.SyncMarker).ToLowerInvariant()),
        };
        foreach (var (key, value) in container.Metadata)
            if (key is not ("avro.codec" or "avro.schema")) header.Add(new(key, Truncate(System.Text.Encoding.UTF8.GetString(value))));
        string schema;
        try { schema = System.Text.Json.Nodes.JsonNode.Parse(container.SchemaJson)!.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }); }
        catch (System.Text.Json.JsonException) { schema = container.SchemaJson; }
        return d with { Header = header, NativeSchema = schema };
    }

    static long Count(TableReader r)
    {
        long n = 0;
        while (r.ReadNext() is { } b) using (b) n += b.Length;
        return n;
    }

    static TableDescription DescribeParquet(string path, long bytes)
    {
        using var reader = new ParquetTableReader(File.OpenRead(path), new TableReadOptions());
        using var file = new ParquetFileReader(path);
        var meta = file.FileMetaData;
        var groups = new List<RowGroupDescription>();
        for (int g = 0; g < meta.NumRowGroups; g++)
        {
            using var rg = file.RowGroup(g);
            var md = rg.MetaData;
            var cols = new List<ColumnChunkDescription>();
            long compressed = 0;
            for (int c = 0; c < md.NumColumns; c++)
            {
                using var chunk = md.GetColumnChunkMetaData(c);
                var descr = md.Schema.Column(c);
                var stats = ParquetTableReader.Statistics(md, c, md.NumRows);
                compressed += chunk.TotalCompressedSize;
                cols.Add(new ColumnChunkDescription(descr.Path.ToDotString(), descr.PhysicalType.ToString(), chunk.Compression.ToString().ToLowerInvariant(),
                    chunk.TotalCompressedSize, chunk.TotalUncompressedSize, Show(stats?.Min), Show(stats?.Max), stats?.NullCount));
            }
            groups.Add(new RowGroupDescription(g, md.NumRows, md.TotalByteSize, compressed, cols));
        }
        return new TableDescription("parquet", reader.Schema, meta.NumRows, bytes, groups, meta.CreatedBy);
    }

    static string? Show(object? v) => v switch
    {
        null => null,
        byte[] b => Truncate(System.Text.Encoding.UTF8.GetString(b)),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => Truncate(ColumnBuilder.ToText(v)),
    };

    static string Truncate(string s) => s.Length > 40 ? s[..37] + "..." : s;

    /// <summary>The schema as pyarrow prints it: <c>name: type</c> per line, <c>not null</c> where nulls are not allowed.</summary>
    public static string SchemaText(Schema schema)
    {
        var sb = new StringBuilder();
        foreach (var f in schema.FieldsList)
            sb.Append(f.Name).Append(": ").Append(TypeText(f.DataType, f)).Append(f.IsNullable ? "" : " not null").Append('\n');
        return sb.ToString();
    }

    public static string TypeText(IArrowType t, Field? field = null) => t switch
    {
        FixedSizeBinaryType { ByteWidth: 16 } when field is not null && ArrowCells.IsUuid(field) => "extension<arrow.uuid>",
        TimestampType ts => $"timestamp[{Unit(ts.Unit)}{(string.IsNullOrEmpty(ts.Timezone) ? "" : ", tz=" + ts.Timezone)}]",
        Date32Type => "date32[day]",
        Date64Type => "date64[ms]",
        Time32Type t32 => $"time32[{Unit(t32.Unit)}]",
        Time64Type t64 => $"time64[{Unit(t64.Unit)}]",
        Decimal128Type d => $"decimal128({d.Precision}, {d.Scale})",
        Decimal256Type d => $"decimal256({d.Precision}, {d.Scale})",
        FixedSizeBinaryType fb => $"fixed_size_binary[{fb.ByteWidth}]",
        DictionaryType d => $"dictionary<values={TypeText(d.ValueType)}, indices={TypeText(d.IndexType)}, ordered={(d.Ordered ? 1 : 0)}>",
        ListType l => $"list<{l.ValueField.Name}: {TypeText(l.ValueDataType, l.ValueField)}>",
        LargeListType l => $"large_list<{l.ValueField.Name}: {TypeText(l.ValueDataType, l.ValueField)}>",
        MapType m => $"map<{TypeText(m.KeyField.DataType)}, {TypeText(m.ValueField.DataType)}>",
        StructType s => "struct<" + string.Join(", ", s.Fields.Select(f => $"{f.Name}: {TypeText(f.DataType, f)}{(f.IsNullable ? "" : " not null")}")) + ">",
        StringType => "string",
        LargeStringType => "large_string",
        BinaryType => "binary",
        BooleanType => "bool",
        DoubleType => "double",
        FloatType => "float",
        HalfFloatType => "halffloat",
        NullType => "null",
        _ => t.Name.ToLowerInvariant(),
    };

    static string Unit(Apache.Arrow.Types.TimeUnit u) => u switch
    {
        Apache.Arrow.Types.TimeUnit.Second => "s",
        Apache.Arrow.Types.TimeUnit.Millisecond => "ms",
        Apache.Arrow.Types.TimeUnit.Microsecond => "us",
        _ => "ns",
    };

    /// <summary>The description as text for a terminal.</summary>
    public static string Render(TableDescription d)
    {
        var sb = new StringBuilder();
        sb.Append($"format: {d.Format}\nrows: {d.Rows:N0}\nsize: {d.FileBytes:N0} bytes\n");
        if (d.CreatedBy is not null) sb.Append($"created by: {d.CreatedBy}\n");
        foreach (var (key, value) in d.Header) sb.Append($"{key}: {value}\n");
        sb.Append("schema:\n");
        foreach (var line in SchemaText(d.Schema).Split('\n', StringSplitOptions.RemoveEmptyEntries)) sb.Append("  ").Append(line).Append('\n');
        if (d.NativeSchema is { } native)
        {
            sb.Append($"{d.Format} schema:\n");
            foreach (var line in native.Split('\n')) sb.Append("  ").Append(line.TrimEnd('\r')).Append('\n');
        }
        if (d.RowGroups.Count > 0) sb.Append($"row groups: {d.RowGroups.Count}\n");
        foreach (var g in d.RowGroups)
        {
            sb.Append($"  row group {g.Index}: {g.Rows:N0} rows, {g.CompressedBytes:N0} bytes compressed ({g.TotalBytes:N0} uncompressed)\n");
            foreach (var c in g.Columns)
            {
                sb.Append($"    {c.Path}: {c.PhysicalType.ToLowerInvariant()}, {c.Compression}, {c.CompressedBytes:N0} / {c.UncompressedBytes:N0} bytes");
                if (c.Min is not null || c.Max is not null) sb.Append($", min {c.Min}, max {c.Max}");
                if (c.Nulls is { } n) sb.Append($", nulls {n:N0}");
                sb.Append('\n');
            }
        }
        return sb.ToString();
    }
}
