using System.Globalization;
using System.Numerics;
using System.Text;
using Brine.Model;

namespace Brine.Formats.Pickle;

/// <summary>
/// Python's text forms that pickle and pickletools use: <c>repr</c> of floats, str and bytes, <c>str(Decimal)</c>,
/// the raw-unicode-escape codec of the UNICODE opcode and the escape codec of the STRING opcode.
/// </summary>
static class PythonText
{
    /// <summary><c>repr(float)</c>: the shortest digits that round-trip, fixed notation for exponents -4…15, else <c>1e+100</c>.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        // .NET's "R" gives the shortest round-tripping digits; only the layout differs from Python's.
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        var sign = "";
        if (r[0] == '-') { sign = "-"; r = r[1..]; }
        int exp = 0;
        int ePos = r.IndexOfAny(['E', 'e']);
        if (ePos >= 0) { exp = int.Parse(r[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture); r = r[..ePos]; }
        int dot = r.IndexOf('.');
        string intPart = dot < 0 ? r : r[..dot], frac = dot < 0 ? "" : r[(dot + 1)..];
        var digits = intPart + frac;
        int decpt = intPart.Length + exp;
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') { lead++; decpt--; }
        digits = digits[lead..].TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        int x = decpt - 1;
        if (x >= -4 && x < 16)
        {
            if (decpt <= 0) return sign + "0." + new string('0', -decpt) + digits;
            if (decpt >= digits.Length) return sign + digits + new string('0', decpt - digits.Length) + ".0";
            return sign + digits[..decpt] + "." + digits[decpt..];
        }
        var mant = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
        return sign + mant + "e" + (x < 0 ? "-" : "+") + Math.Abs(x).ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary><c>float(text)</c> for the FLOAT opcode.</summary>
    public static bool TryParseFloat(string s, out double d)
    {
        var t = s.Trim().ToLowerInvariant();
        switch (t)
        {
            case "inf" or "+inf" or "infinity" or "+infinity": d = double.PositiveInfinity; return true;
            case "-inf" or "-infinity": d = double.NegativeInfinity; return true;
            case "nan" or "+nan" or "-nan": d = double.NaN; return true;
        }
        return double.TryParse(t.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out d);
    }

    /// <summary><c>int(text, 0)</c> for the INT and LONG opcodes (decimal, or 0x/0o/0b prefixed).</summary>
    public static bool TryParseInt(string s, out BigInteger v)
    {
        v = default;
        var t = s.Trim().Replace("_", "");
        bool neg = false;
        if (t.StartsWith('-') || t.StartsWith('+')) { neg = t[0] == '-'; t = t[1..]; }
        if (t.Length == 0) return false;
        int radix = 10;
        if (t.Length > 2 && t[0] == '0' && char.ToLowerInvariant(t[1]) is 'x' or 'o' or 'b')
        {
            radix = char.ToLowerInvariant(t[1]) switch { 'x' => 16, 'o' => 8, _ => 2 };
            t = t[2..];
        }
        BigInteger acc = 0;
        foreach (var c in t)
        {
            int dv = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'z' ? c - 'a' + 10 : c is >= 'A' and <= 'Z' ? c - 'A' + 10 : 99;
            if (dv >= radix) return false;
            acc = acc * radix + dv;
        }
        v = neg ? -acc : acc;
        return true;
    }

    /// <summary><c>str(decimal.Decimal)</c>: plain notation unless the exponent calls for scientific (<c>1E+3</c>, <c>1E-7</c>).</summary>
    public static string DecimalStr(DecimalNumber d)
    {
        var sign = d.Unscaled.Sign < 0 ? "-" : "";
        var c = BigInteger.Abs(d.Unscaled).ToString(CultureInfo.InvariantCulture);
        int e = -d.Scale;
        int left = e + c.Length;
        int dot = e <= 0 && left > -6 ? left : 1;
        string intPart, frac;
        if (dot <= 0) { intPart = "0"; frac = "." + new string('0', -dot) + c; }
        else if (dot >= c.Length) { intPart = c + new string('0', dot - c.Length); frac = ""; }
        else { intPart = c[..dot]; frac = "." + c[dot..]; }
        var exp = left == dot ? "" : "E" + (left - dot >= 0 ? "+" : "-") + Math.Abs(left - dot).ToString(CultureInfo.InvariantCulture);
        return sign + intPart + frac + exp;
    }

    /// <summary>Pickle's own raw-unicode-escape (protocol 0 UNICODE): backslash, NUL, CR, LF, ^Z and non-Latin-1 escaped.</summary>
    public static byte[] RawUnicodeEscape(string s)
    {
        var o = new List<byte>(s.Length + 8);
        for (int i = 0; i < s.Length; i++)
        {
            int ch = s[i];
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { ch = char.ConvertToUtf32(s[i], s[i + 1]); i++; }
            if (ch >= 0x10000) o.AddRange(Encoding.ASCII.GetBytes("\\U" + ch.ToString("x8", CultureInfo.InvariantCulture)));
            else if (ch >= 256 || ch == '\\' || ch == 0 || ch == '\n' || ch == '\r' || ch == 0x1a)
                o.AddRange(Encoding.ASCII.GetBytes("\\u" + ch.ToString("x4", CultureInfo.InvariantCulture)));
            else o.Add((byte)ch);
        }
        return o.ToArray();
    }

    public static string RawUnicodeUnescape(ReadOnlySpan<byte> b)
    {
        var sb = new StringBuilder(b.Length);
        for (int i = 0; i < b.Length; i++)
        {
            if (b[i] == '\\' && i + 1 < b.Length && (b[i + 1] == 'u' || b[i + 1] == 'U'))
            {
                int n = b[i + 1] == 'u' ? 4 : 8;
                if (i + 2 + n <= b.Length && int.TryParse(Encoding.ASCII.GetString(b.Slice(i + 2, n)), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int cp) && cp is >= 0 and <= 0x10FFFF)
                {
                    if (cp < 0x10000) sb.Append((char)cp); else sb.Append(char.ConvertFromUtf32(cp));
                    i += 1 + n;
                    continue;
                }
                throw new FormatException("truncated \\" + (char)b[i + 1] + "XXXX escape");
            }
            sb.Append((char)b[i]);
        }
        return sb.ToString();
    }

    /// <summary><c>codecs.escape_decode</c>: the Python 2 string-literal escapes of the STRING opcode.</summary>
    public static byte[] EscapeDecode(ReadOnlySpan<byte> b)
    {
        var o = new List<byte>(b.Length);
        for (int i = 0; i < b.Length; i++)
        {
            byte c = b[i];
            if (c != '\\' || i + 1 >= b.Length) { o.Add(c); continue; }
            byte n = b[++i];
            switch ((char)n)
            {
                case '\n': break;
                case '\\': o.Add((byte)'\\'); break;
                case '\'': o.Add((byte)'\''); break;
                case '"': o.Add((byte)'"'); break;
                case 'a': o.Add(7); break;
                case 'b': o.Add(8); break;
                case 'f': o.Add(12); break;
                case 'n': o.Add(10); break;
                case 'r': o.Add(13); break;
                case 't': o.Add(9); break;
                case 'v': o.Add(11); break;
                case 'x':
                    if (i + 2 < b.Length && IsHex(b[i + 1]) && IsHex(b[i + 2])) { o.Add((byte)(Hex(b[i + 1]) * 16 + Hex(b[i + 2]))); i += 2; }
                    else throw new FormatException("invalid \\x escape in STRING");
                    break;
                case >= '0' and <= '7':
                {
                    int v = n - '0', k = 1;
                    while (k < 3 && i + 1 < b.Length && b[i + 1] is >= (byte)'0' and <= (byte)'7') { v = v * 8 + (b[++i] - '0'); k++; }
                    o.Add((byte)v);
                    break;
                }
                default: o.Add((byte)'\\'); o.Add(n); break;
            }
        }
        return o.ToArray();
    }

    static bool IsHex(byte c) => c is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';
    static int Hex(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    /// <summary><c>repr(str)</c>, or <c>ascii(str)</c> when <paramref name="asciiOnly"/>.</summary>
    public static string StrRepr(string s, bool asciiOnly = false)
    {
        char q = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2).Append(q);
        foreach (var rune in s.EnumerateRunes())
        {
            int c = rune.Value;
            if (c == q || c == '\\') sb.Append('\\').Append((char)c);
            else if (c == '\t') sb.Append("\\t");
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
            else if (c < 0x7f) sb.Append((char)c);
            else if (!asciiOnly && IsPrintable(rune)) sb.Append(rune.ToString());
            else if (c <= 0xff) sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
            else if (c <= 0xffff) sb.Append("\\u").Append(c.ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append("\\U").Append(c.ToString("x8", CultureInfo.InvariantCulture));
        }
        return sb.Append(q).ToString();
    }

    static bool IsPrintable(Rune r) => Rune.GetUnicodeCategory(r) switch
    {
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.SpaceSeparator => false,
        _ => true,
    };

    /// <summary><c>repr(bytes)</c>: <c>b'ab\x00'</c>.</summary>
    public static string BytesRepr(ReadOnlySpan<byte> b)
    {
        bool hasSingle = b.IndexOf((byte)'\'') >= 0, hasDouble = b.IndexOf((byte)'"') >= 0;
        char q = hasSingle && !hasDouble ? '"' : '\'';
        var sb = new StringBuilder(b.Length + 3).Append('b').Append(q);
        foreach (var c in b)
        {
            if (c == q || c == '\\') sb.Append('\\').Append((char)c);
            else if (c == '\t') sb.Append("\\t");
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c < 0x20 || c >= 0x7f) sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
            else sb.Append((char)c);
        }
        return sb.Append(q).ToString();
    }
}
