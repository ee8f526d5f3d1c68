using System.Numerics;
using Brine.Model;
using MongoDB.Bson;

namespace Brine.Formats.Bson;

/// <summary>
/// The tags Brine gives BSON types that have no kind of their own in the model, so that they survive a
/// round trip through Brine (and show what they were in other formats). See docs/formats/bson.md.
/// </summary>
public static class BsonTags
{
    /// <summary>An ObjectId, as a String of 24 hex digits.</summary>
    public const string ObjectId = "objectid";
    /// <summary>An int64 whose value would fit an int32: the tag keeps the width so the bytes re-encode the same.</summary>
    public const string Int64 = "bson.int64";
    /// <summary>A map <c>{pattern, options}</c>.</summary>
    public const string Regex = "bson.regex";
    /// <summary>JavaScript code, as a String.</summary>
    public const string Code = "bson.code";
    /// <summary>A map <c>{code, scope}</c>.</summary>
    public const string CodeWithScope = "bson.codewscope";
    /// <summary>A deprecated symbol, as a String.</summary>
    public const string Symbol = "bson.symbol";
    /// <summary>A replication timestamp, as a map <c>{t, i}</c> (seconds and increment, both unsigned 32-bit).</summary>
    public const string Timestamp = "bson.timestamp";
    /// <summary>MinKey, MaxKey and the deprecated undefined: Null with one of these tags.</summary>
    public const string MinKey = "bson.minkey", MaxKey = "bson.maxkey", Undefined = "bson.undefined";
    /// <summary>A Decimal128 the model's exact decimal cannot hold (NaN, ±Infinity, negative zero), as its String.</summary>
    public const string Decimal128 = "bson.decimal128";
    /// <summary>Binary data of a subtype other than 0 (and 4 holding 16 bytes): Bytes tagged <c>bson.binary.N</c>, N in decimal.</summary>
    public const string BinaryPrefix = "bson.binary.";

    const int ExponentBias = 6176, MaxExponent = 6111, MinExponent = -6176;
    static readonly BigInteger MaxCoefficient = BigInteger.Pow(10, 34) - 1;

    /// <summary>The exact value of a finite, non-negative-zero Decimal128, keeping its exponent (1E+3 stays 1E+3).</summary>
    public static bool TryToDecimalNumber(Decimal128 d, out DecimalNumber value)
    {
        value = default;
        if (MongoDB.Bson.Decimal128.IsNaN(d) || MongoDB.Bson.Decimal128.IsInfinity(d)) return false;
        ulong high = d.GetIEEEHighBits(), low = d.GetIEEELowBits();
        bool negative = (high >> 63) != 0;
        int biased; BigInteger coefficient;
        if (((high >> 61) & 3) == 3)
        {
            // The "11" combination form: its coefficient is always above 10^34 - 1 (the value is zero, but the bits
            // would not re-encode): keep it as tagged text.
            return false;
        }
        biased = (int)((high >> 49) & 0x3FFF);
        coefficient = ((BigInteger)(high & 0x1FFFFFFFFFFFFUL) << 64) | low;
        if (coefficient > MaxCoefficient) return false;
        if (negative && coefficient.IsZero) return false; // -0 has no place in an exact decimal
        value = new DecimalNumber(negative ? -coefficient : coefficient, ExponentBias - biased);
        return true;
    }

    /// <summary>
    /// The text of a Decimal128 the model's decimal cannot hold: its own notation (<c>NaN</c>, <c>-Infinity</c>, <c>-0E+3</c>)
    /// when that parses back to the same bits, else <c>0x</c> and the 32 hex digits of its bits (high word first), so that
    /// NaN payloads, signalling NaNs and non-canonical zeros survive.
    /// </summary>
    public static string Decimal128Text(Decimal128 d)
    {
        var text = d.ToString();
        if (MongoDB.Bson.Decimal128.TryParse(text, out var back) && back.GetIEEEHighBits() == d.GetIEEEHighBits() && back.GetIEEELowBits() == d.GetIEEELowBits())
            return text;
        return "0x" + d.GetIEEEHighBits().ToString("X16") + d.GetIEEELowBits().ToString("X16");
    }

    public static bool TryParseDecimal128Text(string text, out Decimal128 d)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && text.Length == 34
            && ulong.TryParse(text.AsSpan(2, 16), System.Globalization.NumberStyles.HexNumber, null, out var high)
            && ulong.TryParse(text.AsSpan(18, 16), System.Globalization.NumberStyles.HexNumber, null, out var low))
        {
            d = MongoDB.Bson.Decimal128.FromIEEEBits(high, low);
            return true;
        }
        return MongoDB.Bson.Decimal128.TryParse(text, out d);
    }

    /// <summary>The Decimal128 holding exactly <paramref name="value"/>, or false when it needs more than 34 digits or its exponent is out of range.</summary>
    public static bool TryToDecimal128(DecimalNumber value, out Decimal128 result)
    {
        result = default;
        var coefficient = BigInteger.Abs(value.Unscaled);
        long exponent = -(long)value.Scale;
        // Drop trailing zeros only when the digits or the exponent would not fit otherwise: keep the scale when it can be kept.
        while (coefficient > MaxCoefficient || exponent < MinExponent)
        {
            if (coefficient > MaxCoefficient && !coefficient.IsZero && coefficient % 10 == 0 && exponent < MaxExponent) { coefficient /= 10; exponent++; }
            else if (exponent < MinExponent && coefficient.IsZero) exponent = MinExponent;
            else return false;
        }
        while (exponent > MaxExponent)
        {
            if (coefficient.IsZero) { exponent = MaxExponent; break; }
            coefficient *= 10; exponent--;
            if (coefficient > MaxCoefficient) return false;
        }
        ulong lowBits = (ulong)(coefficient & ulong.MaxValue);
        ulong highCoef = (ulong)(coefficient >> 64);
        ulong high = ((ulong)(exponent + ExponentBias) << 49) | highCoef;
        if (value.Unscaled.Sign < 0) high |= 1UL << 63;
        result = MongoDB.Bson.Decimal128.FromIEEEBits(high, lowBits);
        return true;
    }
}
