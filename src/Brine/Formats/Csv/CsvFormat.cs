using System.Text;
using Apache.Arrow;
using Brine.Model;
using Brine.Tabular;

namespace Brine.Formats.Csv;

/// <summary>
/// Comma-separated values (RFC 4180) on Sep. Reading: a header row (setting <c>header=false</c> names the
/// columns c1…cN), the delimiter sniffed from the first line (or <c>delimiter=;</c>), quoted fields with
/// embedded newlines, a UTF-8 BOM, other encodings (<c>encoding=latin1</c>), column types inferred from the
/// first rows (<c>infer_rows=1000</c>, <c>infer=false</c> keeps every value a string) or given by
/// <c>--schema</c> (Avro). Writing: RFC 4180 quoting, a header, ISO timestamps, bytes as base64.
/// </summary>
public class CsvFormat : TableFormat
{
    public override string Name => "csv";
    public override string Title => "CSV";
    public override IReadOnlyList<string> Extensions => new[] { ".csv" };
    public override IReadOnlyList<string> MediaTypes => new[] { "text/csv" };
    /// <summary>The delimiter when none is set; null lets Sep detect it from the first line.</summary>
    protected virtual char? DefaultDelimiter => null;
    protected virtual char WriteDelimiter => ',';

    public override FormatCapabilities Capabilities { get; } = new()
    {
        Binary = false,
        Schema = "none (inferred)",
        TypesText = "none",
        BytesText = "base64",
        Shape = "rows",
        Losses = "tags; nested lists and maps become JSON text; bytes become base64 text; null and empty string both become an empty field; types are inferred again on reading",
    };

    // CSV has no signature; content detection is left to the extension and the lead's text heuristics.
    public override int SniffPriority => 900;

    public override TableReader OpenTable(Stream input, TableReadOptions options) =>
        new CsvTableReader(input, options, Name, DefaultDelimiter);

    public override TableWriter CreateTable(Stream output, Schema schema, TableWriteOptions options) =>
        new CsvTableWriter(output, schema, options, Name, WriteDelimiter);

    /// <summary>The text encoding named by the <c>encoding</c> setting (utf-8 by default).</summary>
    internal static Encoding EncodingOf(string? name)
    {
        if (name is null) return new UTF8Encoding(false);
        switch (name.ToLowerInvariant().Replace("_", "-"))
        {
            case "utf8" or "utf-8": return new UTF8Encoding(false);
            case "utf-8-sig" or "utf8-sig" or "utf-8-bom": return new UTF8Encoding(true);
            case "latin1" or "latin-1" or "iso-8859-1" or "iso8859-1": return Encoding.Latin1;
            case "ascii" or "us-ascii": return Encoding.ASCII;
            case "utf-16" or "utf16" or "utf-16le": return new UnicodeEncoding(false, false);
            case "utf-16be": return new UnicodeEncoding(true, false);
            case "utf-32" or "utf32": return new UTF32Encoding(false, false);
        }
        try { return Encoding.GetEncoding(name); }
        catch (ArgumentException) { throw new BrineUsageException($"unknown encoding '{name}' (utf-8, utf-8-sig, latin1, ascii, utf-16, utf-16be, utf-32)"); }
    }
}

/// <summary>Tab-separated values: CSV with a tab delimiter (quoting as in CSV).</summary>
public sealed class TsvFormat : CsvFormat
{
    public override string Name => "tsv";
    public override string Title => "TSV";
    public override IReadOnlyList<string> Extensions => new[] { ".tsv", ".tab" };
    public override IReadOnlyList<string> MediaTypes => new[] { "text/tab-separated-values" };
    protected override char? DefaultDelimiter => '\t';
    protected override char WriteDelimiter => '\t';
}
