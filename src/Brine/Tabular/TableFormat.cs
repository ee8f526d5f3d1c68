using Apache.Arrow;

namespace Brine.Tabular;

/// <summary>
/// A format that stores tables. Besides its token reader (a list of row maps), it reads and writes Apache
/// Arrow record batches, so table-to-table conversions move columns, not tokens.
/// </summary>
public interface ITableFormat
{
    TableReader OpenTable(Stream input, TableReadOptions options);
    TableWriter CreateTable(Stream output, Schema schema, TableWriteOptions options);
}

/// <summary>Reads a table as record batches that share one schema.</summary>
public abstract class TableReader : IDisposable
{
    public abstract Schema Schema { get; }
    /// <summary>Rows in the file when the format records it (Parquet, Arrow), else null.</summary>
    public virtual long? RowCount => null;
    /// <summary>The next batch, or null at the end.</summary>
    public abstract RecordBatch? ReadNext();
    public virtual void Dispose() { GC.SuppressFinalize(this); }
}

/// <summary>Writes record batches to a table file. <see cref="Finish"/> writes footers; dispose without it leaves the output incomplete.</summary>
public abstract class TableWriter : IDisposable
{
    public abstract void Write(RecordBatch batch);
    public abstract void Finish();
    public virtual void Dispose() { GC.SuppressFinalize(this); }
}

public sealed class TableReadOptions
{
    /// <summary>Columns to read (projection), in this order; null reads all.</summary>
    public IReadOnlyList<string>? Columns { get; init; }
    public int BatchSize { get; init; } = 65_536;
    /// <summary>A reader schema (Avro schema resolution) or an explicit schema (CSV types).</summary>
    public string? SchemaPath { get; init; }
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
    public string? Setting(string name) => Settings.TryGetValue(name, out var v) ? v : null;
}

public sealed class TableWriteOptions
{
    /// <summary>Compression codec name (snappy, zstd, gzip, deflate, none); each format documents its default.</summary>
    public string? Compression { get; init; }
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
    public string? Setting(string name) => Settings.TryGetValue(name, out var v) ? v : null;
}
