using Brine.Model;

namespace Brine.Formats;

/// <summary>The formats Brine knows, found by name, by file extension, or by content.</summary>
public sealed class FormatRegistry
{
    readonly List<Format> _formats = new();

    public IReadOnlyList<Format> All => _formats;

    /// <summary>Every built-in format. Each format folder adds its descriptor here.</summary>
    public static FormatRegistry Default { get; } = CreateDefault();

    static FormatRegistry CreateDefault()
    {
        var r = new FormatRegistry();
        // Keep one line per format; the order is the order of `brine formats` (trees, then objects, then tables).
        r.Add(new Json.JsonFormat());
        r.Add(new Json.JsonLinesFormat());
        r.Add(new Yaml.YamlFormat());
        r.Add(new Xml.XmlFormat());
        r.Add(new Bson.BsonFormat());
        r.Add(new MessagePack.MessagePackFormat());
        r.Add(new Cbor.CborFormat());
        r.Add(new Pickle.PickleFormat());
        r.Add(new Csv.CsvFormat());
        r.Add(new Csv.TsvFormat());
        r.Add(new Parquet.ParquetFormat());
        r.Add(new Brine.Formats.Avro.AvroFormat());
        r.Add(new Brine.Formats.Arrow.ArrowFormat());
        return r;
    }

    public void Add(Format f) => _formats.Add(f);

    public Format? FindByName(string name) => _formats.FirstOrDefault(f =>
        string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase) ||
        f.Aliases.Any(a => string.Equals(a, name, StringComparison.OrdinalIgnoreCase)) ||
        f.Extensions.Any(e => string.Equals(e.TrimStart('.'), name.TrimStart('.'), StringComparison.OrdinalIgnoreCase)));

    public Format GetByName(string name) => FindByName(name)
        ?? throw new BrineUsageException($"unknown format '{name}'; known formats: {string.Join(", ", _formats.Select(f => f.Name))}");

    /// <summary>The format whose extension the path ends with (longest match, so <c>.tar.gz</c>-style names work).</summary>
    public Format? FindByPath(string path)
    {
        var lower = Path.GetFileName(path).ToLowerInvariant();
        return _formats
            .SelectMany(f => f.Extensions.Select(e => (f, e)))
            .Where(p => lower.EndsWith(p.e, StringComparison.Ordinal))
            .OrderByDescending(p => p.e.Length)
            .Select(p => p.f)
            .FirstOrDefault();
    }

    public Format? FindByMediaType(string mediaType)
    {
        var mt = mediaType.Split(';')[0].Trim();
        return _formats.FirstOrDefault(f => f.MediaTypes.Any(m => string.Equals(m, mt, StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>Guesses the format from the first bytes (strict signatures first).</summary>
    public Format? Detect(ReadOnlySpan<byte> head)
    {
        foreach (var f in _formats.OrderBy(f => f.SniffPriority))
            if (f.CanRead && f.Sniff(head)) return f;
        return null;
    }
}
