using Apache.Arrow;
using Brine.Tabular.Filtering;
using Brine.Model;
using ParquetSharp;

namespace Brine.Formats.Parquet;

/// <summary>
/// The filtered read of flat columns: per chunk of a row group, the filter's columns are decoded first and the
/// filter evaluated on them (<see cref="BoundFilter.Select"/>, the same code as the general path); then only
/// the kept rows of the other projected columns are copied out of the pages (<see cref="ParquetLeafDecoder"/>),
/// and their pages after the last kept row, or of chunks with no kept row, are skipped undecoded.
/// Row groups are decoded on up to two threads, each with its own file reader, and returned in file order.
/// </summary>
sealed class ParquetSelectiveScan : IDisposable
{
    /// <summary>A column to decode: its field (type as the Arrow reader gives it) and leaf column index.</summary>
    internal sealed record Column(Field Field, int Leaf);

    readonly Schema _schema;          // output
    readonly Schema _filterSchema;    // the filter's columns
    readonly Column[] _filterColumns;
    readonly Column[] _outputColumns;
    readonly int[] _outputFromFilter; // per output column: its index among the filter columns, or -1
    readonly BoundFilter _filter;
    readonly int[] _groups;
    readonly int _batchSize;
    readonly System.Collections.Concurrent.ConcurrentBag<ParquetFileReader> _readers = new();
    readonly List<IDisposable> _owned = new();
    readonly Queue<Task<List<RecordBatch>>> _pending = new();
    readonly int _workers;
    int _next;
    List<RecordBatch>? _current;
    int _currentIndex;

    internal ParquetSelectiveScan(ParquetFileReader first, string? path, Func<Stream>? reopen, Schema schema, IReadOnlyList<Column> filterColumns,
        IReadOnlyList<Column> outputColumns, BoundFilter filter, int[] groups, int batchSize)
    {
        _schema = schema;
        _filterColumns = filterColumns.ToArray();
        _filterSchema = new Schema(_filterColumns.Select(c => c.Field), null);
        _outputColumns = outputColumns.ToArray();
        _outputFromFilter = _outputColumns.Select(o => System.Array.FindIndex(_filterColumns, f => f.Leaf == o.Leaf)).ToArray();
        _filter = filter;
        _groups = groups;
        _batchSize = batchSize;
        _workers = reopen is not null && groups.Length > 1 && Environment.ProcessorCount > 1 ? 2 : 1;
        if (path is not null)
        {
            // A file is read by native readers (no copies through a managed stream), one per thread: ParquetSharp readers are not shared across threads.
            for (int i = 0; i < _workers; i++)
            {
                var reader = new ParquetFileReader(path);
                _owned.Add(reader);
                _readers.Add(reader);
            }
            return;
        }
        _readers.Add(first);
        if (_workers > 1)
        {
            var stream = reopen!();
            _owned.Add(stream);
            var reader = new ParquetFileReader(stream, leaveOpen: true);
            _owned.Add(reader);
            _readers.Add(reader);
        }
    }

    public RecordBatch? ReadNext()
    {
        while (true)
        {
            if (_current is not null && _currentIndex < _current.Count)
            {
                var b = _current[_currentIndex];
                _current[_currentIndex++] = null!;
                return b;
            }
            Fill();
            if (_pending.Count == 0) return null;
            // Wait before refilling: a reader is free again only once its row group is done.
            _current = _pending.Dequeue().GetAwaiter().GetResult();
            Fill();
            _currentIndex = 0;
        }
    }

    void Fill()
    {
        while (_pending.Count < _workers && _next < _groups.Length)
        {
            int g = _groups[_next++];
            _pending.Enqueue(Task.Run(() =>
            {
                if (!_readers.TryTake(out var reader)) throw new InvalidOperationException("no free Parquet reader");
                try { return ReadGroup(reader, g); }
                finally { _readers.Add(reader); }
            }));
        }
    }

    List<RecordBatch> ReadGroup(ParquetFileReader file, int g)
    {
        var batches = new List<RecordBatch>();
        using var rg = file.RowGroup(g);
        long rows = rg.MetaData.NumRows;
        var decoders = new Dictionary<int, ParquetLeafDecoder>();
        ParquetLeafDecoder Decoder(Column c)
        {
            if (!decoders.TryGetValue(c.Leaf, out var d)) decoders[c.Leaf] = d = ParquetLeafDecoder.Create(rg.Column(c.Leaf), c.Field.DataType);
            return d;
        }
        try
        {
            var filterArrays = new IArrowArray[_filterColumns.Length];
            for (long start = 0; start < rows; start += _batchSize)
            {
                int n = (int)Math.Min(_batchSize, rows - start);
                for (int i = 0; i < filterArrays.Length; i++) filterArrays[i] = Decoder(_filterColumns[i]).Read(n, null, scratch: true);
                var kept = _filter.SelectRows(new RecordBatch(_filterSchema, filterArrays, n));
                if (kept.Length > 0)
                {
                    int[]? selected = kept.Length < n ? kept : null;
                    var arrays = new IArrowArray[_outputColumns.Length];
                    for (int c = 0; c < arrays.Length; c++)
                    {
                        int f = _outputFromFilter[c];
                        // The filter's arrays share their decoders' buffers: kept rows are copied out.
                        if (f >= 0) arrays[c] = BatchSelection.Take(filterArrays[f], kept);
                        else
                        {
                            var d = Decoder(_outputColumns[c]);
                            d.SkipTo(start);
                            arrays[c] = d.Read(n, selected);
                        }
                    }
                    batches.Add(new RecordBatch(_schema, arrays, kept.Length));
                }
            }
        }
        catch (Exception e) when (e is ParquetException || e.GetType() == typeof(Exception))
        {
            foreach (var b in batches) b.Dispose();
            throw new BrineFormatException("parquet", $"row group {g}", e.Message.Split('\n')[0].Trim(), e);
        }
        catch
        {
            foreach (var b in batches) b.Dispose();
            throw;
        }
        finally
        {
            foreach (var d in decoders.Values) d.Dispose();
        }
        return batches;
    }

    public void Dispose()
    {
        while (_pending.Count > 0)
        {
            try { foreach (var b in _pending.Dequeue().GetAwaiter().GetResult()) b.Dispose(); }
            catch (Exception) { }
        }
        if (_current is not null) for (int i = _currentIndex; i < _current.Count; i++) _current[i]?.Dispose();
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
    }
}
