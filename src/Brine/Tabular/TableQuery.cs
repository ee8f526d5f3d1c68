using Apache.Arrow;
using Brine.Model;
using Brine.Tabular.Filtering;

namespace Brine.Tabular;

/// <summary>
/// Opens a table with a filter (<c>--where</c>) and a projection (<c>--select</c>): the format's reader gets
/// both (Parquet pushes them down: row groups skipped by statistics, columns not read); whatever the reader
/// does not apply itself is applied here on each batch.
/// </summary>
public static class TableQuery
{
    public static TableReader Open(ITableFormat format, Stream input, TableReadOptions options)
    {
        if (options.Where is null && options.Columns is null) return format.OpenTable(input, options);
        var where = options.Where is null ? null : FilterExpression.Parse(options.Where);
        // Unless it filters by itself, the reader must also return the columns the filter reads; they are dropped after filtering.
        var read = options.Columns is null || format is TableFormat { AppliesWhere: true } ? options.Columns
            : options.Columns.Concat(where?.Columns ?? System.Array.Empty<string>()).Distinct().ToList();
        var inner = format.OpenTable(input, new TableReadOptions
        {
            Columns = read, Where = options.Where, BatchSize = options.BatchSize, SchemaPath = options.SchemaPath, Settings = options.Settings,
        });
        try { return new FilteredTableReader(inner, where, options.Columns); }
        catch { inner.Dispose(); throw; }
    }

    /// <summary>The fields of <paramref name="schema"/> named in <paramref name="columns"/>, in that order; an unknown name is an error that lists the columns.</summary>
    public static Schema Project(Schema schema, IReadOnlyList<string> columns)
    {
        var b = new Schema.Builder();
        foreach (var c in columns)
        {
            var f = schema.FieldsList.FirstOrDefault(x => x.Name == c)
                ?? schema.FieldsList.FirstOrDefault(x => string.Equals(x.Name, c, StringComparison.OrdinalIgnoreCase))
                ?? throw new BrineUsageException($"--select: unknown column '{c}'; the columns are: {string.Join(", ", schema.FieldsList.Select(x => x.Name))}");
            b.Field(f);
        }
        return b.Build();
    }
}

/// <summary>Filters and projects the batches of another reader.</summary>
public sealed class FilteredTableReader : TableReader
{
    readonly TableReader _inner;
    readonly BoundFilter? _filter;
    readonly Schema _schema;
    readonly bool _project;

    public FilteredTableReader(TableReader inner, FilterExpression? where, IReadOnlyList<string>? columns)
    {
        _inner = inner;
        // A reader that filters by itself has checked the filter against its whole schema (its batches may lack the filter's columns).
        if (where is not null && !inner.FiltersRows) _filter = BoundFilter.Bind(where, inner.Schema);
        _schema = columns is null ? inner.Schema : TableQuery.Project(inner.Schema, columns);
        _project = columns is not null && !_schema.FieldsList.Select(f => f.Name).SequenceEqual(inner.Schema.FieldsList.Select(f => f.Name));
        Filtering = where is not null;
    }

    readonly bool Filtering;

    public TableReader Inner => _inner;
    public override Schema Schema => _schema;
    public override long? RowCount => Filtering ? null : _inner.RowCount;
    public override bool FiltersRows => Filtering;

    public override RecordBatch? ReadNext()
    {
        while (true)
        {
            var batch = _inner.ReadNext();
            if (batch is null) return null;
            if (_filter is not null && (batch = BatchSelection.Filter(batch, _filter)) is null) continue;
            return _project ? BatchSelection.Project(batch, _schema) : batch;
        }
    }

    public override void Dispose() { _inner.Dispose(); base.Dispose(); }
}

/// <summary>Moves record batches from a table reader to a table writer: table-to-table conversion without tokens.</summary>
public static class TablePump
{
    /// <summary>
    /// Copies every batch; returns the number of rows. Does not call <see cref="TableWriter.Finish"/>. The reader runs on
    /// a second thread, a couple of batches ahead, so that parsing (CSV, decompression) and encoding overlap on two cores.
    /// </summary>
    public static long Copy(TableReader reader, TableWriter writer, Action<long>? onRows = null)
    {
        using var ahead = new System.Collections.Concurrent.BlockingCollection<RecordBatch>(boundedCapacity: 2);
        using var stop = new CancellationTokenSource();
        var producer = Task.Run(() =>
        {
            try
            {
                while (reader.ReadNext() is { } batch)
                {
                    try { ahead.Add(batch, stop.Token); }
                    catch (OperationCanceledException) { batch.Dispose(); return; }
                }
            }
            finally { ahead.CompleteAdding(); }
        });
        long rows = 0;
        try
        {
            foreach (var batch in ahead.GetConsumingEnumerable())
            {
                using (batch) writer.Write(batch);
                rows += batch.Length;
                onRows?.Invoke(rows);
            }
        }
        catch
        {
            // The writer failed: stop the reader and drop what it read ahead.
            stop.Cancel();
            try { producer.Wait(); } catch (AggregateException) { }
            while (ahead.TryTake(out var left)) left.Dispose();
            throw;
        }
        // A reader error (bad input) surfaces here with its own type, not wrapped.
        try { producer.Wait(); } catch (AggregateException e) when (e.InnerExceptions.Count == 1) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException!).Throw(); }
        return rows;
    }
}
