using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Brine.Model;
using Brine.Tabular;
using Brine.Tabular.Filtering;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace Brine.Formats.Parquet;

/// <summary>
/// Reads Parquet as record batches with ParquetSharp.Arrow. Projection reads only the leaf columns of the
/// selected fields; a filter skips row groups whose statistics show no row can match (counted in
/// <see cref="RowGroupsRead"/>/<see cref="RowGroupsSkipped"/>), then decides which rows of the others are decoded
/// (<see cref="ParquetSelectiveScan"/>, for flat columns of plain types) or is applied exactly to each batch.
/// </summary>
public sealed class ParquetTableReader : TableReader
{
    readonly FileReader _file;
    readonly Stream? _ownedStream;
    readonly IArrowArrayStream? _batches;
    readonly ParquetSelectiveScan? _scan;
    readonly Schema _schema;      // what ReadNext returns
    readonly Schema _readSchema;  // what the native reader returns (schema order, projection plus filter columns)
    readonly BoundFilter? _filter;
    readonly long _rows;

    /// <summary>Row groups the reader reads (after skipping by statistics).</summary>
    public int RowGroupsRead { get; }
    public int RowGroupsSkipped { get; }
    public int RowGroupCount { get; }
    /// <summary>Whether the filtered read decodes only the kept rows (<see cref="ParquetSelectiveScan"/>) rather than whole batches.</summary>
    internal bool UsesSelectiveScan => _scan is not null;

    public ParquetTableReader(Stream input, TableReadOptions options)
    {
        var stream = Seekable(input, out _ownedStream);
        bool atStart = stream.Position == 0;
        CheckFraming(stream);
        try
        {
            using var readerProps = ReaderProperties.GetDefaultReaderProperties();
            using var arrowProps = ArrowReaderProperties.GetDefault();
            arrowProps.BatchSize = options.BatchSize;
            // Pre-buffering reads row groups ahead through the managed stream: on 3 million users it doubled peak memory
            // (256 → 133 MB for Parquet → CSV) and made neither full nor filtered reads faster.
            arrowProps.PreBuffer = false;
            _file = new FileReader(stream, readerProps, arrowProps, leaveOpen: true);
            var full = _file.Schema;
            RowGroupCount = _file.NumRowGroups;
            var meta = _file.ParquetReader.FileMetaData;
            _rows = meta.NumRows;

            var where = options.Where is null ? null : FilterExpression.Parse(options.Where);
            if (where is not null) _filter = BoundFilter.Bind(where, full);
            _schema = options.Columns is { } cols ? TableQuery.Project(full, cols) : full;

            // Top-level fields to read: the projection plus what the filter needs, in file order.
            var wanted = new HashSet<string>(_schema.FieldsList.Select(f => f.Name));
            if (where is not null) foreach (var c in where.Columns) wanted.Add(BoundFilter.FieldOf(c, full).Name);
            var manifest = _file.SchemaManifest;
            var leaves = new List<int>();
            var readFields = new List<Field>();
            for (int i = 0; i < full.FieldsList.Count; i++)
            {
                if (!wanted.Contains(full.FieldsList[i].Name)) continue;
                readFields.Add(full.FieldsList[i]);
                CollectLeaves(manifest.SchemaFields[i], leaves);
            }
            _readSchema = new Schema(readFields, full.Metadata);

            var groups = new List<int>();
            for (int g = 0; g < RowGroupCount; g++)
                if (_filter is null || RowGroupMightMatch(g, full, manifest)) groups.Add(g);
            RowGroupsRead = groups.Count;
            RowGroupsSkipped = RowGroupCount - groups.Count;
            if (groups.Count > 0 && where is not null && options.Setting("scan") != "arrow")
                _scan = SelectiveScan(stream, atStart, full, manifest, where, groups.ToArray(), options.BatchSize);
            if (groups.Count > 0 && _scan is null)
                _batches = _file.GetRecordBatchReader(groups.ToArray(), options.Columns is null && where is null ? null : leaves.ToArray());
        }
        catch (Exception e) when (e is ParquetException or OutOfMemoryException || e.GetType() == typeof(Exception))
        {
            _file?.Dispose();
            throw new BrineFormatException("parquet", "", Clean(e.Message), e);
        }
    }

