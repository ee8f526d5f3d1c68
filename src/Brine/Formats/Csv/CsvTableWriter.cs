using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using Brine.Model;
using Brine.Tabular;
using nietras.SeparatedValues;

namespace Brine.Formats.Csv;

/// <summary>
/// Writes record batches as CSV with Sep (<c>Escape = true</c>: fields holding the delimiter, quotes or line
/// breaks are quoted, quotes doubled). A header row comes first (<c>header=false</c> leaves it out). Nulls are
/// empty fields; timestamps ISO 8601; bytes base64; nested values JSON text.
/// </summary>
public sealed class CsvTableWriter : TableWriter
{
    readonly StreamWriter _text;
    readonly SepWriter _sep;
    readonly Schema _schema;
    readonly bool[] _uuid;
    bool _finished;

    public CsvTableWriter(Stream output, Schema schema, TableWriteOptions options, string formatName = "csv", char delimiter = ',')
    {
        _schema = schema;
        _uuid = schema.FieldsList.Select(ArrowCells.IsUuid).ToArray();
        var encoding = CsvFormat.EncodingOf(options.Setting("encoding"));
        _text = new StreamWriter(output, encoding, 1 << 16, leaveOpen: true);
        char sep = options.Setting("delimiter") is { Length: 1 } d ? d[0] : options.Setting("delimiter") is "tab" or "\\t" ? '\t' : delimiter;
        _sep = Sep.Writer(o => o with { Sep = new Sep(sep), WriteHeader = false, Escape = true, CultureInfo = CultureInfo.InvariantCulture }).To(_text);
        bool header = options.Setting("header") is not ("false" or "0" or "no");
        if (header && schema.FieldsList.Count > 0)
        {
            using var row = _sep.NewRow();
            for (int c = 0; c < schema.FieldsList.Count; c++) row[c].Set(schema.FieldsList[c].Name);
        }
    }

    public override void Write(RecordBatch batch)
    {
        int columns = batch.ColumnCount;
        if (columns == 0) return;
        var arrays = new IArrowArray[columns];
        for (int c = 0; c < columns; c++) arrays[c] = batch.Column(c);
        for (int i = 0; i < batch.Length; i++)
        {
            using var row = _sep.NewRow();
            for (int c = 0; c < columns; c++) WriteCell(row[c], arrays[c], i, _uuid[c]);
        }
    }

    static void WriteCell(SepWriter.Col col, IArrowArray array, int i, bool uuid)
    {
        if (array.IsNull(i)) { col.Set(ReadOnlySpan<char>.Empty); return; }
        switch (array)
        {
            case StringArray s: col.Set(s.GetString(i)); return;
            case Int64Array a: col.Format(a.GetValue(i)!.Value); return;
            case Int32Array a: col.Format(a.GetValue(i)!.Value); return;
            case DoubleArray a: col.Set(a.GetValue(i)!.Value.ToString("R", CultureInfo.InvariantCulture)); return;
            case BooleanArray a: col.Set(a.GetValue(i)!.Value ? "true" : "false"); return;
            case TimestampArray a when IsoTimestamp(a, i, out var text): col.Set(text); return;
        }
        var v = ArrowCells.Get(array, i, uuid);
        col.Set(v switch
        {
            null => "",
            Timestamp t => t.ToString(),
            DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            TimeOnly t => t.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
            _ => ColumnBuilder.ToText(v),
        });
    }

    [ThreadStatic] static char[]? _iso;

    /// <summary>Formats a timestamp as ISO 8601 without allocating (years 1–9999; others go the general way).</summary>
    static bool IsoTimestamp(TimestampArray a, int i, out ReadOnlySpan<char> text)
    {
        text = default;
        var type = (TimestampType)a.Data.DataType;
        long v = a.GetValue(i)!.Value;
        long ticksPerUnit = type.Unit switch { TimeUnit.Second => TimeSpan.TicksPerSecond, TimeUnit.Millisecond => TimeSpan.TicksPerMillisecond, TimeUnit.Microsecond => 10, _ => 0 };
        if (ticksPerUnit == 0) return false; // nanoseconds need more digits than DateTime keeps
        long max = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / ticksPerUnit, min = -DateTime.UnixEpoch.Ticks / ticksPerUnit;
        if (v > max || v < min) return false;
        var dt = new DateTime(DateTime.UnixEpoch.Ticks + v * ticksPerUnit, DateTimeKind.Utc);
        var buf = _iso ??= new char[40];
        if (!dt.TryFormat(buf, out int n, "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture)) return false;
        if (n > 0 && buf[n - 1] == '.') n--;
        if (!string.IsNullOrEmpty(type.Timezone)) buf[n++] = 'Z';
        text = buf.AsSpan(0, n);
        return true;
    }

    public override void Finish()
    {
        if (_finished) return;
        _finished = true;
        _sep.Flush();
        _sep.Dispose();
        _text.Flush();
    }

    public override void Dispose()
    {
        if (!_finished) { try { _sep.Dispose(); } catch (ObjectDisposedException) { } }
        _text.Dispose();
        base.Dispose();
    }
}
