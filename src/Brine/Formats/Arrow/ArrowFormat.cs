using Apache.Arrow;
using Apache.Arrow.Memory;
using Apache.Arrow.Compression;
using Apache.Arrow.Ipc;
using Brine.Model;
using Brine.Tabular;

namespace Brine.Formats.Arrow;

/// <summary>
/// Arrow IPC: the file format (Feather v2, magic <c>ARROW1</c>) is written; the file and the stream formats are
/// read (told apart by the magic). Apache.Arrow does the IPC work; Apache.Arrow.Compression supplies lz4 and zstd
/// buffers. Setting <c>compression</c>: none (default, readable by every Arrow implementation), lz4, zstd.
/// </summary>
public sealed class ArrowFormat : TableFormat
{
    public override string Name => "arrow";
    public override string Title => "Apache Arrow IPC file (Feather v2)";
    public override IReadOnlyList<string> Aliases { get; } = new[] { "feather", "ipc" };
    public override IReadOnlyList<string> Extensions { get; } = new[] { ".arrow", ".feather", ".ipc", ".arrows" };
    public override IReadOnlyList<string> MediaTypes { get; } = new[] { "application/vnd.apache.arrow.file", "application/vnd.apache.arrow.stream" };

    public override FormatCapabilities Capabilities { get; } = new()
    {
        Binary = true,
        References = ReferenceSupport.None,
        Schema = "required (in the file; inferred on write)",
        ReferencesText = "none",
        TypesText = "logical types",
        BytesText = "native",
        Shape = "columns",
        Losses = "tags, shared references (expanded); records written from tokens must hold scalar columns of one kind each",
    };

    public static ReadOnlySpan<byte> FileMagic => "ARROW1"u8;

    public override bool Sniff(ReadOnlySpan<byte> head) =>
        head.StartsWith(FileMagic) ||
        // Stream format: continuation marker 0xFFFFFFFF, then a little-endian metadata length.
        (head.Length >= 8 && head[..4].SequenceEqual(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }) && BitConverter.ToInt32(head[4..8]) is > 0 and < 1 << 24);
    public override int SniffPriority => 10;

    internal static readonly ICompressionCodecFactory Codecs = new CompressionCodecFactory();

    // Tokens (rows as maps) come from the shared TableFormat adapter (TableTokenReader, RowsToTable).
    public override TableReader OpenTable(Stream input, TableReadOptions options) => new ArrowTableReader(input, options);
    public override TableWriter CreateTable(Stream output, Schema schema, TableWriteOptions options) =>
        new ArrowTableWriter(output, schema, options.Compression ?? options.Setting("compression"));

    internal static CompressionCodecType? Codec(string? name) => (name ?? "none").ToLowerInvariant() switch
    {
        "none" or "null" or "uncompressed" or "" => null,
        "lz4" or "lz4_frame" or "lz4frame" => CompressionCodecType.Lz4Frame,
        "zstd" or "zstandard" => CompressionCodecType.Zstd,
        _ => throw new BrineUsageException($"arrow: unknown compression '{name}' (use none, lz4 or zstd)"),
    };
}

/// <summary>Reads the IPC file format (random access through the footer) or the stream format, batch by batch.</summary>
internal sealed class ArrowTableReader : TableReader
{
    readonly ArrowFileReader? _file;
    readonly ArrowStreamReader? _streamReader;
    readonly IReadOnlyList<string>? _columns;
    readonly Schema _schema;
    int _nextBatch;

    public ArrowTableReader(Stream input, TableReadOptions options)
    {
        _columns = options.Columns;
        try
        {
            if (!input.CanSeek)
            {
                // The file format's footer is at the end: buffer a non-seekable input.
                var ms = new MemoryStream();
                input.CopyTo(ms);
                ms.Position = 0;
                input = ms;
            }
            Span<byte> head = stackalloc byte[6];
            long start = input.Position;
            int got = input.ReadAtLeast(head, 6, throwOnEndOfStream: false);
            input.Position = start;
            if (got == 6 && head.SequenceEqual(ArrowFormat.FileMagic))
            {
                _file = new ArrowFileReader(input, MemoryAllocator.Default.Value, ArrowFormat.Codecs, leaveOpen: true);
                _schema = _file.Schema;
            }
            else
            {
                _streamReader = new ArrowStreamReader(input, MemoryAllocator.Default.Value, ArrowFormat.Codecs, leaveOpen: true);
                _schema = _streamReader.Schema ?? throw new BrineFormatException("arrow", "byte 0", "the stream has no schema message");
            }
        }
        catch (Exception e) when (e is not BrineException)
        {
            throw new BrineFormatException("arrow", "header", "not a readable Arrow IPC file or stream: " + e.Message, e);
        }
        if (_columns is not null)
        {
            foreach (var c in _columns)
                if (_schema.GetFieldIndex(c) < 0) throw new BrineUsageException($"arrow: no column '{c}' (columns: {string.Join(", ", _schema.FieldsList.Select(f => f.Name))})");
            Schema = new Schema(_columns.Select(c => _schema.GetFieldByName(c)), _schema.Metadata);
        }
        else Schema = _schema;
    }

    public override Schema Schema { get; }

    public override long? RowCount => null;

    public override RecordBatch? ReadNext()
    {
        RecordBatch? batch;
        try
        {
            if (_file is not null)
            {
                batch = _file.ReadNextRecordBatch();
            }
            else batch = _streamReader!.ReadNextRecordBatch();
            _nextBatch++;
        }
        // Apache.Arrow throws many exception types on damaged input (overflow, index, argument, flatbuffer errors).
        catch (Exception e) when (e is not BrineException)
        {
            throw new BrineFormatException("arrow", $"record batch {_nextBatch}", "the batch does not read: " + e.Message, e);
        }
        if (batch is null) return null;
        ArrowValidation.Validate(batch, _nextBatch - 1);
        if (_columns is null) return batch;
        return new RecordBatch(Schema, _columns.Select(c => batch.Column(_schema.GetFieldIndex(c))), batch.Length);
    }

    public override void Dispose()
    {
        _file?.Dispose();
        _streamReader?.Dispose();
        base.Dispose();
    }
}

/// <summary>Writes the IPC file format with optional lz4/zstd buffer compression.</summary>
internal sealed class ArrowTableWriter : TableWriter
{
    readonly ArrowFileWriter _writer;
    bool _started;

    public ArrowTableWriter(Stream output, Schema schema, string? compression)
    {
        var codec = ArrowFormat.Codec(compression);
        var options = codec is null ? new IpcOptions() : new IpcOptions { CompressionCodec = codec, CompressionCodecFactory = ArrowFormat.Codecs };
        _writer = new ArrowFileWriter(output, schema, leaveOpen: true, options);
    }

    public override void Write(RecordBatch batch)
    {
        if (!_started) { _writer.WriteStart(); _started = true; }
        _writer.WriteRecordBatch(batch);
    }

    public override void Finish()
    {
        if (!_started) { _writer.WriteStart(); _started = true; }
        _writer.WriteEnd();
    }

    public override void Dispose() { _writer.Dispose(); base.Dispose(); }
}
