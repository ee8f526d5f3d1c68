using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using Brine.Model;
using Brine.Tabular;
using nietras.SeparatedValues;

namespace Brine.Formats.Csv;

/// <summary>
/// Reads CSV into record batches with Sep (unescaping quotes). The first <c>infer_rows</c> rows are held to
/// infer the column types; after that rows stream into typed column buffers, one batch at a time.
/// </summary>
public sealed class CsvTableReader : TableReader
{
    readonly string _format;
    readonly SepReader _sep;
    readonly StreamReader _text;
    readonly string[] _names;
    readonly Schema _schema;
    readonly CsvColumn[] _columns;
    readonly int[] _source; // for each output column, its index in the CSV row
    readonly int _width;
    readonly int _batchSize;
    readonly bool _inferred;
    readonly int _inferRows;
    readonly Queue<(string[] Cells, long Row, int Line)> _sample = new();
    long _row; // data rows read so far (1-based numbering in messages)
    bool _done;

    public CsvTableReader(Stream input, TableReadOptions options, string formatName = "csv", char? defaultDelimiter = null)
    {
        _format = formatName;
        _batchSize = options.BatchSize;
        var encoding = CsvFormat.EncodingOf(options.Setting("encoding"));
        _text = new StreamReader(input, encoding, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        char? delimiter = options.Setting("delimiter") is { } d ? ParseDelimiter(d) : defaultDelimiter;
        bool header = options.Setting("header") is not { } h || !IsFalse(h);
        try
        {
            _sep = Sep.Reader(o => o with
            {
                Sep = delimiter is { } c ? new Sep(c) : null,
                HasHeader = false,
                Unescape = true,
                DisableColCountCheck = true,
                CultureInfo = CultureInfo.InvariantCulture,
            }).From(_text);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or NotSupportedException)
        {
            throw new BrineFormatException(_format, "line 1", e.Message, e);
        }

        // Header (or, without one, the first row only tells the width).
        string[] firstRow = System.Array.Empty<string>();
        int firstLine = 1;
        bool haveFirst = MoveNext();
        if (haveFirst) { firstRow = Cells(); firstLine = _sep.Current.LineNumberFrom; }
        if (header)
        {
            _names = UniqueNames(firstRow);
        }
        else
        {
            _names = Enumerable.Range(1, firstRow.Length).Select(i => "c" + i).ToArray();
            if (haveFirst) _sample.Enqueue((firstRow, ++_row, firstLine));
        }
        _width = _names.Length;

        bool infer = options.Setting("infer") is not { } inf || !IsFalse(inf);
        _inferRows = TableFormat.SettingInt(options.Settings, "infer_rows", 1000);
        Schema full;
        if (options.SchemaPath is { } schemaPath)
        {
            full = AvroSchemaToArrow.Load(schemaPath);
            var missing = full.FieldsList.Select(f => f.Name).Where(n => !_names.Contains(n)).ToList();
            if (missing.Count > 0)
                throw new BrineFormatException(_format, "line 1", $"the schema names columns the header lacks: {string.Join(", ", missing)} (header: {string.Join(", ", _names)})");
        }
        else if (!infer)
        {
            full = new Schema(_names.Select(n => new Field(n, StringType.Default, true)), null);
        }
        else
        {
            while (_sample.Count < _inferRows && MoveNext()) _sample.Enqueue((CheckedCells(), ++_row, _sep.Current.LineNumberFrom));
            full = new Schema(_names.Select((n, i) => new Field(n, CsvTypeInference.Infer(_sample.Select(s => s.Cells[i])), true)), null);
            _inferred = true;
        }

        _schema = options.Columns is { } cols ? TableQuery.Project(full, cols) : full;
        _source = _schema.FieldsList.Select(f => System.Array.IndexOf(_names, f.Name)).ToArray();
        _columns = _schema.FieldsList.Select(f => CsvColumn.Create(f)).ToArray();
    }

    static bool IsFalse(string v) => v.Equals("false", StringComparison.OrdinalIgnoreCase) || v == "0" || v.Equals("no", StringComparison.OrdinalIgnoreCase);

    static char ParseDelimiter(string d) => d switch
    {
        "\\t" or "tab" or "\t" => '\t',
        "space" => ' ',
        _ when d.Length == 1 => d[0],
        _ => throw new BrineUsageException($"setting delimiter={d}: expected one character (or tab)"),
    };

    static string[] UniqueNames(string[] header)
    {
        var names = new string[header.Length];
        var seen = new HashSet<string>();
        for (int i = 0; i < header.Length; i++)
        {
            var n = header[i].Length == 0 ? "c" + (i + 1) : header[i];
            var unique = n;
            for (int k = 2; !seen.Add(unique); k++) unique = n + "_" + k;
            names[i] = unique;
        }
        return names;
    }

    public override Schema Schema => _schema;

    bool MoveNext()
    {
        try { return _sep.MoveNext(); }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or DecoderFallbackException)
        {
            throw new BrineFormatException(_format, $"row {_row + 1}", e.Message, e);
        }
    }

