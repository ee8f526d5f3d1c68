using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using Brine.Model;

namespace Brine.Tabular;

/// <summary>
/// Builds one Arrow column from boxed cell values (the row form: long, double, bool, string, byte[], Timestamp,
/// DateOnly, TimeOnly, Guid, DecimalNumber, BigInteger, <see cref="List{T}"/> for lists and
/// <see cref="Dictionary{TKey,TValue}"/> of string keys for structs). Apache.Arrow's own builders have no
/// struct builder and no common "append a boxed value" entry, so Brine keeps one small builder per type.
/// </summary>
public abstract class ColumnBuilder
{
    protected readonly BitBuffer Validity = new();
    public IArrowType Type { get; }
    public int Length { get; protected set; }
    public int NullCount { get; protected set; }

    protected ColumnBuilder(IArrowType type) => Type = type;

    /// <summary>Appends a value; throws <see cref="CellTypeException"/> when it does not fit the column type.</summary>
    public void Append(object? value)
    {
        if (value is null) { AppendNull(); return; }
        AppendValue(value);
        Validity.Append(true);
        Length++;
    }

    public void AppendNull()
    {
        AppendDefault();
        Validity.Append(false);
        Length++; NullCount++;
    }

    protected abstract void AppendValue(object value);
    protected abstract void AppendDefault();
    protected abstract ArrayData BuildData(ArrowBuffer validity);

    /// <summary>The column so far; the builder starts again empty.</summary>
    public IArrowArray Build()
    {
        var validity = NullCount == 0 ? ArrowBuffer.Empty : Validity.ToBuffer();
        var data = BuildData(validity);
        Validity.Clear(); Length = 0; NullCount = 0;
        return ArrowArrayFactory.BuildArray(data);
    }

    public static ColumnBuilder Create(IArrowType type) => type switch
    {
        Int8Type => new Primitive<sbyte>(type, v => checked((sbyte)ToInt64(v, "an 8-bit integer"))),
        Int16Type => new Primitive<short>(type, v => checked((short)ToInt64(v, "a 16-bit integer"))),
        Int32Type => new Primitive<int>(type, v => checked((int)ToInt64(v, "a 32-bit integer"))),
        Int64Type => new Primitive<long>(type, v => ToInt64(v, "an integer")),
        UInt8Type => new Primitive<byte>(type, v => checked((byte)ToInt64(v, "an unsigned 8-bit integer"))),
        UInt16Type => new Primitive<ushort>(type, v => checked((ushort)ToInt64(v, "an unsigned 16-bit integer"))),
        UInt32Type => new Primitive<uint>(type, v => checked((uint)ToInt64(v, "an unsigned 32-bit integer"))),
        UInt64Type => new Primitive<ulong>(type, v => v is BigInteger b && b >= 0 && b <= ulong.MaxValue ? (ulong)b : checked((ulong)ToInt64(v, "an unsigned integer"))),
        FloatType => new Primitive<float>(type, v => (float)ToDouble(v)),
        DoubleType => new Primitive<double>(type, ToDouble),
        BooleanType => new Bool(type),
        StringType => new Binary(type, true),
        BinaryType => new Binary(type, false),
        TimestampType t => new Primitive<long>(type, v => TimestampIn(v, t.Unit)),
        Date32Type => new Primitive<int>(type, v => ToDate(v).DayNumber - EpochDay),
        Date64Type => new Primitive<long>(type, v => (ToDate(v).DayNumber - EpochDay) * 86_400_000L),
        Time64Type t => new Primitive<long>(type, v => t.Unit == TimeUnit.Nanosecond ? ToTime(v).Ticks * 100 : ToTime(v).Ticks / 10),
        Time32Type t => new Primitive<int>(type, v => (int)(t.Unit == TimeUnit.Millisecond ? ToTime(v).Ticks / 10_000 : ToTime(v).Ticks / 10_000_000)),
        Decimal128Type d => new Decimal(d),
        FixedSizeBinaryType f => new FixedBinary(f),
        DictionaryType { ValueType: StringType } d => new StringDictionary(d),
        ListType l => new ListColumn(l),
        StructType s => new StructColumn(s),
        _ => throw new BrineUsageException($"Brine cannot build Arrow columns of type {type.Name}"),
    };

    static readonly int EpochDay = new DateOnly(1970, 1, 1).DayNumber;

    public static long ToInt64(object v, string what) => v switch
    {
        long l => l,
        int i => i,
        bool b => b ? 1 : 0,
        double d when d == Math.Floor(d) && d >= long.MinValue && d < 9.2233720368547758E18 => (long)d,
        BigInteger b when b >= long.MinValue && b <= long.MaxValue => (long)b,
        DecimalNumber n when n.Scale <= 0 || n.Unscaled % BigInteger.Pow(10, n.Scale) == 0 => (long)(n.Unscaled / BigInteger.Pow(10, Math.Max(0, n.Scale))),
        string s when long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
        _ => throw new CellTypeException(v, what),
    };

