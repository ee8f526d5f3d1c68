using System.Text;

namespace Brine.Inspection;

/// <summary>A listing like <c>hexdump -C</c>: offset, 16 bytes in hex, and their printable characters.</summary>
public static class HexDump
{
    public static string Format(ReadOnlySpan<byte> data, long baseOffset = 0)
    {
        var sb = new StringBuilder();
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
            sb.Append("|\n");
        }
        sb.Append((baseOffset + data.Length).ToString("x8")).Append('\n');
        return sb.ToString();
    }
}