    string[] Cells()
    {
        var row = _sep.Current;
        var cells = new string[row.ColCount];
        for (int i = 0; i < cells.Length; i++) cells[i] = row[i].ToString();
        return cells;
    }

    string[] CheckedCells()
    {
        CheckWidth(_sep.Current.ColCount, _row + 1, _sep.Current.LineNumberFrom);
        return Cells();
    }

    void CheckWidth(int count, long row, int line)
    {
        if (count != _width)
            throw new BrineFormatException(_format, $"row {row} (line {line})", $"{count} fields, but the header has {_width} ({string.Join(", ", _names)})");
    }

    public override RecordBatch? ReadNext()
    {
        if (_done) return null;
        int n = 0;
        while (n < _batchSize && _sample.TryDequeue(out var s))
        {
            CheckWidth(s.Cells.Length, s.Row, s.Line);
            for (int c = 0; c < _columns.Length; c++) Append(c, s.Cells[_source[c]], s.Row);
            n++;
        }
        while (n < _batchSize && _sample.Count == 0)
        {
            if (!MoveNext()) { _done = true; break; }
            var row = _sep.Current;
            long number = ++_row;
            CheckWidth(row.ColCount, number, row.LineNumberFrom);
            for (int c = 0; c < _columns.Length; c++) Append(c, row[_source[c]].Span, number);
            n++;
        }
        if (n == 0) return null;
        var arrays = _columns.Select(c => c.Build()).ToArray();
        return new RecordBatch(_schema, arrays, n);
    }

    void Append(int c, ReadOnlySpan<char> cell, long row)
    {
        try { _columns[c].Append(cell); }
        catch (CellTypeException e)
        {
            var hint = _inferred ? $" (the column's type was inferred from the first {_inferRows} rows; give --schema, infer=false or a larger infer_rows)" : "";
            throw new BrineFormatException(_format, $"row {row}, column '{_schema.FieldsList[c].Name}'", e.Message + hint);
        }
    }

    public override void Dispose()
    {
        _sep.Dispose();
        _text.Dispose();
        base.Dispose();
    }
}

/// <summary>Column types from sample cells: int64, double, bool, date, timestamp, else string. Empty cells are nulls.</summary>
public static class CsvTypeInference
{
    public static IArrowType Infer(IEnumerable<string> cells)
    {
        bool any = false, isInt = true, isDouble = true, isBool = true, isDate = true, isTs = true, zoned = false, naive = false, nanos = false;
        foreach (var cell in cells)
        {
            if (cell.Length == 0) continue;
            any = true;
            if (isInt && !IsInteger(cell)) isInt = false;
            if (isDouble && !IsFloat(cell)) isDouble = false;
            if (isBool && !(cell.Equals("true", StringComparison.OrdinalIgnoreCase) || cell.Equals("false", StringComparison.OrdinalIgnoreCase))) isBool = false;
            if (isDate && !(cell.Length == 10 && DateOnly.TryParseExact(cell, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))) isDate = false;
            if (isTs)
            {
                if (!Timestamp.TryParse(cell, out var t)) isTs = false;
                else
                {
                    if (t.OffsetMinutes is null) naive = true; else zoned = true;
                    if (t.Nanoseconds % 1000 != 0) nanos = true;
                }
            }
            if (!(isInt || isDouble || isBool || isDate || isTs)) break;
        }
        if (!any) return StringType.Default;
        if (isInt) return Int64Type.Default;
        if (isDouble) return DoubleType.Default;
        if (isBool) return BooleanType.Default;
        if (isDate) return Date32Type.Default;
        if (isTs && !(zoned && naive)) return new TimestampType(nanos ? TimeUnit.Nanosecond : TimeUnit.Microsecond, zoned ? "UTC" : null as string);
        return StringType.Default;
    }

