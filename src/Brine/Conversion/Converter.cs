using Brine.Formats;
using Brine.IO;
using Brine.Model;
using Brine.Tabular;
using Brine.Tabular.Filtering;

namespace Brine.Conversion;

public sealed class ConvertOptions
{
    /// <summary>The input format's name; detected from the extension, then the content, when null.</summary>
    public string? From { get; init; }
    /// <summary>The output format's name; taken from the extension when null.</summary>
    public string? To { get; init; }
    public RefsMode Refs { get; init; } = RefsMode.Auto;
    public bool Indent { get; init; } = true;
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
    public string? SchemaPath { get; init; }
    public ReadOptions? Read { get; init; }
    /// <summary>A filter on records/rows (<c>language = 'fr' AND id &lt; 10</c>); pushed down into Parquet.</summary>
    public string? Where { get; init; }
    /// <summary>The columns (map keys) to keep, in this order; null keeps all.</summary>
    public IReadOnlyList<string>? Select { get; init; }
    /// <summary>Filled in as the conversion runs, for a progress display on another thread.</summary>
    public ConversionProgress? Progress { get; init; }
    /// <summary>Progress: top-level values (records) written so far.</summary>
    public Action<long>? OnValue { get; init; }
    /// <summary>
    /// Lets JSON → MessagePack between seekable streams skip the token model (same bytes, several times faster);
    /// false always takes the general path, for comparisons.
    /// </summary>
    public bool Direct { get; init; } = true;
}

public sealed record ConvertResult(Format From, Format To, long Values);

/// <summary>
/// Converts between any two formats: detects formats, streams tokens through <see cref="TokenPump"/>, and
/// writes the output atomically. <c>-</c> means standard input or output.
/// </summary>
public static class Converter
{
    public static FormatRegistry Registry => FormatRegistry.Default;

    /// <summary>Finds the input format: by name, then extension, then content.</summary>
    public static Format ResolveInput(string path, string? name, ReadOnlySpan<byte> head)
    {
        if (name is not null) return Registry.GetByName(name);
        if (path != "-" && Registry.FindByPath(path) is { } byExt) return byExt;
        return Registry.Detect(head)
            ?? throw new BrineUsageException($"cannot tell the format of {(path == "-" ? "standard input" : path)}; name it with --from ({string.Join(", ", Registry.All.Select(f => f.Name))})");
    }

    public static Format ResolveOutput(string path, string? name)
    {
        if (name is not null) return Registry.GetByName(name);
        if (path != "-" && Registry.FindByPath(path) is { } byExt) return byExt;
        throw new BrineUsageException($"cannot tell the output format of {(path == "-" ? "standard output" : path)}; name it with --to ({string.Join(", ", Registry.All.Select(f => f.Name))})");
    }

