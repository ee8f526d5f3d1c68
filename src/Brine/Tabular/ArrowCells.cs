using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using Apache.Arrow.Arrays;
using Brine.Model;

namespace Brine.Tabular;

/// <summary>
/// Reads one cell of an Arrow array as a boxed row value (the same forms <see cref="ColumnBuilder"/> takes).
/// Recursion here follows the schema's nesting, which <see cref="RowsToTable"/> bounds when it infers one.
/// </summary>
public static class ArrowCells
{
    /// <summary>The marker of a 16-byte fixed-size binary field that holds UUIDs (Arrow's canonical extension name).</summary>
    public const string ExtensionNameKey = "ARROW:extension:name";
    public const string UuidExtension = "arrow.uuid";

    public static Field UuidField(string name, bool nullable = true) =>
        new(name, new FixedSizeBinaryType(16), nullable, new[] { KeyValuePair.Create(ExtensionNameKey, UuidExtension) });

    public static bool IsUuid(Field f) => f.DataType is FixedSizeBinaryType { ByteWidth: 16 } && f.HasMetadata
        && f.Metadata.TryGetValue(ExtensionNameKey, out var n) && n == UuidExtension;

    static readonly int EpochDay = new DateOnly(1970, 1, 1).DayNumber;

    public static object? Get(IArrowArray array, int i, bool uuid = false)
    {
        if (array.IsNull(i)) return null;
        switch (array)
        {
            case Int64Array a: return a.GetValue(i)!.Value;
            case Int32Array a: return (long)a.GetValue(i)!.Value;
            case Int16Array a: return (long)a.GetValue(i)!.Value;
            case Int8Array a: return (long)a.GetValue(i)!.Value;
            case UInt8Array a: return (long)a.GetValue(i)!.Value;
            case UInt16Array a: return (long)a.GetValue(i)!.Value;
            case UInt32Array a: return (long)a.GetValue(i)!.Value;
            case UInt64Array a: { var v = a.GetValue(i)!.Value; return v <= long.MaxValue ? (long)v : (object)new BigInteger(v); }
            case DoubleArray a: return a.GetValue(i)!.Value;
            case FloatArray a: return (double)a.GetValue(i)!.Value;
            case HalfFloatArray a: return (double)a.GetValue(i)!.Value;
            case BooleanArray a: return a.GetValue(i)!.Value;
            case StringArray a: return a.GetString(i);
            case LargeStringArray a: return a.GetString(i);
            case StringViewArray a: return a.GetString(i);
            case BinaryArray a: return a.GetBytes(i).ToArray();
            case LargeBinaryArray a: return a.GetBytes(i).ToArray();
            case BinaryViewArray a: return a.GetBytes(i).ToArray();
            case TimestampArray a: return TimestampOf(a.GetValue(i)!.Value, (TimestampType)a.Data.DataType);
            case Date32Array a: return DateOnly.FromDayNumber(EpochDay + a.GetValue(i)!.Value);
            case Date64Array a: return DateOnly.FromDayNumber(EpochDay + (int)Math.Floor(a.GetValue(i)!.Value / 86_400_000.0));
            case Time32Array a:
                { long v = a.GetValue(i)!.Value; return new TimeOnly(((Time32Type)a.Data.DataType).Unit == TimeUnit.Millisecond ? v * 10_000 : v * 10_000_000); }
            case Time64Array a:
                { long v = a.GetValue(i)!.Value; return new TimeOnly(((Time64Type)a.Data.DataType).Unit == TimeUnit.Nanosecond ? v / 100 : v * 10); }
            case Decimal128Array a: return DecimalOf(a.GetBytes(i), a.Scale);
            case Decimal256Array a: return DecimalOf(a.GetBytes(i), a.Scale);
            case FixedSizeBinaryArray a:
                {
                    var bytes = a.GetBytes(i);
                    return uuid && bytes.Length == 16 ? new Guid(bytes, bigEndian: true) : bytes.ToArray();
                }
            case DictionaryArray a: return Get(a.Dictionary, DictionaryIndex(a, i));
            case MapArray a:
                {
                    // Arrow maps have keys of any type; rows carry string keys, so keys become text.
                    var keys = a.Keys; var values = a.Values;
                    int start = a.GetValueOffset(i), n = a.GetValueLength(i);
                    var map = new Dictionary<string, object?>(n);
                    for (int k = 0; k < n; k++) map[ColumnBuilder.ToText(Get(keys, start + k) ?? "")] = Get(values, start + k);
                    return map;
                }
            case ListArray a:
                {
                    var items = a.Values;
                    int start = a.GetValueOffset(i), n = a.GetValueLength(i);
                    var list = new List<object?>(n);
                    var itemUuid = a.Data.DataType is ListType lt && IsUuid(lt.ValueField);
                    for (int k = 0; k < n; k++) list.Add(Get(items, start + k, itemUuid));
                    return list;
                }
            case LargeListArray a:
                {
                    var items = a.Values;
                    int start = (int)a.ValueOffsets[i], n = (int)(a.ValueOffsets[i + 1] - a.ValueOffsets[i]);
                    var list = new List<object?>(n);
                    for (int k = 0; k < n; k++) list.Add(Get(items, start + k));
                    return list;
                }
            case FixedSizeListArray a:
                {
                    int size = ((FixedSizeListType)a.Data.DataType).ListSize;
                    var list = new List<object?>(size);
                    for (int k = 0; k < size; k++) list.Add(Get(a.Values, (i + a.Offset) * size + k - a.Values.Offset));
                    return list;
                }
            case StructArray a:
                {
                    var type = (StructType)a.Data.DataType;
                    var map = new Dictionary<string, object?>(type.Fields.Count);
                    for (int f = 0; f < type.Fields.Count; f++) map[type.Fields[f].Name] = Get(a.Fields[f], i, IsUuid(type.Fields[f]));
                    return map;
                }
            case NullArray: return null;
            default: throw new BrineUsageException($"Brine cannot read Arrow columns of type {array.Data.DataType.Name}");
        }
    }