    /// <summary>An integer without leading zeros (so codes like 007 or 08123 stay text).</summary>
    static bool IsInteger(string s)
    {
        var digits = s[0] is '-' or '+' ? s.AsSpan(1) : s.AsSpan();
        if (digits.Length == 0 || (digits.Length > 1 && digits[0] == '0')) return false;
        foreach (var ch in digits) if (!char.IsAsciiDigit(ch)) return false;
        return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
    }

    static bool IsFloat(string s)
    {
        var body = s[0] is '-' or '+' ? s.AsSpan(1) : s.AsSpan();
        if (body.Length == 0 || !(char.IsAsciiDigit(body[0]) || body[0] == '.')) return false;
        if (body.Length > 1 && body[0] == '0' && char.IsAsciiDigit(body[1])) return false;
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
    }
}

/// <summary>Parses cells of one column into Arrow buffers, with fast paths for the inferred types.</summary>
abstract class CsvColumn
{
    protected readonly BitBuffer Valid = new();
    protected int Length, Nulls;
    protected readonly IArrowType Type;
    protected CsvColumn(IArrowType type) => Type = type;

    public abstract void Append(ReadOnlySpan<char> cell);
    public abstract IArrowArray Build();

    protected void Ok() { Valid.Append(true); Length++; }
    protected void Null() { Valid.Append(false); Length++; Nulls++; }
    protected ArrowBuffer TakeValidity()
    {
        var b = Nulls == 0 ? ArrowBuffer.Empty : Valid.ToBuffer();
        Valid.Clear();
        return b;
    }
    protected ArrayData Data(params ArrowBuffer[] buffers)
    {
        var d = new ArrayData(Type, Length, Nulls, 0, buffers);
        Length = 0; Nulls = 0;
        return d;
    }

    public static CsvColumn Create(Field f) => f.DataType switch
    {
        StringType => new Utf8(f.DataType),
        Int64Type => new Int64s(f.DataType),
        DoubleType => new Doubles(f.DataType),
        TimestampType t => new Timestamps(t, f),
        _ => new Generic(f),
    };

    sealed class Utf8(IArrowType type) : CsvColumn(type)
    {
        readonly GrowBuffer<int> _offsets = new();
        readonly GrowBuffer<byte> _bytes = new();
        public override void Append(ReadOnlySpan<char> cell)
        {
            if (_offsets.Count == 0) _offsets.Add(0);
            if (cell.Length > 0)
            {
                _bytes.Ensure(_bytes.Count + Encoding.UTF8.GetMaxByteCount(cell.Length));
                int n = Encoding.UTF8.GetBytes(cell, _bytes.SpanWithCapacity());
                _bytes.Advance(n);
            }
            _offsets.Add(_bytes.Count);
            Ok();
        }
        public override IArrowArray Build()
        {
            if (_offsets.Count == 0) _offsets.Add(0);
            var v = TakeValidity();
            return ArrowArrayFactory.BuildArray(Data(v, _offsets.Take(), _bytes.Take()));
        }
    }