    public static double ToDouble(object v) => v switch
    {
        double d => d,
        long l => l,
        int i => i,
        float f => f,
        BigInteger b => (double)b,
        DecimalNumber n => n.ToDouble(),
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => throw new CellTypeException(v, "a number"),
    };

    static DateOnly ToDate(object v) => v switch
    {
        DateOnly d => d,
        Timestamp t when t.Nanoseconds == 0 && t.UnixSeconds % 86400 == 0 => DateOnly.FromDayNumber(EpochDay + (int)(t.UnixSeconds / 86400)),
        string s when DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) => d,
        _ => throw new CellTypeException(v, "a date"),
    };

    static TimeOnly ToTime(object v) => v switch
    {
        TimeOnly t => t,
        string s when TimeOnly.TryParse(s, CultureInfo.InvariantCulture, out var t) => t,
        _ => throw new CellTypeException(v, "a time of day"),
    };

    public static long TimestampIn(object v, TimeUnit unit)
    {
        var t = v switch
        {
            Timestamp ts => ts,
            DateOnly d => new Timestamp((long)(d.DayNumber - EpochDay) * 86400, 0),
            string s when Timestamp.TryParse(s, out var ts) => ts,
            _ => throw new CellTypeException(v, "a timestamp"),
        };
        return unit switch
        {
            TimeUnit.Second => t.UnixSeconds,
            TimeUnit.Millisecond => t.ToUnixMilliseconds(),
            TimeUnit.Microsecond => t.ToUnixMicroseconds(),
            _ => t.ToUnixNanoseconds(),
        };
    }

    /// <summary>A value as text for a string column (mixed-type columns are widened to strings).</summary>
    public static string ToText(object v) => v switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToBase64String(bytes),
        List<object?> or Dictionary<string, object?> => CellJson.Write(v),
        _ => v.ToString() ?? "",
    };

    sealed class Primitive<T>(IArrowType type, Func<object, T> convert) : ColumnBuilder(type) where T : unmanaged
    {
        readonly GrowBuffer<T> _values = new();
        protected override void AppendValue(object value)
        {
            try { _values.Add(convert(value)); }
            catch (OverflowException) { throw new CellTypeException(value, "a value in the range of " + Type.Name); }
        }
        protected override void AppendDefault() => _values.Add(default);
        protected override ArrayData BuildData(ArrowBuffer validity) =>
            new(Type, Length, NullCount, 0, new[] { validity, _values.Take() });
    }

    sealed class Bool(IArrowType type) : ColumnBuilder(type)
    {
        readonly BitBuffer _bits = new();
        protected override void AppendValue(object value) => _bits.Append(value switch
        {
            bool b => b,
            string s when bool.TryParse(s, out var b) => b,
            long l when l is 0 or 1 => l == 1,
            _ => throw new CellTypeException(value, "a boolean"),
        });
        protected override void AppendDefault() => _bits.Append(false);
        protected override ArrayData BuildData(ArrowBuffer validity)
        {
            var data = new ArrayData(Type, Length, NullCount, 0, new[] { validity, _bits.ToBuffer() });
            _bits.Clear();
            return data;
        }
    }

    sealed class Binary(IArrowType type, bool text) : ColumnBuilder(type)
    {
        readonly GrowBuffer<int> _offsets = new();
        readonly GrowBuffer<byte> _bytes = new();
        protected override void AppendValue(object value)
        {
            if (_offsets.Count == 0) _offsets.Add(0);
            if (text) _bytes.AddUtf8(ToText(value));
            else if (value is byte[] b) _bytes.AddRange(b);
            else if (value is string s) _bytes.AddUtf8(s);
            else throw new CellTypeException(value, "bytes");
            _offsets.Add(_bytes.Count);
        }
        /// <summary>Appends UTF-8 bytes directly (the CSV reader's fast path).</summary>
        public void AppendUtf8(ReadOnlySpan<byte> utf8)
        {
            if (_offsets.Count == 0) _offsets.Add(0);
            _bytes.AddRange(utf8);
            _offsets.Add(_bytes.Count);
            Validity.Append(true);
            Length++;
        }
        protected override void AppendDefault()
        {
            if (_offsets.Count == 0) _offsets.Add(0);
            _offsets.Add(_bytes.Count);
        }
        protected override ArrayData BuildData(ArrowBuffer validity)
        {
            if (_offsets.Count == 0) _offsets.Add(0);
            var data = new ArrayData(Type, Length, NullCount, 0, new[] { validity, _offsets.Take(), _bytes.Take() });
            return data;
        }
    }

    sealed class Decimal(Decimal128Type type) : ColumnBuilder(type)
    {
        readonly GrowBuffer<byte> _bytes = new();
        protected override void AppendValue(object value)
        {
            var n = value switch
            {
                DecimalNumber d => d,
                long l => new DecimalNumber(l, 0),
                BigInteger b => new DecimalNumber(b, 0),
                double d => DecimalNumber.Parse(d.ToString("R", CultureInfo.InvariantCulture)),
                string s when DecimalNumber.TryParse(s, out var d) => d,
                _ => throw new CellTypeException(value, "a decimal"),
            };
            var unscaled = n.Unscaled;
            if (n.Scale < type.Scale) unscaled *= BigInteger.Pow(10, type.Scale - n.Scale);
            else if (n.Scale > type.Scale)
            {
                var div = BigInteger.DivRem(unscaled, BigInteger.Pow(10, n.Scale - type.Scale), out var rem);
                if (!rem.IsZero) throw new CellTypeException(value, $"a decimal with at most {type.Scale} digits after the point");
                unscaled = div;
            }
            if (BigInteger.Abs(unscaled) >= BigInteger.Pow(10, type.Precision)) throw new CellTypeException(value, $"a decimal of at most {type.Precision} digits");
            Span<byte> raw = stackalloc byte[16];
            raw.Fill(unscaled.Sign < 0 ? (byte)0xFF : (byte)0);
            unscaled.TryWriteBytes(raw, out _, isUnsigned: false, isBigEndian: false);
            _bytes.AddRange(raw);
        }
        protected override void AppendDefault() => _bytes.AddRange(stackalloc byte[16]);
        protected override ArrayData BuildData(ArrowBuffer validity) => new(Type, Length, NullCount, 0, new[] { validity, _bytes.Take() });
    }

    sealed class FixedBinary(FixedSizeBinaryType type) : ColumnBuilder(type)
    {
        readonly GrowBuffer<byte> _bytes = new();
        protected override void AppendValue(object value)
        {
            if (value is Guid g && type.ByteWidth == 16)
            {
                Span<byte> raw = stackalloc byte[16];
                g.TryWriteBytes(raw, bigEndian: true, out _);
                _bytes.AddRange(raw);
            }
            else if (value is string s && type.ByteWidth == 16 && Guid.TryParse(s, out var parsed)) AppendValue(parsed);
            else if (value is byte[] bytes && bytes.Length == type.ByteWidth) _bytes.AddRange(bytes);
            else throw new CellTypeException(value, $"{type.ByteWidth} bytes");
        }
        protected override void AppendDefault() => _bytes.AddRange(new byte[type.ByteWidth]);
        protected override ArrayData BuildData(ArrowBuffer validity) => new(Type, Length, NullCount, 0, new[] { validity, _bytes.Take() });
    }

    sealed class StringDictionary(DictionaryType type) : ColumnBuilder(type)
    {
        readonly Dictionary<string, int> _codes = new();
        readonly List<string> _values = new();
        readonly GrowBuffer<int> _indices = new();
        protected override void AppendValue(object value)
        {
            var s = ToText(value);
            if (!_codes.TryGetValue(s, out var code)) { code = _values.Count; _codes[s] = code; _values.Add(s); }
            _indices.Add(code);
        }
        protected override void AppendDefault() => _indices.Add(0);
        protected override ArrayData BuildData(ArrowBuffer validity)
        {
            var dict = new StringArray.Builder().AppendRange(_values).Build();
            var data = new ArrayData(new DictionaryType(Int32Type.Default, StringType.Default, ((DictionaryType)Type).Ordered),
                Length, NullCount, 0, new[] { validity, _indices.Take() }, System.Array.Empty<ArrayData>(), dict.Data);
            _codes.Clear(); _values.Clear();
            return data;
        }
    }

    sealed class ListColumn(ListType type) : ColumnBuilder(type)
    {
        readonly ColumnBuilder _items = Create(type.ValueDataType);
        readonly GrowBuffer<int> _offsets = new();
        protected override void AppendValue(object value)
        {
            if (value is not List<object?> list) throw new CellTypeException(value, "a list");
            if (_offsets.Count == 0) _offsets.Add(0);
            foreach (var item in list) _items.Append(item);
            _offsets.Add(_items.Length);
        }
        protected override void AppendDefault()
        {
            if (_offsets.Count == 0) _offsets.Add(0);
            _offsets.Add(_items.Length);
        }
        protected override ArrayData BuildData(ArrowBuffer validity)
        {
            if (_offsets.Count == 0) _offsets.Add(0);
            var offsets = _offsets.Take();
            var items = _items.Build();
            return new ArrayData(Type, Length, NullCount, 0, new[] { validity, offsets }, new[] { items.Data });
        }
    }

    sealed class StructColumn : ColumnBuilder
    {
        readonly StructType _type;
        readonly ColumnBuilder[] _fields;
        readonly Dictionary<string, int> _index = new();
        public StructColumn(StructType type) : base(type)
        {
            _type = type;
            _fields = type.Fields.Select(f => Create(f.DataType)).ToArray();
            for (int i = 0; i < type.Fields.Count; i++) _index[type.Fields[i].Name] = i;
        }
        protected override void AppendValue(object value)
        {
            if (value is not Dictionary<string, object?> map) throw new CellTypeException(value, "a map");
            foreach (var key in map.Keys)
                if (!_index.ContainsKey(key)) throw new CellTypeException(value, $"a map with the fields {string.Join(", ", _index.Keys)} (it has '{key}')");
            for (int i = 0; i < _fields.Length; i++)
                _fields[i].Append(map.TryGetValue(_type.Fields[i].Name, out var v) ? v : null);
        }
        protected override void AppendDefault() { foreach (var f in _fields) f.AppendNull(); }
        protected override ArrayData BuildData(ArrowBuffer validity) =>
            new(Type, Length, NullCount, 0, new[] { validity }, _fields.Select(f => f.Build().Data).ToArray());
    }
}

