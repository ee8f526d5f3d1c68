using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;
using Brine.Model;

namespace Brine.Formats.Arrow;

/// <summary>
/// Checks the buffers of a record batch read from a file before anyone indexes them: Apache.Arrow's C# reader
/// takes lengths and offsets on trust (unlike Arrow C++'s <c>Validate()</c>), so a damaged file would otherwise
/// fail later with an index error far from the cause. Checks buffer sizes, offsets (monotone, inside the data)
/// and dictionary indices, walking nested types with an explicit stack.
/// </summary>
internal static class ArrowValidation
{
    public static void Validate(RecordBatch batch, long batchIndex)
    {
        var stack = new Stack<(ArrayData data, string path)>();
        if (batch.ColumnCount != batch.Schema.FieldsList.Count)
            throw new BrineFormatException("arrow", $"record batch {batchIndex}", $"the batch has {batch.ColumnCount} columns, the schema {batch.Schema.FieldsList.Count} (the file is damaged)");
        for (int c = 0; c < batch.ColumnCount; c++)
        {
            var data = batch.Column(c).Data;
            if (data.Length != batch.Length) throw Bad(batchIndex, batch.Schema.GetFieldByIndex(c).Name, $"the column has {data.Length} values, the batch {batch.Length}");
            stack.Push((data, batch.Schema.GetFieldByIndex(c).Name));
        }
        while (stack.Count > 0)
        {
            var (d, path) = stack.Pop();
            long end = (long)d.Offset + d.Length;
            if (d.Offset < 0 || d.Length < 0) throw Bad(batchIndex, path, "negative offset or length");
            if (d.Buffers.Length > 0 && d.NullCount != 0 && !d.Buffers[0].IsEmpty && d.Buffers[0].Length < (end + 7) / 8)
                throw Bad(batchIndex, path, "the validity bitmap is shorter than the values");
            switch (d.DataType)
            {
                case DictionaryType dt:
                {
                    var dict = d.Dictionary ?? throw Bad(batchIndex, path, "a dictionary column has no dictionary");
                    int width = (((FixedWidthType)dt.IndexType).BitWidth + 7) / 8;
                    Need(d, 1, end * width, batchIndex, path);
                    var span = d.Buffers[1].Span;
                    for (long i = d.Offset; i < end; i++)
                    {
                        long idx = width switch
                        {
                            1 => dt.IndexType is UInt8Type ? span[(int)i] : (sbyte)span[(int)i],
                            2 => MemoryMarshal.Read<short>(span[(int)(i * 2)..]),
                            4 => MemoryMarshal.Read<int>(span[(int)(i * 4)..]),
                            _ => MemoryMarshal.Read<long>(span[(int)(i * 8)..]),
                        };
                        if ((idx < 0 || idx >= dict.Length) && !IsNull(d, i)) throw Bad(batchIndex, path, $"dictionary index {idx} is outside the dictionary of {dict.Length}");
                    }
                    stack.Push((dict, path + "(dictionary)"));
                    break;
                }
                case BooleanType:
                    Need(d, 1, (end + 7) / 8, batchIndex, path);
                    break;
                // Dates and times must be representable (DateOnly years 1–9999, a time within one day).
                case Date32Type:
                    Need(d, 1, end * 4, batchIndex, path);
                    Range(d, MemoryMarshal.Cast<byte, int>(d.Buffers[1].Span), -719_162, 2_932_896, "date", batchIndex, path);
                    break;
                case Time32Type t32:
                    Need(d, 1, end * 4, batchIndex, path);
                    Range(d, MemoryMarshal.Cast<byte, int>(d.Buffers[1].Span), 0, t32.Unit == TimeUnit.Second ? 86_399 : 86_399_999, "time of day", batchIndex, path);
                    break;
                case Time64Type t64:
                    Need(d, 1, end * 8, batchIndex, path);
                    Range(d, MemoryMarshal.Cast<byte, long>(d.Buffers[1].Span), 0, t64.Unit == TimeUnit.Nanosecond ? 86_399_999_999_999 : 86_399_999_999, "time of day", batchIndex, path);
                    break;
                case FixedWidthType fw:
                    Need(d, 1, end * ((fw.BitWidth + 7) / 8), batchIndex, path);
                    break;
                case StringType or BinaryType:
                    Offsets32(d, end, d.Buffers.Length > 2 ? d.Buffers[2].Length : 0, batchIndex, path);
                    break;
                case ListType or MapType:
                {
                    if (d.Children is not { Length: 1 }) throw Bad(batchIndex, path, "a list has no child array");
                    Offsets32(d, end, d.Children[0].Length, batchIndex, path);
                    stack.Push((d.Children[0], path + "[]"));
                    break;
                }
                case FixedSizeListType fsl:
                    if (d.Children is not { Length: 1 } || d.Children[0].Length < end * fsl.ListSize) throw Bad(batchIndex, path, "the child array is shorter than the lists");
                    stack.Push((d.Children[0], path + "[]"));
                    break;
                case StructType st:
                    if (d.Children is null || d.Children.Length != st.Fields.Count) throw Bad(batchIndex, path, "a struct's children do not match its fields");
                    for (int i = 0; i < d.Children.Length; i++)
                    {
                        if (d.Children[i].Length < end) throw Bad(batchIndex, path + "." + st.Fields[i].Name, "the field is shorter than the struct");
                        stack.Push((d.Children[i], path + "." + st.Fields[i].Name));
                    }
                    break;
            }
        }
    }

    static bool IsNull(ArrayData d, long i) =>
        d.NullCount != 0 && !d.Buffers[0].IsEmpty && (d.Buffers[0].Span[(int)(i >> 3)] & (1 << (int)(i & 7))) == 0;

    static void Range<T>(ArrayData d, ReadOnlySpan<T> values, long min, long max, string what, long batchIndex, string path) where T : unmanaged, IConvertible
    {
        for (int i = d.Offset; i < d.Offset + d.Length; i++)
        {
            long v = values[i].ToInt64(null);
            if ((v < min || v > max) && !IsNull(d, i)) throw Bad(batchIndex, path, $"{v} is not a valid {what}");
        }
    }

    static void Need(ArrayData d, int buffer, long bytes, long batchIndex, string path)
    {
        if (d.Buffers.Length <= buffer || d.Buffers[buffer].Length < bytes)
            throw Bad(batchIndex, path, $"a {d.DataType.Name} buffer is {(d.Buffers.Length <= buffer ? 0 : d.Buffers[buffer].Length)} bytes, {bytes} needed");
    }

    static void Offsets32(ArrayData d, long end, long limit, long batchIndex, string path)
    {
        if (d.Length == 0) return;
        Need(d, 1, (end + 1) * 4, batchIndex, path);
        var offsets = MemoryMarshal.Cast<byte, int>(d.Buffers[1].Span);
        int prev = offsets[d.Offset];
        if (prev < 0) throw Bad(batchIndex, path, $"negative offset {prev}");
        for (int i = d.Offset + 1; i <= end; i++)
        {
            int o = offsets[i];
            if (o < prev) throw Bad(batchIndex, path, $"offsets decrease at value {i - d.Offset}");
            prev = o;
        }
        if (prev > limit) throw Bad(batchIndex, path, $"offsets reach {prev}, past the {limit} values stored");
    }

    static BrineFormatException Bad(long batch, string column, string detail) =>
        new("arrow", $"record batch {batch}, column '{column}'", detail + " (the file is damaged)");
}
