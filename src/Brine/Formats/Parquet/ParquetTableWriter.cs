using Apache.Arrow;
using Brine.Model;
using Brine.Tabular;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace Brine.Formats.Parquet;

/// <summary>
/// Writes record batches to Parquet with dictionary encoding and statistics on. Batches are buffered into
/// row groups of <c>row_group_size</c> rows (default 131 072: small enough for row-group skipping by
/// statistics, large enough for good compression; DuckDB uses 122 880).
/// </summary>
public sealed class ParquetTableWriter : TableWriter
{
    public const int DefaultRowGroupSize = 131_072;

    readonly FileWriter _writer;
    readonly Stream _output;
    bool _finished;

    public ParquetTableWriter(Stream output, Schema schema, TableWriteOptions options)
    {
        _output = output;
        var (codec, level) = Codec(options.Compression ?? options.Setting("compression"), options.Setting("level"));
        int rowGroup = TableFormat.SettingInt(options.Settings, "row_group_size", DefaultRowGroupSize);
        using var wb = new WriterPropertiesBuilder()
            .Compression(codec)
            .MaxRowGroupLength(rowGroup)
            .EnableDictionary()
            .EnableStatistics()
            .CreatedBy("Brine");
        if (level is { } l) wb.CompressionLevel(l);
        using var writerProps = wb.Build();
        using var ab = new ArrowWriterPropertiesBuilder().StoreSchema();
        using var arrowProps = ab.Build();
        try { _writer = new FileWriter(output, schema, writerProps, arrowProps, leaveOpen: true); }
        catch (ParquetException e) { throw new BrineFormatException("parquet", "", "cannot write this schema: " + e.Message, e); }
    }

    /// <summary>The codec and level for a setting. Levels are chosen, not left to the library, because its
    /// defaults can be pathologically slow: zstd 3 and gzip 6 are the common speed/size balance.</summary>
    static (Compression, int?) Codec(string? name, string? level)
    {
        int? explicitLevel = level is null ? null : int.TryParse(level, out var n) ? n : throw new BrineUsageException($"setting level={level}: expected a whole number");
        return (name?.ToLowerInvariant()) switch
        {
            null or "snappy" => (Compression.Snappy, null),
            "zstd" or "zstandard" => (Compression.Zstd, explicitLevel ?? 3),
            "gzip" => (Compression.Gzip, explicitLevel ?? 6),
            "none" or "uncompressed" => (Compression.Uncompressed, null),
            "brotli" => (Compression.Brotli, explicitLevel ?? 4),
            _ => throw new BrineUsageException($"Parquet compression '{name}' is not one of snappy, zstd, gzip, brotli, none (Brine writes no LZ4: DuckDB and others cannot read the legacy variants)"),
        };
    }

    public override void Write(RecordBatch batch)
    {
        if (batch.Length == 0) return;
        try { _writer.WriteBufferedRecordBatch(batch); }
        catch (ParquetException e) { throw new BrineFormatException("parquet", "", e.Message, e); }
    }

    public override void Finish()
    {
        if (_finished) return;
        _finished = true;
        _writer.Close();
        _output.Flush();
    }

    public override void Dispose()
    {
        _writer.Dispose();
        base.Dispose();
    }
}
