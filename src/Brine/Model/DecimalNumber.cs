using System.Globalization;
using System.Numerics;
using System.Text;

namespace Brine.Model;

/// <summary>
/// An exact decimal of any precision: <c>Unscaled × 10^-Scale</c>. JSON numbers, BSON Decimal128,
/// Avro and Parquet decimals all fit; <see cref="decimal"/> (28 digits) does not always.
/// </summary>
public readonly struct DecimalNumber : IEquatable<DecimalNumber>
{
    public BigInteger Unscaled { get; }
    public int Scale { get; }

    public DecimalNumber(BigInteger unscaled, int scale) { Unscaled = unscaled; Scale = scale; }

    public static DecimalNumber FromDecimal(decimal d)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(d, bits);
        var mag = new BigInteger((uint)bits[0]) | (new BigInteger((uint)bits[1]) << 32) | (new BigInteger((uint)bits[2]) << 64);
        bool neg = (bits[3] & unchecked((int)0x80000000)) != 0;
        int scale = (bits[3] >> 16) & 0xFF;
        return new DecimalNumber(neg ? -mag : mag, scale);
    }

    /// <summary>Parses <c>-12.50</c>, <c>1e-7</c>, <c>3.2E+10</c>. Returns false on anything else.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out DecimalNumber value)
    {
        value = default;
        if (s.IsEmpty) return false;
        int i = 0; bool neg = false;
        if (s[0] is '-' or '+') { neg = s[0] == '-'; i++; }
        var digits = new StringBuilder(s.Length);
        int scale = 0; bool seenDot = false, any = false;
        for (; i < s.Length; i++)
        {
            char c = s[i];
            if (c is >= '0' and <= '9') { digits.Append(c); any = true; if (seenDot) scale++; }
            else if (c == '.' && !seenDot) seenDot = true;
            else break;
        }
        if (!any) return false;
        if (i < s.Length)
        {
            if (s[i] is not ('e' or 'E')) return false;
            if (!int.TryParse(s[(i + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int exp)) return false;
            scale -= exp;
        }
        var unscaled = BigInteger.Parse(digits.ToString(), CultureInfo.InvariantCulture);
        if (scale < 0) { unscaled *= BigInteger.Pow(10, -scale); scale = 0; }
        value = new DecimalNumber(neg ? -unscaled : unscaled, scale);
        return true;
    }

    public static DecimalNumber Parse(string s) =>
        TryParse(s, out var d) ? d : throw new FormatException($"'{s}' is not a decimal number");

    public bool TryToDecimal(out decimal d)
    {
        d = 0;
        if (Scale > 28) return false;
        var abs = BigInteger.Abs(Unscaled);
        if (abs.GetBitLength() > 96) return false;
        var bytes = abs.ToByteArray(isUnsigned: true, isBigEndian: false);
        Span<byte> b = stackalloc byte[12];
        bytes.AsSpan(0, Math.Min(12, bytes.Length)).CopyTo(b);
        d = new decimal(BitConverter.ToInt32(b[..4]), BitConverter.ToInt32(b[4..8]), BitConverter.ToInt32(b[8..12]), Unscaled.Sign < 0, (byte)Scale);
        return true;
    }

    public double ToDouble() => double.Parse(ToString(), CultureInfo.InvariantCulture);

    /// <summary>Plain notation, every digit kept: <c>-0.0050</c>, <c>1200</c>.</summary>
    public override string ToString()
    {
        var digits = BigInteger.Abs(Unscaled).ToString(CultureInfo.InvariantCulture);
        var sign = Unscaled.Sign < 0 ? "-" : "";
        if (Scale <= 0) return sign + digits + new string('0', -Scale);
        if (digits.Length <= Scale) digits = new string('0', Scale - digits.Length + 1) + digits;
        return sign + digits[..^Scale] + "." + digits[^Scale..];
    }

    public bool Equals(DecimalNumber other) => Unscaled == other.Unscaled && Scale == other.Scale;
    public override bool Equals(object? obj) => obj is DecimalNumber d && Equals(d);
    public override int GetHashCode() => HashCode.Combine(Unscaled, Scale);

    /// <summary>Equal in value, whatever the scale (1.50 equals 1.5).</summary>
    public bool ValueEquals(DecimalNumber other)
    {
        int s = Math.Max(Scale, other.Scale);
        return Unscaled * BigInteger.Pow(10, s - Scale) == other.Unscaled * BigInteger.Pow(10, s - other.Scale);
    }
}
