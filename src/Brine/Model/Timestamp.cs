using System.Globalization;

namespace Brine.Model;

/// <summary>
/// An instant with nanosecond precision and an optional UTC offset. <see cref="DateTimeOffset"/>
/// keeps only 100 ns ticks and years 1–9999; MessagePack and Arrow timestamps need more.
/// </summary>
public readonly struct Timestamp : IEquatable<Timestamp>
{
    /// <summary>Seconds since 1970-01-01T00:00:00Z.</summary>
    public long UnixSeconds { get; }
    /// <summary>0 … 999 999 999.</summary>
    public int Nanoseconds { get; }
    /// <summary>The offset the value was written with, in minutes; null when it had none (a "naive" local time, taken as UTC).</summary>
    public short? OffsetMinutes { get; }

    public Timestamp(long unixSeconds, int nanoseconds, short? offsetMinutes = 0)
    {
        if ((uint)nanoseconds > 999_999_999) throw new ArgumentOutOfRangeException(nameof(nanoseconds));
        UnixSeconds = unixSeconds; Nanoseconds = nanoseconds; OffsetMinutes = offsetMinutes;
    }

    public static Timestamp FromDateTimeOffset(DateTimeOffset d)
    {
        long ticks = d.UtcTicks - DateTime.UnixEpoch.Ticks;
        long secs = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rem);
        if (rem < 0) { secs--; rem += TimeSpan.TicksPerSecond; }
        return new Timestamp(secs, (int)(rem * 100), (short)d.Offset.TotalMinutes);
    }

    public static Timestamp FromDateTime(DateTime d) => d.Kind == DateTimeKind.Unspecified
        ? WithoutOffset(FromDateTimeOffset(new DateTimeOffset(d, TimeSpan.Zero)))
        : FromDateTimeOffset(d.Kind == DateTimeKind.Utc ? new DateTimeOffset(d) : new DateTimeOffset(d.ToUniversalTime()));

    static Timestamp WithoutOffset(Timestamp t) => new(t.UnixSeconds, t.Nanoseconds, null);

    public static Timestamp FromUnixMilliseconds(long ms)
    {
        long s = Math.DivRem(ms, 1000, out long r);
        if (r < 0) { s--; r += 1000; }
        return new Timestamp(s, (int)r * 1_000_000);
    }

    public static Timestamp FromUnixMicroseconds(long us)
    {
        long s = Math.DivRem(us, 1_000_000, out long r);
        if (r < 0) { s--; r += 1_000_000; }
        return new Timestamp(s, (int)r * 1000);
    }

    public static Timestamp FromUnixNanoseconds(long ns)
    {
        long s = Math.DivRem(ns, 1_000_000_000, out long r);
        if (r < 0) { s--; r += 1_000_000_000; }
        return new Timestamp(s, (int)r);
    }

    public long ToUnixMilliseconds() => checked(UnixSeconds * 1000 + Nanoseconds / 1_000_000);
    public long ToUnixMicroseconds() => checked(UnixSeconds * 1_000_000 + Nanoseconds / 1000);
    public long ToUnixNanoseconds() => checked(UnixSeconds * 1_000_000_000 + Nanoseconds);

    /// <summary>Throws when the instant lies outside years 1–9999; sub-100 ns digits are dropped.</summary>
    public DateTimeOffset ToDateTimeOffset()
    {
        var utc = DateTimeOffset.UnixEpoch.AddSeconds(UnixSeconds).AddTicks(Nanoseconds / 100);
        return OffsetMinutes is { } m && m != 0 ? utc.ToOffset(TimeSpan.FromMinutes(m)) : utc;
    }

    public DateTime ToUtcDateTime() => ToDateTimeOffset().UtcDateTime;

    /// <summary>RFC 3339 with as many fraction digits as needed: <c>2024-05-01T12:00:00.5+02:00</c>. Years outside
    /// 0–9999 are written with a sign and at least four digits (ISO 8601 expanded years).</summary>
    public override string ToString()
    {
        long local = UnixSeconds + (OffsetMinutes ?? 0) * 60L;
        long days = Math.DivRem(local, 86_400, out long secOfDay);
        if (secOfDay < 0) { secOfDay += 86_400; days--; }
        var (y, m, d) = CivilFromDays(days);
        var sb = new System.Text.StringBuilder(40);
        if (y is >= 0 and <= 9999) sb.Append(y.ToString("D4", CultureInfo.InvariantCulture));
        else sb.Append(y < 0 ? '-' : '+').Append(Math.Abs(y).ToString("D4", CultureInfo.InvariantCulture));
        sb.Append(CultureInfo.InvariantCulture, $"-{m:D2}-{d:D2}T{secOfDay / 3600:D2}:{secOfDay / 60 % 60:D2}:{secOfDay % 60:D2}");
        if (Nanoseconds != 0) sb.Append('.').Append(Nanoseconds.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0'));
        if (OffsetMinutes is not { } off) return sb.ToString();
        if (off == 0) return sb.Append('Z').ToString();
        int a = Math.Abs((int)off);
        return sb.Append(off < 0 ? '-' : '+').Append(CultureInfo.InvariantCulture, $"{a / 60:D2}:{a % 60:D2}").ToString();
    }

    /// <summary>Proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's days_from_civil inverse).</summary>
    static (long year, int month, int day) CivilFromDays(long z)
    {
        z += 719_468;
        long era = (z >= 0 ? z : z - 146_096) / 146_097;
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        long y = yoe + era * 400;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        int d = (int)(doy - (153 * mp + 2) / 5 + 1);
        int m = (int)(mp < 10 ? mp + 3 : mp - 9);
        return (m <= 2 ? y + 1 : y, m, d);
    }

    /// <summary>Parses RFC 3339 / ISO 8601 date-times (<c>T</c> or space, optional fraction up to 9 digits, optional zone).</summary>
    public static bool TryParse(string s, out Timestamp value)
    {
        value = default;
        s = s.Trim();
        if (s.Length < 19 || s[4] != '-' || s[7] != '-' || (s[10] is not ('T' or 't' or ' '))) return false;
        // Split off the fraction so DateTimeOffset parsing never rounds it.
        int i = 19; int nanos = 0;
        string head = s[..19];
        if (i < s.Length && s[i] == '.')
        {
            int start = ++i;
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            var frac = s[start..i];
            if (frac.Length == 0) return false;
            if (frac.Length > 9) frac = frac[..9];
            nanos = int.Parse(frac.PadRight(9, '0'), CultureInfo.InvariantCulture);
        }
        var zone = s[i..].Trim();
        short? offset;
        if (zone.Length == 0) offset = null;
        else if (zone is "Z" or "z") offset = 0;
        else
        {
            if (!TimeSpan.TryParseExact(zone.TrimStart('+', '-'), zone.Contains(':') ? "hh\\:mm" : zone.Length > 3 ? "hhmm" : "hh", CultureInfo.InvariantCulture, out var ts)) return false;
            offset = (short)(zone[0] == '-' ? -ts.TotalMinutes : ts.TotalMinutes);
        }
        if (!DateTime.TryParseExact(head.Replace(' ', 'T').Replace('t', 'T'), "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local)) return false;
        var dto = new DateTimeOffset(local, TimeSpan.FromMinutes(offset ?? 0));
        var t = FromDateTimeOffset(dto);
        value = new Timestamp(t.UnixSeconds, nanos, offset);
        return true;
    }

    public bool Equals(Timestamp o) => UnixSeconds == o.UnixSeconds && Nanoseconds == o.Nanoseconds && OffsetMinutes == o.OffsetMinutes;
    /// <summary>Same instant, whatever the offsets.</summary>
    public bool InstantEquals(Timestamp o) => UnixSeconds == o.UnixSeconds && Nanoseconds == o.Nanoseconds;
    public override bool Equals(object? obj) => obj is Timestamp t && Equals(t);
    public override int GetHashCode() => HashCode.Combine(UnixSeconds, Nanoseconds, OffsetMinutes);
}