/// <summary>A value that does not fit its column's type; the caller adds the row and column.</summary>
public sealed class CellTypeException(object value, string expected) : Exception($"{Describe(value)} is not {expected}")
{
    public object Value { get; } = value;
    static string Describe(object v)
    {
        var text = v is List<object?> or Dictionary<string, object?> ? CellJson.Write(v) : ColumnBuilder.ToText(v);
        if (text.Length > 60) text = text[..57] + "...";
        return "'" + text + "'";
    }
}

/// <summary>A growable buffer of unmanaged values that hands its contents over as an <see cref="ArrowBuffer"/>.</summary>
public sealed class GrowBuffer<T> where T : unmanaged
{
    T[] _items = new T[256];
    public int Count { get; private set; }

    public void Add(T value)
    {
        if (Count == _items.Length) System.Array.Resize(ref _items, _items.Length * 2);
        _items[Count++] = value;
    }

    public void AddRange(ReadOnlySpan<T> values)
    {
        Ensure(Count + values.Length);
        values.CopyTo(_items.AsSpan(Count));
        Count += values.Length;
    }

    public void Ensure(int capacity)
    {
        if (capacity > _items.Length) System.Array.Resize(ref _items, Math.Max(capacity, _items.Length * 2));
    }

    public Span<T> Span => _items.AsSpan(0, Count);
    /// <summary>The free space after the items (call <see cref="Ensure"/> first), filled by the caller then kept with <see cref="Advance"/>.</summary>
    public Span<T> SpanWithCapacity() => _items.AsSpan(Count);
    public void Advance(int n) => Count += n;

