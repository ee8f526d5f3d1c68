using Brine.Model;

namespace Brine.Formats;

/// <summary>How a format carries shared references.</summary>
public enum ReferenceSupport { None, Convention, Native }

/// <summary>What a format can carry: the rows of <c>brine formats</c>.</summary>
public sealed record FormatCapabilities
{
    public bool Binary { get; init; }
    public ReferenceSupport References { get; init; }
    /// <summary>Tags travel natively (YAML, pickle) rather than by a convention or not at all.</summary>
    public bool NativeTags { get; init; }
    /// <summary>The stream may hold several top-level values (JSON Lines, YAML documents, concatenated BSON).</summary>
    public bool MultipleValues { get; init; }
    /// <summary>Text for the table's columns.</summary>
    public string Schema { get; init; } = "none";
    public string ReferencesText { get; init; } = "none";
    public string TypesText { get; init; } = "none";
    public string BytesText { get; init; } = "native";
    public string Shape { get; init; } = "tree";
    /// <summary>Model kinds the format cannot keep and what becomes of them, for the round-trip tests and docs.</summary>
    public string Losses { get; init; } = "";
}

/// <summary>
/// A format's descriptor and factory: name, media types, extensions, capabilities, content sniffing,
/// and its token reader and writer. One subclass per format, registered in <see cref="FormatRegistry"/>.
/// </summary>
public abstract class Format
{
    /// <summary>The short name used by <c>--from</c>/<c>--to</c> (<c>json</c>, <c>yaml</c>).</summary>
    public abstract string Name { get; }
    public abstract string Title { get; }
    public abstract IReadOnlyList<string> Extensions { get; }
    public abstract IReadOnlyList<string> MediaTypes { get; }
    public abstract FormatCapabilities Capabilities { get; }
    public virtual IReadOnlyList<string> Aliases => Array.Empty<string>();

    /// <summary>Whether the first bytes of a file look like this format. Binary formats should be strict; text formats lenient.</summary>
    public virtual bool Sniff(ReadOnlySpan<byte> head) => false;
    /// <summary>Order of content sniffing: lower runs first (strict binary signatures before lenient text guesses).</summary>
    public virtual int SniffPriority => 100;

    public virtual bool CanRead => true;
    public virtual bool CanWrite => true;

    public abstract TokenReader CreateReader(Stream input, ReadOptions options);
    public abstract TokenWriter CreateWriter(Stream output, WriteOptions options);

    public override string ToString() => Name;
}

/// <summary>Options for reading. Limits have safe defaults; raise them on purpose.</summary>
public sealed class ReadOptions
{
    public static ReadOptions Default { get; } = new();
    /// <summary>Deepest nesting accepted. Brine never recurses per level, so this guards memory, not the stack.</summary>
    public int MaxDepth { get; init; } = 10_000_000;
    /// <summary>Longest single string or byte string accepted.</summary>
    public long MaxValueBytes { get; init; } = 1L << 30;
    /// <summary>Format-specific settings (<c>protocol=4</c>, <c>compression=zstd</c>), by name.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
    /// <summary>A schema file (Avro schema, .proto …) when the reader needs or takes one.</summary>
    public string? SchemaPath { get; init; }
    public string? Setting(string name) => Settings.TryGetValue(name, out var v) ? v : null;
}

/// <summary>Options for writing.</summary>
public sealed class WriteOptions
{
    public static WriteOptions Default { get; } = new();
    /// <summary>Pretty-print text formats.</summary>
    public bool Indent { get; init; } = true;
    /// <summary>Whether shared references should be written in the format's convention (true under <c>--refs keep</c>).</summary>
    public bool KeepReferences { get; init; }
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
    public string? SchemaPath { get; init; }
    public string? Setting(string name) => Settings.TryGetValue(name, out var v) ? v : null;
}
