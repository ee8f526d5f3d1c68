using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace Brine.Tabular.Filtering;

/// <summary>
/// Keeps the selected rows of a record batch (Apache.Arrow for .NET has no compute kernels): fixed-width,
/// string, boolean and dictionary columns are copied directly, other types through <see cref="ColumnBuilder"/>.
/// </summary>
public static class BatchSelection
{
    /// <summary>The rows of <paramref name="batch"/> that match <paramref name="filter"/>: the batch itself when all do,
    /// a new batch when some do, null when none do (the batch is disposed when it is not returned).</summary>
    public static RecordBatch? Filter(RecordBatch batch, BoundFilter filter)
    {
        var mask = filter.Select(batch);
        int kept = 0;
        foreach (var m in mask) if (m) kept++;
        if (kept == batch.Length) return batch;
        var result = kept == 0 ? null : Take(batch, mask);
        batch.Dispose();
        return result;
    }

    public static RecordBatch Take(RecordBatch batch, bool[] mask)
    {
        var rows = new List<int>(batch.Length);
        for (int i = 0; i < mask.Length; i++) if (mask[i]) rows.Add(i);
        var idx = CollectionsMarshal.AsSpan(rows).ToArray();
        var arrays = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < arrays.Length; c++) arrays[c] = Take(batch.Column(c), idx);
        return new RecordBatch(batch.Schema, arrays, idx.Length);
    }

    /// <summary>The batch with only <paramref name="columns"/> (by name, in that order).</summary>
    public static RecordBatch Project(RecordBatch batch, Schema projected)
    {
        var arrays = projected.FieldsList.Select(f => batch.Column(batch.Schema.GetFieldIndex(f.Name))).ToArray();
        return new RecordBatch(projected, arrays, batch.Length);
    }

    public static IArrowArray Take(IArrowArray array, int[] rows)
    {
        var data = array.Data;
        int n = rows.Length;
        var validity = TakeValidity(array, rows, out int nulls);
        switch (data.DataType)
        {
            case FixedWidthType fw and not BooleanType and not DictionaryType and not FixedSizeBinaryType and not Decimal128Type and not Decimal256Type when fw.BitWidth % 8 == 0:
                {
                    int w = fw.BitWidth / 8;
                    var src = data.Buffers[1].Span[(data.Offset * w)..];
                    var dst = new byte[n * w];
                    for (int i = 0; i < n; i++) src.Slice(rows[i] * w, w).CopyTo(dst.AsSpan(i * w));
                    return ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, n, nulls, 0, new[] { validity, new ArrowBuffer(dst) }));
                }
            case FixedSizeBinaryType fb:
                {
                    int w = fb.ByteWidth;
                    var src = data.Buffers[1].Span[(data.Offset * w)..];
                    var dst = new byte[n * w];
                    for (int i = 0; i < n; i++) src.Slice(rows[i] * w, w).CopyTo(dst.AsSpan(i * w));
                    return ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, n, nulls, 0, new[] { validity, new ArrowBuffer(dst) }));
                }
            case StringType or BinaryType:
                {
                    var a = (BinaryArray)array;
                    var offsets = new int[n + 1];
                    var bytes = new GrowBuffer<byte>();
                    for (int i = 0; i < n; i++)
                    {
                        if (!a.IsNull(rows[i])) bytes.AddRange(a.GetBytes(rows[i]));
                        offsets[i + 1] = bytes.Count;
                    }
                    return ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, n, nulls, 0,
                        new[] { validity, new ArrowBuffer(MemoryMarshal.AsBytes(offsets.AsSpan()).ToArray()), bytes.Take() }));
                }
            case BooleanType:
                {
                    var a = (BooleanArray)array;
                    var bits = new byte[(n + 7) / 8];
                    for (int i = 0; i < n; i++) if (a.GetValue(rows[i]) == true) bits[i >> 3] |= (byte)(1 << (i & 7));
                    return ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, n, nulls, 0, new[] { validity, new ArrowBuffer(bits) }));
                }
            case DictionaryType:
                {
                    var a = (DictionaryArray)array;
                    var indices = Take(a.Indices, rows);
                    return ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, n, indices.NullCount, 0,
                        indices.Data.Buffers, System.Array.Empty<ArrayData>(), data.Dictionary));
                }
            default:
                {
                    var b = ColumnBuilder.Create(data.DataType);
                    foreach (var r in rows) b.Append(ArrowCells.Get(array, r));
                    return b.Build();
                }
        }
    }

    static ArrowBuffer TakeValidity(IArrowArray array, int[] rows, out int nulls)
    {
        nulls = 0;
        if (array.NullCount == 0) return ArrowBuffer.Empty;
        var bits = new byte[(rows.Length + 7) / 8];
        for (int i = 0; i < rows.Length; i++)
        {
            if (array.IsValid(rows[i])) bits[i >> 3] |= (byte)(1 << (i & 7));
            else nulls++;
        }
        return nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(bits);
    }
}