    /// <summary>Appends text as UTF-8 (only for byte buffers).</summary>
    public void AddUtf8(string s)
    {
        var bytes = MemoryMarshal.Cast<T, byte>(_items.AsSpan());
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        Ensure(Count + max);
        int n = Encoding.UTF8.GetBytes(s, MemoryMarshal.Cast<T, byte>(_items.AsSpan(Count)));
        Count += n;
    }

    /// <summary>The contents as an Arrow buffer; the buffer starts again empty.</summary>
    public ArrowBuffer Take()
    {
        var bytes = MemoryMarshal.AsBytes(_items.AsSpan(0, Count)).ToArray();
        Count = 0;
        if (_items.Length > 1 << 16) _items = new T[256];
        return new ArrowBuffer(bytes);
    }
}

/// <summary>A growable bitmap (validity or boolean values) in Arrow's LSB-first layout.</summary>
public sealed class BitBuffer
{
    byte[] _bytes = new byte[64];
    public int Count { get; private set; }

    public void Append(bool bit)
    {
        if ((Count >> 3) >= _bytes.Length) System.Array.Resize(ref _bytes, _bytes.Length * 2);
        if (bit) _bytes[Count >> 3] |= (byte)(1 << (Count & 7));
        else _bytes[Count >> 3] &= (byte)~(1 << (Count & 7));
        Count++;
    }

    public void Clear() { System.Array.Clear(_bytes); Count = 0; }

    public ArrowBuffer ToBuffer()
    {
        var b = new ArrowBuffer(_bytes.AsSpan(0, (Count + 7) >> 3).ToArray());
        Clear();
        return b;
    }
}
