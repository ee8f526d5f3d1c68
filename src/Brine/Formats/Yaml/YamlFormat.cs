using Brine.Model;

namespace Brine.Formats.Yaml;

/// <summary>YAML 1.2 (and 1.1 documents): anchors and aliases, tags, several documents a stream.</summary>
public sealed class YamlFormat : Format
{
    public override string Name => "yaml";
    public override string Title => "YAML";
    public override IReadOnlyList<string> Aliases { get; } = ["yml"];
    public override IReadOnlyList<string> Extensions { get; } = [".yaml", ".yml"];
    public override IReadOnlyList<string> MediaTypes { get; } = ["application/yaml", "application/x-yaml", "text/yaml"];

    public override FormatCapabilities Capabilities { get; } = new()
    {
        Binary = false,
        References = ReferenceSupport.Native,
        NativeTags = true,
        MultipleValues = true,
        Schema = "optional",
        ReferencesText = "anchors/aliases",
        TypesText = "tags",
        BytesText = "!!binary",
        Shape = "tree",
        Losses = "time of day and UUID become strings; decimals become floats (every digit kept in the text); map keys that are lists or maps are not in the model",
    };

    // After JSON (which is also YAML) and the binary formats.
    public override int SniffPriority => 200;

    /// <summary>Text that starts like YAML: a directive, <c>---</c>, a comment, a list item or a <c>key: value</c> line.</summary>
    public override bool Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("\xEF\xBB\xBF"u8)) head = head[3..];
        if (head.IndexOf((byte)0) >= 0) return false;
        // First line that is not blank or a comment.
        int i = 0;
        while (i < head.Length)
        {
            int end = head[i..].IndexOf((byte)'\n');
            var line = end < 0 ? head[i..] : head.Slice(i, end);
            i = end < 0 ? head.Length : i + end + 1;
            var t = line.TrimStart(" \t\r"u8);
            if (t.IsEmpty) continue;
            if (t[0] == '#') { if (line[0] == '#') continue; }
            if (t.StartsWith("%YAML"u8) || t.StartsWith("---"u8) || t.StartsWith("- "u8) || t.SequenceEqual("-"u8)) return true;
            if (t[0] is (byte)'{' or (byte)'[' or (byte)'<') return false;
            int colon = t.IndexOf(": "u8);
            if (colon < 0 && t.TrimEnd(" \r"u8).EndsWith(":"u8)) colon = t.Length - 1;
            return colon > 0;
        }
        return false;
    }

    public override TokenReader CreateReader(Stream input, ReadOptions options) => new YamlTokenReader(input, options);
    public override TokenWriter CreateWriter(Stream output, WriteOptions options) => new YamlTokenWriter(output, options);
}