    public static ConvertResult Convert(string inputPath, string outputPath, ConvertOptions? options = null)
    {
        options ??= new ConvertOptions();
        if (inputPath != "-" && !File.Exists(inputPath)) throw new BrineUsageException($"input file not found: {inputPath}");
        if (inputPath != "-" && outputPath != "-" && Path.GetFullPath(inputPath) == Path.GetFullPath(outputPath))
            throw new BrineUsageException("input and output are the same file; write to another name");
        var to = ResolveOutput(outputPath, options.To);
        Stream raw = inputPath == "-" ? Console.OpenStandardInput() : new FileStream(inputPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (options.Progress is { } progress)
        {
            var counting = new ProgressStream(raw);
            progress.TotalBytes = raw.CanSeek ? raw.Length : null;
            progress.BytesSource = () => counting.BytesRead;
            raw = counting;
        }
        using var _ = raw;
        var (input, head) = PeekableInput.Open(raw);
        var from = ResolveInput(inputPath, options.From, head);
        if (outputPath == "-")
        {
            using var stdout = Console.OpenStandardOutput();
            return Convert(input, from, stdout, to, options);
        }
        using var file = new AtomicFile(outputPath);
        var result = Convert(input, from, file.Stream, to, options);
        file.Commit();
        return result;
    }

    /// <summary>Converts between streams. The output stream is flushed, not closed.</summary>
    public static ConvertResult Convert(Stream input, Format from, Stream output, Format to, ConvertOptions? options = null)
    {
        options ??= new ConvertOptions();
        if (!from.CanRead) throw new BrineUsageException($"Brine cannot read {from.Title}");
        if (!to.CanWrite) throw new BrineUsageException($"Brine cannot write {to.Title}");
        var onValue = options.OnValue;
        if (options.Progress is { } progress) onValue = v => { progress.Values = v; options.OnValue?.Invoke(v); };
        var readOptions = options.Read ?? new ReadOptions { Settings = options.Settings, SchemaPath = options.SchemaPath };
        var writeOptions = new WriteOptions { Indent = options.Indent, KeepReferences = options.Refs == RefsMode.Keep, Settings = options.Settings, SchemaPath = options.SchemaPath };
        // Table to table: move record batches, not tokens.
        if (from is ITableFormat fromTable && to is ITableFormat toTable)
        {
            using var tableReader = TableQuery.Open(fromTable, input, TableQueryOptions(readOptions, options));
            using var tableWriter = toTable.CreateTable(output, tableReader.Schema, TableWriteOptions.From(writeOptions));
            long rows = TablePump.Copy(tableReader, tableWriter, onValue);
            tableWriter.Finish();
            output.Flush();
            return new ConvertResult(from, to, rows);
        }
        bool query = options.Where is not null || options.Select is not null;
        // JSON → MessagePack with nothing to filter: transcode directly. It gives up on what needs the model (references,
        // conventions, errors …); then both streams are rewound and the general path runs, with the same output or error.
        if (!query && options.Direct && JsonToMessagePack.Applies(from, to, input, output, readOptions, options.Settings))
        {
            long inputStart = input.Position, outputStart = output.Position;
            long values = JsonToMessagePack.Run(input, output, readOptions, onValue);
            if (values >= 0) return new ConvertResult(from, to, values);
            input.Position = inputStart;
            output.Position = outputStart;
            output.SetLength(outputStart);
        }
        using var source = from is ITableFormat table && query
            ? new TableTokenReader(TableQuery.Open(table, input, TableQueryOptions(readOptions, options)), from.Name)
            : query ? new RecordFilterReader(from.CreateReader(input, readOptions), options.Where, options.Select)
            : from.CreateReader(input, readOptions);
        // A list written to a records format (JSON Lines) becomes one record a line — unless references are kept,
        // since a reference may not cross from one record to another.
        using var reader = to.Capabilities.Shape == "records" && options.Refs != RefsMode.Keep ? new ListItemsReader(source) : source;
        using var writer = to.CreateWriter(output, writeOptions);
        bool pass = options.Refs switch
        {
            RefsMode.Keep => to.Capabilities.References != ReferenceSupport.None,
            RefsMode.Expand => false,
            _ => to.Capabilities.References == ReferenceSupport.Native,
        };
        long n = TokenPump.Copy(reader, writer, new PumpOptions { PassReferences = pass, OnValue = onValue });
        writer.Finish();
        output.Flush();
        return new ConvertResult(from, to, n);
    }

    static TableReadOptions TableQueryOptions(ReadOptions read, ConvertOptions options) => new()
    {
        Columns = options.Select, Where = options.Where, SchemaPath = read.SchemaPath, Settings = read.Settings,
    };

    /// <summary>Reads every top-level value of a file into trees.</summary>
    public static List<Node> ReadNodes(string path, string? format = null, ReadOptions? options = null)
    {
        using var raw = File.OpenRead(path);
        var (input, head) = PeekableInput.Open(raw);
        var f = ResolveInput(path, format, head);
        using var r = f.CreateReader(input, options ?? ReadOptions.Default);
        return NodeBuilder.ReadAll(r);
    }

    /// <summary>Writes trees to a file atomically (shared nodes as the format's references where it has them).</summary>
    public static void WriteNodes(string path, IEnumerable<Node> nodes, string? format = null, WriteOptions? options = null)
    {
        var f = ResolveOutput(path, format);
        using var file = new AtomicFile(path);
        WriteNodes(file.Stream, f, nodes, options);
        file.Commit();
    }

    /// <summary>Writes trees to a stream in <paramref name="format"/>: shared nodes stay shared where the format has native
    /// references (or a convention and <see cref="WriteOptions.KeepReferences"/>), and are written out again elsewhere.</summary>
    public static void WriteNodes(Stream output, Format format, IEnumerable<Node> nodes, WriteOptions? options = null)
    {
        options ??= WriteOptions.Default;
        var refs = format.Capabilities.References;
        bool expand = refs == ReferenceSupport.None || (refs == ReferenceSupport.Convention && !options.KeepReferences);
        using (var w = format.CreateWriter(output, options))
        {
            using var r = new NodeReader(nodes, expand);
            TokenPump.Copy(r, w);
            w.Finish();
        }
        output.Flush();
    }
}
