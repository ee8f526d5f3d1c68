using System.Text.Json;
using Brine.Model;

namespace Brine.Formats.Json;

/// <summary>JSON (RFC 8259): one value a file; whitespace-separated values (as jq writes them) are read too.</summary>
public sealed class JsonFormat : Format
{
    internal const string Losses =
        "bytes → base64 string ({\"py/b64\": …} under --refs keep); timestamps, dates, times and uuids → strings; " +
        "NaN and ±Infinity refused (nan=string writes them as strings); tags on scalars and on lists other than tuple/set dropped; " +
        "non-string map keys → their text; decimals that a double holds exactly read back as floats";

    public override string Name => "json";
    public override string Title => "JSON";
    public override IReadOnlyList<string> Extensions { get; } = new[] { ".json" };
    public override IReadOnlyList<string> MediaTypes { get; } = new[] { "application/json" };
    public override FormatCapabilities Capabilities { get; } = new()
    {
        Binary = false,
        References = ReferenceSupport.Convention,
        NativeTags = false,
        MultipleValues = false,
        Schema = "optional (JSON Schema)",
        ReferencesText = "py/id (jsonpickle); reads $id/$ref",
        TypesText = "py/object (jsonpickle)",
        BytesText = "base64",
        Shape = "tree",
        Losses = Losses,
    };

    public override int SniffPriority => 90;

    /// <summary>Looks like JSON when the first byte after whitespace (and a byte order mark) opens an object or an array.</summary>
    public override bool Sniff(ReadOnlySpan<byte> head)
    {
        var s = SkipWhitespace(head);
        return !s.IsEmpty && s[0] is (byte)'{' or (byte)'[';
    }

    public override TokenReader CreateReader(Stream input, ReadOptions options) => new JsonTokenReader(input, options, Name, lines: false);
    public override TokenWriter CreateWriter(Stream output, WriteOptions options) => new JsonTokenWriter(output, options, Name, lines: false);

    internal static ReadOnlySpan<byte> SkipWhitespace(ReadOnlySpan<byte> s)
    {
        if (s.Length >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) s = s[3..];
        int i = s.IndexOfAnyExcept(" \t\r\n"u8);
        return i < 0 ? default : s[i..];
    }
}

/// <summary>JSON Lines / NDJSON: one JSON value a line (blank lines allowed); always written compact.</summary>
public sealed class JsonLinesFormat : Format
{
    public override string Name => "jsonl";
    public override string Title => "JSON Lines";
    public override IReadOnlyList<string> Aliases { get; } = new[] { "ndjson" };
    public override IReadOnlyList<string> Extensions { get; } = new[] { ".jsonl", ".ndjson" };
    public override IReadOnlyList<string> MediaTypes { get; } = new[] { "application/x-ndjson", "application/jsonl" };
    public override FormatCapabilities Capabilities { get; } = new()
    {
        Binary = false,
        References = ReferenceSupport.Convention,
        NativeTags = false,
        MultipleValues = true,
        Schema = "optional (JSON Schema)",
        ReferencesText = "py/id (jsonpickle); reads $id/$ref",
        TypesText = "py/object (jsonpickle)",
        BytesText = "base64",
        Shape = "records",
        Losses = JsonFormat.Losses,
    };

    // Tried before JSON: both start with '{', but only JSON Lines has a complete value on its first line.
    public override int SniffPriority => 89;

    public override bool Sniff(ReadOnlySpan<byte> head)
    {
        var s = JsonFormat.SkipWhitespace(head);
        if (s.IsEmpty || s[0] is not ((byte)'{' or (byte)'[')) return false;
        int nl = s.IndexOf((byte)'\n');
        if (nl < 0) return false;
        var rest = JsonFormat.SkipWhitespace(s[(nl + 1)..]);
        if (rest.IsEmpty || rest[0] is not ((byte)'{' or (byte)'[')) return false;
        try
        {
            var r = new Utf8JsonReader(s[..nl]);
            while (r.Read()) { }
            return true;
        }
        catch (JsonException) { return false; }
    }

    public override TokenReader CreateReader(Stream input, ReadOptions options) => new JsonTokenReader(input, options, Name, lines: true);
    public override TokenWriter CreateWriter(Stream output, WriteOptions options) => new JsonTokenWriter(output, options, Name, lines: true);
}
