using System.Buffers.Text;
using System.Globalization;
using System.Numerics;
using Brine.Model;

namespace Brine.Formats.Json;

/// <summary>
/// Turns a JSON number literal into the model's Int, Float or Decimal without losing a digit, and writes the
/// model's numbers back as literals.
/// </summary>
internal static class JsonNumbers
{
    /// <summary>Longest integer literal taken (Python itself refuses more than 4,300 digits by default).</summary>
    public const int MaxIntegerDigits = 100_000;
    /// <summary>Largest power of ten a decimal literal may carry: keeps "1e999999999" from becoming a gigabyte of digits.</summary>
    public const int MaxExponent = 100_000;

    public enum Kind { Int, Big, Float, Decimal }

    /// <summary>Classifies and parses <paramref name="s"/> (already validated by Utf8JsonReader). Null error when fine.</summary>
    public static string? Parse(ReadOnlySpan<byte> s, out Kind kind, out long int64, out BigInteger big, out double dbl, out DecimalNumber dec)
    {
        int64 = 0; big = default; dbl = 0; dec = default;
        if (s.IndexOfAny((byte)'.', (byte)'e', (byte)'E') < 0)
        {
            if (Utf8Parser.TryParse(s, out int64, out int used) && used == s.Length) { kind = Kind.Int; return null; }
            kind = Kind.Big;
            if (s.Length > MaxIntegerDigits) return $"an integer of {s.Length:N0} digits is longer than the {MaxIntegerDigits:N0} Brine takes";
            big = BigInteger.Parse(Ascii(s), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            return null;
        }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out dbl)) dbl = double.NaN;
        if (DoubleKeepsValue(s, dbl)) { kind = Kind.Float; return null; }
        kind = Kind.Decimal;
        if (!ExponentInRange(s)) return $"the exponent of {Shorten(s)} is beyond ±{MaxExponent:N0}: Brine cannot keep its every digit";
        if (!DecimalNumber.TryParse(Ascii(s), out dec)) return $"{Shorten(s)} is not a number";
        return null;
    }

    /// <summary>
    /// Whether the double's shortest round-trip text has the literal's value (0.1, 1.5, 1e10 yes; 0.1000000000000000000001 no).
    /// Any literal of at most 15 significant digits in the normal range does: 15-digit decimals are farther apart than doubles.
    /// </summary>
    static bool DoubleKeepsValue(ReadOnlySpan<byte> s, double d)
    {
        if (!double.IsFinite(d)) return false;
        int i = 0;
        if (s[0] == '-') i++;
        int firstNonZero = -1, lastNonZero = -1, digitIndex = 0, pointAt = -1;
        for (; i < s.Length; i++)
        {
            byte c = s[i];
            if (c == '.') { pointAt = digitIndex; continue; }
            if (c is (byte)'e' or (byte)'E') break;
            if (c != '0') { if (firstNonZero < 0) firstNonZero = digitIndex; lastNonZero = digitIndex; }
            digitIndex++;
        }
        if (firstNonZero < 0) return true; // zero, any sign or exponent: the double is ±0 too
        if (pointAt < 0) pointAt = digitIndex;
        long exp = 0;
        if (i < s.Length)
        {
            int j = i + 1; bool neg = false;
            if (s[j] is (byte)'+' or (byte)'-') { neg = s[j] == '-'; j++; }
            for (; j < s.Length; j++) { exp = exp * 10 + (s[j] - '0'); if (exp > 100_000) break; }
            if (neg) exp = -exp;
        }
        int significant = lastNonZero - firstNonZero + 1;
        long magnitude = exp + pointAt - firstNonZero - 1; // the power of ten of the leading digit
        if (significant <= 15 && magnitude is > -307 and < 308) return true;
        if (magnitude is < -400 or > 400) return false;
        Span<char> chars = stackalloc char[32];
        d.TryFormat(chars, out int n, "R", CultureInfo.InvariantCulture);
        return DecimalNumber.TryParse(chars[..n], out var shortest)
            && DecimalNumber.TryParse(Ascii(s), out var literal)
            && shortest.ValueEquals(literal);
    }

    static bool ExponentInRange(ReadOnlySpan<byte> s)
    {
        int e = s.IndexOfAny((byte)'e', (byte)'E');
        if (e < 0) return true;
        var digits = s[(e + 1)..].TrimStart("+-"u8).TrimStart((byte)'0');
        return digits.Length <= 6 && int.Parse(Ascii(digits.IsEmpty ? "0"u8 : digits), CultureInfo.InvariantCulture) <= MaxExponent;
    }

    static string Ascii(ReadOnlySpan<byte> s) => System.Text.Encoding.ASCII.GetString(s);
    static string Shorten(ReadOnlySpan<byte> s) => s.Length <= 40 ? Ascii(s) : Ascii(s[..20]) + "…" + Ascii(s[^10..]);

    /// <summary>
    /// A double as JSON text that reads back as a float: shortest round-trip digits, with ".0" added to whole
    /// numbers (as Python writes them) so that 1.0 does not come back as the integer 1.
    /// </summary>
    public static int FormatDouble(double d, Span<byte> dest)
    {
        d.TryFormat(dest, out int n, "R", CultureInfo.InvariantCulture);
        if (dest[..n].IndexOfAny((byte)'.', (byte)'E') < 0) { dest[n++] = (byte)'.'; dest[n++] = (byte)'0'; }
        return n;
    }

    /// <summary>
    /// A decimal as a JSON literal with every digit that reads back as a fraction, not an integer: plain notation
    /// when it has a fraction part, else digits and an exponent (<c>12E+2</c>).
    /// </summary>
    public static string FormatDecimal(DecimalNumber d)
    {
        if (d.Scale is > 0 and <= 400) return d.ToString();
        if (d.Unscaled.IsZero) return "0.0";
        var digits = d.Unscaled.ToString(CultureInfo.InvariantCulture);
        var trimmed = digits.TrimEnd('0');
        long exponent = -(long)d.Scale + (digits.Length - trimmed.Length);
        return trimmed + "E" + (exponent >= 0 ? "+" : "") + exponent.ToString(CultureInfo.InvariantCulture);
    }
}
