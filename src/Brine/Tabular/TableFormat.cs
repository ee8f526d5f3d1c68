using Apache.Arrow;
using Brine.Formats;
using Brine.Model;

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

/// <summary>
/// Base of the tabular formats: implement <see cref="OpenTable"/> and <see cref="CreateTable"/>, and the token
/// reader (<see cref="TableTokenReader"/>: a list of row maps) and token writer (<see cref="RowsToTable"/>:
/// uniform records to batches, schema inferred or from <c>--schema</c>) come with it.
/// </summary>
public abstract class TableFormat : Format, ITableFormat
{
    public abstract TableReader OpenTable(Stream input, TableReadOptions options);
    public abstract TableWriter CreateTable(Stream output, Schema schema, TableWriteOptions options);

    /// <summary>Whether its reader applies <see cref="TableReadOptions.Where"/> itself, reading the filter's columns
    /// even when <see cref="TableReadOptions.Columns"/> leaves them out (so they need not be decoded for output).</summary>
    public virtual bool AppliesWhere => false;

    public override TokenReader CreateReader(Stream input, ReadOptions options) =>
        new TableTokenReader(TableQuery.Open(this, input, TableReadOptions.From(options)), Name);

    public override TokenWriter CreateWriter(Stream output, WriteOptions options)
    {
        var writeOptions = TableWriteOptions.From(options);
        var schema = options.SchemaPath is { } path ? AvroSchemaToArrow.Load(path) : null;
        return new RowsToTable(Name, s => CreateTable(output, s, writeOptions), schema)
        {
            InferRows = SettingInt(options.Settings, "infer_rows", 1000),
            BatchSize = SettingInt(options.Settings, "batch_size", 65_536),
        };
    }

    internal static int SettingInt(IReadOnlyDictionary<string, string> settings, string name, int fallback)
    {
        if (!settings.TryGetValue(name, out var v)) return fallback;
        return int.TryParse(v, out var n) && n > 0 ? n : throw new BrineUsageException($"setting {name}={v}: expected a positive whole number");
    }
}

/// <summary>Reads a table as record batches that share one schema.</summary>
public abstract class TableReader : IDisposable
{
    public abstract Schema Schema { get; }
    /// <summary>Rows in the file when the format records it (Parquet, Arrow), else null.</summary>
    public virtual long? RowCount => null;
    /// <summary>Whether this reader applies <see cref="TableReadOptions.Where"/> itself (else <see cref="TableQuery"/> filters its batches).</summary>
    public virtual bool FiltersRows => false;
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
    /// <summary>A filter expression (<c>language = 'fr' AND id &lt; 100</c>); readers that can push it down say so with <see cref="TableReader.FiltersRows"/>.</summary>
    public string? Where { get; init; }
    public int BatchSize { get; init; } = 65_536;
    /// <summary>A reader schema (Avro schema resolution) or an explicit schema (CSV types).</summary>
    public string? SchemaPath { get; init; }
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
    public string? Setting(string name) => Settings.TryGetValue(name, out var v) ? v : null;

    public static TableReadOptions From(ReadOptions o) => new() { SchemaPath = o.SchemaPath, Settings = o.Settings };
}

public sealed class TableWriteOptions
{
    /// <summary>Compression codec name (snappy, zstd, gzip, deflate, none); each format documents its default.</summary>
    public string? Compression { get; init; }
    /// <summary>A writer schema (an Avro schema file); formats whose schema is their columns' ignore it.</summary>
    public string? SchemaPath { get; init; }
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
    public string? Setting(string name) => Settings.TryGetValue(name, out var v) ? v : null;

    public static TableWriteOptions From(WriteOptions o) => new() { Compression = o.Setting("compression"), SchemaPath = o.SchemaPath, Settings = o.Settings };
}