    public static int DictionaryIndex(DictionaryArray a, int i) => a.Indices switch
    {
        Int32Array x => x.GetValue(i)!.Value,
        Int8Array x => x.GetValue(i)!.Value,
        Int16Array x => x.GetValue(i)!.Value,
        Int64Array x => (int)x.GetValue(i)!.Value,
        UInt8Array x => x.GetValue(i)!.Value,
        UInt16Array x => x.GetValue(i)!.Value,
        UInt32Array x => (int)x.GetValue(i)!.Value,
        var x => throw new BrineUsageException($"dictionary indices of type {x.Data.DataType.Name} are not supported"),
    };

    public static Timestamp TimestampOf(long v, TimestampType type)
    {
        var t = type.Unit switch
        {
            TimeUnit.Second => new Timestamp(v, 0),
            TimeUnit.Millisecond => Timestamp.FromUnixMilliseconds(v),
            TimeUnit.Microsecond => Timestamp.FromUnixMicroseconds(v),
            _ => Timestamp.FromUnixNanoseconds(v),
        };
        // A zone-less Arrow timestamp is a "naive" local time: keep it without an offset.
        return string.IsNullOrEmpty(type.Timezone) ? new Timestamp(t.UnixSeconds, t.Nanoseconds, null) : t;
    }

    public static DecimalNumber DecimalOf(ReadOnlySpan<byte> littleEndian, int scale) =>
        new(new BigInteger(littleEndian, isUnsigned: false, isBigEndian: false), scale);
}

/// <summary>Writes row values (nested lists and maps included) as compact JSON, for cells of formats that have no nesting (CSV).</summary>
public static class CellJson
{
    public static string Write(object? value)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms)) Write(w, value);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    static void Write(Utf8JsonWriter w, object? v)
    {
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case bool b: w.WriteBooleanValue(b); break;
            case long l: w.WriteNumberValue(l); break;
            case double d when double.IsFinite(d): w.WriteNumberValue(d); break;
            case double d: w.WriteStringValue(d.ToString(CultureInfo.InvariantCulture)); break;
            case BigInteger or DecimalNumber: w.WriteRawValue(v.ToString()!); break;
            case string s: w.WriteStringValue(s); break;
            case byte[] bytes: w.WriteBase64StringValue(bytes); break;
            case List<object?> list:
                w.WriteStartArray();
                foreach (var item in list) Write(w, item);
                w.WriteEndArray();
                break;
            case Dictionary<string, object?> map:
                w.WriteStartObject();
                foreach (var (k, item) in map) { w.WritePropertyName(k); Write(w, item); }
                w.WriteEndObject();
                break;
            default: w.WriteStringValue(ColumnBuilder.ToText(v)); break;
        }
    }
}
