using Apache.Arrow;
using Brine.Tabular.Filtering;
using Brine.Model;
using ParquetSharp;

namespace Brine.Formats.Parquet;

/// <summary>
/// The filtered read of flat columns: per batch of rows of a row group, the filter's columns are decoded first and
/// the filter evaluated on them (<see cref="BoundFilter.SelectRows"/>, the same code as the general path; for a
/// filter on one column that is not returned, once per distinct value); then only the kept rows of the projected
/// columns are copied out of the pages (<see cref="ParquetLeafDecoder"/>), and their pages after the last kept row,
/// or of batches with no kept row, are skipped undecoded.
/// The work comes in parts of at most two batches of rows of one row group (with the default batch size, row groups
/// of DuckDB, 122 880 rows, and of Brine, 131 072, are one part each; larger ones are split), decoded on two threads (the
/// caller's and a helper), each with its own file reader, and returned in file order; at most two parts' results
/// are held, whatever the row groups' size.
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
    readonly (int Group, long Start, long End)[] _parts;
    readonly int _batchSize;
    readonly bool _byDistinctValues;
    readonly ParquetFileReader _reader;        // the consumer's
    readonly ParquetFileReader? _helperReader; // the helper thread's, when there is one
    readonly List<IDisposable> _owned = new();
    Task<List<RecordBatch>>? _helper;
    int _helperIndex = -1;
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
        _batchSize = batchSize;
        // A filter on one column that is not returned is decided per distinct value of that column.
        _byDistinctValues = _filterColumns.Length == 1 && _outputFromFilter.All(f => f < 0);
        // A file is read by native readers (no copies through a managed stream); each thread has its own, as
        // ParquetSharp readers are not shared across threads.
        _reader = path is not null ? Own(new ParquetFileReader(path)) : first;
        long partRows = 2L * batchSize;
        var parts = new List<(int, long, long)>();
        foreach (int g in groups)
        {
            using var rg = _reader.RowGroup(g);
            long rows = rg.MetaData.NumRows;
            for (long start = 0; start < rows; start += partRows) parts.Add((g, start, Math.Min(rows, start + partRows)));
        }
        _parts = parts.ToArray();
        bool helper = (path is not null || reopen is not null) && _parts.Length > 1 && Environment.ProcessorCount > 1;
        if (helper) _helperReader = path is not null ? Own(new ParquetFileReader(path)) : Own(new ParquetFileReader(Own(reopen!()), leaveOpen: true));
    }

    T Own<T>(T d) where T : IDisposable { _owned.Add(d); return d; }

    /// <summary>
    /// The caller's thread decodes every other part itself while a helper task decodes the next one, so
    /// that neither thread waits idle for the other (a pool of tasks with a waiting consumer spent more CPU time).
    /// </summary>
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
            if (_next >= _parts.Length) return null;
            int j = _next++;
            _currentIndex = 0;
            if (_helper is not null && _helperIndex == j)
            {
                var done = _helper;
                _helper = null;
                _current = done.GetAwaiter().GetResult();
                StartHelper(j + 2);
            }
            else
            {
                StartHelper(j + 1);
                _current = ReadPart(_reader, _parts[j]);
            }
        }
    }

    void StartHelper(int index)
    {
        if (_helper is not null || _helperReader is null || index >= _parts.Length) return;
        var part = _parts[index];
        _helperIndex = index;
        _helper = Task.Run(() => ReadPart(_helperReader, part));
    }

    List<RecordBatch> ReadPart(ParquetFileReader file, (int Group, long Start, long End) part)
    {
        var batches = new List<RecordBatch>();
        int g = part.Group;
        using var rg = file.RowGroup(g);
        var decoders = new Dictionary<int, ParquetLeafDecoder>();
        ParquetLeafDecoder Decoder(Column c)
        {
            if (!decoders.TryGetValue(c.Leaf, out var d)) decoders[c.Leaf] = d = ParquetLeafDecoder.Create(rg.Column(c.Leaf), c.Field.DataType);
            return d;
        }
        try
        {
            var filterArrays = new IArrowArray[_filterColumns.Length];
            for (long start = part.Start; start < part.End; start += _batchSize)
            {
                int n = (int)Math.Min(_batchSize, part.End - start);
                int[]? kept = null;
                if (_byDistinctValues)
                {
                    var d = Decoder(_filterColumns[0]);
                    d.SkipTo(start);
                    kept = d.SelectRows(n, values => _filter.SelectRows(new RecordBatch(_filterSchema, new[] { values }, values.Length)));
                }
                if (kept is null)
                {
                    for (int i = 0; i < filterArrays.Length; i++)
                    {
                        var d = Decoder(_filterColumns[i]);
                        d.SkipTo(start);
                        filterArrays[i] = d.Read(n, null, scratch: true);
                    }
                    kept = _filter.SelectRows(new RecordBatch(_filterSchema, filterArrays, n));
                }
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
        if (_helper is not null)
        {
            try { foreach (var b in _helper.GetAwaiter().GetResult()) b.Dispose(); }
            catch (Exception) { } // its error no longer matters
            _helper = null;
        }
        if (_current is not null) for (int i = _currentIndex; i < _current.Count; i++) _current[i]?.Dispose();
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
    }
}