    /// <summary>
    /// The filtered read that decodes only the kept rows of the projected columns, when every column it reads
    /// is a flat column of a supported type; else null (the Arrow reader then reads whole batches and filters them).
    /// </summary>
    ParquetSelectiveScan? SelectiveScan(Stream stream, bool atStart, Schema full, SchemaManifest manifest, FilterExpression where, int[] groups, int batchSize)
    {
        var schema = _file.ParquetReader.FileMetaData.Schema;
        ParquetSelectiveScan.Column? Flat(Field f)
        {
            var sf = manifest.SchemaFields[full.GetFieldIndex(f.Name)];
            if (sf.ColumnIndex < 0 || sf.Children.Count > 0) return null;
            return ParquetLeafDecoder.Supports(f.DataType, schema.Column(sf.ColumnIndex)) ? new ParquetSelectiveScan.Column(f, sf.ColumnIndex) : null;
        }
        var filterColumns = new List<ParquetSelectiveScan.Column>();
        foreach (var name in where.Columns.Select(c => BoundFilter.FieldOf(c, full).Name).Distinct())
        {
            if (Flat(full.FieldsList[full.GetFieldIndex(name)]) is not { } c) return null;
            filterColumns.Add(c);
        }
        var outputColumns = new List<ParquetSelectiveScan.Column>();
        foreach (var f in _schema.FieldsList)
        {
            if (Flat(f) is not { } c) return null;
            outputColumns.Add(c);
        }
        // A file is opened again by the scan's own native readers; a memory stream gets a second view of its bytes,
        // so that row groups decode on two threads. Other streams are read by the caller's thread only.
        var path = atStart && stream is FileStream file && File.Exists(file.Name) ? file.Name : null;
        Func<Stream>? reopen = atStart && stream is MemoryStream ms && ms.TryGetBuffer(out var seg)
            ? () => new MemoryStream(seg.Array!, seg.Offset, seg.Count, writable: false) : null;
        return new ParquetSelectiveScan(_file.ParquetReader, path, reopen, _schema, filterColumns, outputColumns, _filter!, groups, batchSize);
    }

    /// <summary>The library's message without the native exception's type name.</summary>
    static string Clean(string m)
    {
        m = m.Split('\n')[0].Trim();
        int i = m.IndexOf("(message: '", StringComparison.Ordinal);
        if (i >= 0) m = m[(i + 11)..].TrimEnd(')', '\'');
        return m;
    }

    static void CollectLeaves(SchemaField f, List<int> leaves)
    {
        // Explicit stack: nested schemas are walked without recursion.
        var stack = new Stack<SchemaField>();
        stack.Push(f);
        var found = new List<int>();
        while (stack.Count > 0)
        {
            var s = stack.Pop();
            if (s.ColumnIndex >= 0) found.Add(s.ColumnIndex);
            foreach (var child in s.Children) stack.Push(child);
        }
        found.Sort();
        leaves.AddRange(found);
    }

    /// <summary>Parquet needs random access: a non-seekable input (standard input) is copied to memory first.</summary>
    static Stream Seekable(Stream input, out Stream? owned)
    {
        owned = null;
        if (input.CanSeek) return input;
        var ms = new MemoryStream();
        input.CopyTo(ms);
        ms.Position = 0;
        owned = ms;
        return ms;
    }

    /// <summary>Checks the magic at both ends first, so that truncated files get a clear message with the byte count.</summary>
    static void CheckFraming(Stream s)
    {
        long start = s.Position, len = s.Length - start;
        Span<byte> head = stackalloc byte[4], tail = stackalloc byte[4];
        if (len < 12) throw new BrineFormatException("parquet", $"byte {len}", $"the file is {len} bytes, too short for Parquet (magic, footer, magic)");
        s.ReadExactly(head);
        s.Position = start + len - 4;
        s.ReadExactly(tail);
        s.Position = start;
        if (!head.SequenceEqual("PAR1"u8)) throw new BrineFormatException("parquet", "byte 0", "the file does not start with the Parquet magic PAR1");
        if (!tail.SequenceEqual("PAR1"u8)) throw new BrineFormatException("parquet", $"byte {len - 4}", $"the file ends without the Parquet footer magic PAR1 (truncated after {len} bytes?)");
    }