    sealed class Int64s(IArrowType type) : CsvColumn(type)
    {
        readonly GrowBuffer<long> _values = new();
        public override void Append(ReadOnlySpan<char> cell)
        {
            if (cell.Length == 0) { _values.Add(0); Null(); return; }
            if (!long.TryParse(cell, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
                throw new CellTypeException(cell.ToString(), "an integer");
            _values.Add(v); Ok();
        }
        public override IArrowArray Build() { var v = TakeValidity(); return ArrowArrayFactory.BuildArray(Data(v, _values.Take())); }
    }

    sealed class Doubles(IArrowType type) : CsvColumn(type)
    {
        readonly GrowBuffer<double> _values = new();
        public override void Append(ReadOnlySpan<char> cell)
        {
            if (cell.Length == 0) { _values.Add(0); Null(); return; }
            if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                throw new CellTypeException(cell.ToString(), "a number");
            _values.Add(v); Ok();
        }
        public override IArrowArray Build() { var v = TakeValidity(); return ArrowArrayFactory.BuildArray(Data(v, _values.Take())); }
    }

    /// <summary>ISO 8601 timestamps parsed from the span without allocating; unusual spellings go through <see cref="Timestamp.TryParse"/>.</summary>
    sealed class Timestamps(TimestampType type, Field f) : CsvColumn(type)
    {
        readonly GrowBuffer<long> _values = new();
        readonly ColumnBuilder _slow = ColumnBuilder.Create(f.DataType);
        public override void Append(ReadOnlySpan<char> cell)
        {
            if (cell.Length == 0) { _values.Add(0); Null(); return; }
            if (!IsoTimestamp.TryParse(cell, out long seconds, out int nanos))
            {
                var s = cell.ToString();
                if (!Timestamp.TryParse(s, out var t)) throw new CellTypeException(s, "a timestamp");
                seconds = t.UnixSeconds; nanos = t.Nanoseconds;
            }
            _values.Add(type.Unit switch
            {
                TimeUnit.Second => seconds,
                TimeUnit.Millisecond => seconds * 1000 + nanos / 1_000_000,
                TimeUnit.Microsecond => seconds * 1_000_000 + nanos / 1000,
                _ => seconds * 1_000_000_000 + nanos,
            });
            Ok();
        }
        public override IArrowArray Build() { var v = TakeValidity(); return ArrowArrayFactory.BuildArray(Data(v, _values.Take())); }
    }

    /// <summary>Any other type (bool, date, timestamp, decimal, uuid, enum …) through <see cref="ColumnBuilder"/>'s text conversions.</summary>
    sealed class Generic(Field f) : CsvColumn(f.DataType)
    {
        readonly ColumnBuilder _b = ColumnBuilder.Create(f.DataType);
        readonly bool _text = f.DataType is DictionaryType or BinaryType;
        public override void Append(ReadOnlySpan<char> cell)
        {
            if (cell.Length == 0 && !_text) { _b.AppendNull(); return; }
            var s = cell.ToString();
            if (Type is BinaryType)
            {
                // The writer stores bytes as base64 text.
                try { _b.Append(Convert.FromBase64String(s)); } catch (FormatException) { throw new CellTypeException(s, "base64 bytes"); }
                return;
            }
            if (Type is BooleanType) { _b.Append(s.Equals("true", StringComparison.OrdinalIgnoreCase) ? true : s.Equals("false", StringComparison.OrdinalIgnoreCase) ? false : throw new CellTypeException(s, "a boolean (true or false)")); return; }
            _b.Append(s);
        }
        public override IArrowArray Build() => _b.Build();
    }
}

/// <summary>A fast parser for the common ISO 8601 shape <c>yyyy-MM-ddTHH:mm:ss[.f…][Z|±hh:mm]</c>.</summary>
static class IsoTimestamp
{
    static int D(char c) => c - '0';
    static bool Digits(ReadOnlySpan<char> s) { foreach (var c in s) if (!char.IsAsciiDigit(c)) return false; return true; }

    public static bool TryParse(ReadOnlySpan<char> s, out long seconds, out int nanos)
    {
        seconds = 0; nanos = 0;
        if (s.Length < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':') return false;
        if (!Digits(s[..4]) || !Digits(s[5..7]) || !Digits(s[8..10]) || !Digits(s[11..13]) || !Digits(s[14..16]) || !Digits(s[17..19])) return false;
        int y = D(s[0]) * 1000 + D(s[1]) * 100 + D(s[2]) * 10 + D(s[3]), mo = D(s[5]) * 10 + D(s[6]), d = D(s[8]) * 10 + D(s[9]);
        int h = D(s[11]) * 10 + D(s[12]), mi = D(s[14]) * 10 + D(s[15]), se = D(s[17]) * 10 + D(s[18]);
        if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > DateTime.DaysInMonth(y, mo) || h > 23 || mi > 59 || se > 59) return false;
        int i = 19;
        if (i < s.Length && s[i] == '.')
        {
            int start = ++i, scale = 100_000_000;
            while (i < s.Length && char.IsAsciiDigit(s[i])) { if (scale > 0) { nanos += D(s[i]) * scale; scale /= 10; } i++; }
            if (i == start) return false;
        }
        int offset = 0;
        if (i < s.Length)
        {
            if (s[i] is 'Z' or 'z' && i + 1 == s.Length) { }
            else if ((s[i] is '+' or '-') && s.Length - i == 6 && s[i + 3] == ':' && Digits(s.Slice(i + 1, 2)) && Digits(s.Slice(i + 4, 2)))
                offset = (s[i] == '-' ? -1 : 1) * ((D(s[i + 1]) * 10 + D(s[i + 2])) * 60 + D(s[i + 4]) * 10 + D(s[i + 5]));
            else return false;
        }
        long days = new DateOnly(y, mo, d).DayNumber - 719_162; // days since 1970-01-01
        seconds = days * 86400 + h * 3600 + mi * 60 + se - offset * 60L;
        return true;
    }
}
