using System.Text;

namespace Brine.Inspection;

/// <summary>A listing like <c>hexdump -C</c>: offset, 16 bytes in hex, and their printable characters.</summary>
public static class HexDump
{
    public static string Format(ReadOnlySpan<byte> data, long baseOffset = 0) => Format(data, baseOffset, null);

    /// <summary>
    /// The listing with, after each line, the tokens that start in it (<c>map</c>, <c>"name"</c>, <c>3</c> …), so the
    /// bytes can be read against the data model.
    /// </summary>
    public static string Format(ReadOnlySpan<byte> data, long baseOffset, IReadOnlyList<(long offset, string label)>? notes)
    {
        var sb = new StringBuilder();
        int next = 0;
        for (int line = 0; line < data.Length; line += 16)
        {
            var chunk = data.Slice(line, Math.Min(16, data.Length - line));
            sb.Append((baseOffset + line).ToString("x8")).Append("  ");
            for (int i = 0; i < 16; i++)
            {
                sb.Append(i < chunk.Length ? chunk[i].ToString("x2") + " " : "   ");
                if (i == 7) sb.Append(' ');
            }
            sb.Append(" |");
            foreach (var b in chunk) sb.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            sb.Append('|');
            if (notes is not null)
            {
                sb.Append(new string(' ', 16 - chunk.Length));
                var line0 = baseOffset + line;
                var labels = new List<string>();
                while (next < notes.Count && notes[next].offset < line0 + 16)
                {
                    if (notes[next].offset >= line0) labels.Add(notes[next].label);
                    next++;
                }
                if (labels.Count > 0) sb.Append("  ").Append(string.Join(" ", labels));
            }
            sb.Append('\n');
        }
        sb.Append((baseOffset + data.Length).ToString("x8")).Append('\n');
        return sb.ToString();
    }
}

/// <summary>Collects where each token starts, for readers whose location is a byte offset.</summary>
public static class TokenOffsets
{
    public static List<(long offset, string label)> Collect(Brine.Model.TokenReader r, long limit)
    {
        var notes = new List<(long, string)>();
        while (r.Read())
        {
            var loc = r.Location;
            int i = loc.IndexOf("byte ", StringComparison.Ordinal);
            if (i < 0 || !long.TryParse(loc.AsSpan(i + 5).TrimEnd(), out long offset)) { if (notes.Count == 0) return notes; continue; }
            if (offset >= limit) break;
            notes.Add((offset, Label(r)));
        }
        return notes;
    }

    static string Label(Brine.Model.TokenReader r)
    {
        static string Cut(string s) => s.Length > 12 ? s[..11] + "…" : s;
        var label = r.Kind switch
        {
            Brine.Model.TokenKind.StartMap => "{",
            Brine.Model.TokenKind.EndMap => "}",
            Brine.Model.TokenKind.StartList => "[",
            Brine.Model.TokenKind.EndList => "]",
            Brine.Model.TokenKind.String => "\"" + Cut(r.StringValue ?? "") + "\"",
            Brine.Model.TokenKind.Int => (r.BigValue ?? r.Int64Value).ToString(),
            Brine.Model.TokenKind.Float => r.DoubleValue.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            Brine.Model.TokenKind.Bool => r.BoolValue ? "true" : "false",
            Brine.Model.TokenKind.Null => "null",
            Brine.Model.TokenKind.Bytes => $"bytes[{r.BytesValue?.Length}]",
            Brine.Model.TokenKind.Timestamp => r.TimestampValue.ToString(),
            Brine.Model.TokenKind.Alias => "*" + r.StringValue,
            var k => k.ToString().ToLowerInvariant(),
        };
        return (r.Anchor is { } a ? "&" + a + " " : "") + (r.Tag is { } t ? "!" + t + " " : "") + label;
    }
}