    bool RowGroupMightMatch(int g, Schema full, SchemaManifest manifest)
    {
        using var rg = _file.ParquetReader.RowGroup(g);
        var md = rg.MetaData;
        long rows = md.NumRows;
        return StatsPruning.MightMatch(_filter!.Expression, column =>
        {
            int i = full.GetFieldIndex(BoundFilter.FieldOf(column, full).Name);
            int leaf = manifest.SchemaFields[i].ColumnIndex;
            if (leaf < 0) return null; // nested: no statistics used
            return Statistics(md, leaf, rows);
        });
    }

    /// <summary>A column chunk's statistics as row values in the column's logical domain; null when unknown or not understood.</summary>
    internal static ColumnStatistics? Statistics(RowGroupMetaData md, int leaf, long rows)
    {
        using var chunk = md.GetColumnChunkMetaData(leaf);
        if (!chunk.IsStatsSet) return null;
        using var stats = chunk.Statistics;
        if (stats is null) return null;
        var descr = md.Schema.Column(leaf);
        using var logical = descr.LogicalType;
        object? min = null, max = null;
        bool isFloat = false;
        if (stats.HasMinMax)
        {
            switch (stats)
            {
                case Statistics<int> s when logical is DateLogicalType:
                    min = DateOnly.FromDayNumber(EpochDay + s.Min); max = DateOnly.FromDayNumber(EpochDay + s.Max); break;
                case Statistics<int> s when logical is NoneLogicalType || logical is IntLogicalType { IsSigned: true }:
                    min = (long)s.Min; max = (long)s.Max; break;
                case Statistics<long> s when logical is TimestampLogicalType ts:
                    min = Instant(s.Min, ts.TimeUnit); max = Instant(s.Max, ts.TimeUnit); break;
                case Statistics<long> s when logical is NoneLogicalType || logical is IntLogicalType { IsSigned: true }:
                    min = s.Min; max = s.Max; break;
                case Statistics<float> s: min = (double)s.Min; max = (double)s.Max; isFloat = true; break;
                case Statistics<double> s: min = s.Min; max = s.Max; isFloat = true; break;
                case Statistics<ByteArray> s when logical is StringLogicalType or NoneLogicalType or EnumLogicalType or JsonLogicalType:
                    min = Bytes(s.Min); max = Bytes(s.Max); break;
            }
        }
        return new ColumnStatistics(min, max, stats.NullCount, rows, isFloat);
    }

    static readonly int EpochDay = new DateOnly(1970, 1, 1).DayNumber;

    static Timestamp Instant(long v, ParquetSharp.TimeUnit unit) => unit switch
    {
        ParquetSharp.TimeUnit.Millis => Timestamp.FromUnixMilliseconds(v),
        ParquetSharp.TimeUnit.Micros => Timestamp.FromUnixMicroseconds(v),
        _ => Timestamp.FromUnixNanoseconds(v),
    };

    static byte[] Bytes(ByteArray b)
    {
        var bytes = new byte[b.Length];
        if (b.Length > 0) Marshal.Copy(b.Pointer, bytes, 0, b.Length);
        return bytes;
    }

    public override Schema Schema => _schema;
    public override long? RowCount => _filter is null ? _rows : null;
    public override bool FiltersRows => true;

    public override RecordBatch? ReadNext()
    {
        if (_scan is not null) return _scan.ReadNext();
        if (_batches is null) return null;
        while (true)
        {
            RecordBatch? batch;
            try { batch = _batches.ReadNextRecordBatchAsync().AsTask().GetAwaiter().GetResult(); }
            catch (Exception e) when (e is not BrineException)
            {
                // Errors from the native reader surface as ParquetException or a plain Exception carrying Arrow's status.
                throw new BrineFormatException("parquet", "", Clean(e.Message), e);
            }
            if (batch is null) return null;
            if (_filter is not null && (batch = BatchSelection.Filter(batch, _filter)) is null) continue;
            if (!SameNames(batch.Schema, _schema)) batch = BatchSelection.Project(batch, _schema);
            return batch;
        }
    }

    static bool SameNames(Schema a, Schema b) =>
        a.FieldsList.Count == b.FieldsList.Count && a.FieldsList.Select(f => f.Name).SequenceEqual(b.FieldsList.Select(f => f.Name));

    public override void Dispose()
    {
        _scan?.Dispose();
        _batches?.Dispose();
        _file.Dispose();
        _ownedStream?.Dispose();
        base.Dispose();
    }
}
