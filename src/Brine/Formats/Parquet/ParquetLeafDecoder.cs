using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;
using Brine.Model;
using ParquetSharp;

namespace Brine.Formats.Parquet;

/// <summary>
/// Decodes one flat Parquet column chunk with ParquetSharp's physical column reader straight into Arrow arrays,
/// keeping only selected rows: strings are copied as UTF-8 bytes from the page buffers (no .NET strings), and
/// rows before a requested position are skipped, which skips whole pages without decompressing them.
/// Only the pairs of Arrow type and Parquet column that the Arrow reader maps one to one are supported
/// (<see cref="Supports"/>); the values are the ones the Arrow reader would give.
/// </summary>
abstract class ParquetLeafDecoder : IDisposable
{
    protected readonly ColumnReader Reader;
    protected readonly IArrowType Type;
    protected readonly bool Optional;
    protected short[] Def = System.Array.Empty<short>();
    /// <summary>The row of the column chunk the next read starts at.</summary>
    public long Position { get; private set; }

    protected ParquetLeafDecoder(ColumnReader reader, IArrowType type)
    {
        Reader = reader;
        Type = type;
        var d = reader.ColumnDescriptor;
        Optional = d.MaxDefinitionLevel > 0;
    }

    /// <summary>Whether a top-level field read by the Arrow reader as <paramref name="type"/> can be decoded here.</summary>
    public static bool Supports(IArrowType type, ColumnDescriptor d)
    {
        if (d.MaxRepetitionLevel != 0 || d.MaxDefinitionLevel > 1) return false;
        using var logical = d.LogicalType;
        return (type, d.PhysicalType) switch
        {
            (Int64Type, PhysicalType.Int64) => logical is NoneLogicalType || logical is IntLogicalType { BitWidth: 64, IsSigned: true },
            (Int32Type, PhysicalType.Int32) => logical is NoneLogicalType || logical is IntLogicalType { BitWidth: 32, IsSigned: true },
            (DoubleType, PhysicalType.Double) => true,
            (FloatType, PhysicalType.Float) => true,
            (BooleanType, PhysicalType.Boolean) => true,
            (StringType, PhysicalType.ByteArray) => logical is StringLogicalType or NoneLogicalType or JsonLogicalType or EnumLogicalType,
            (BinaryType, PhysicalType.ByteArray) => logical is NoneLogicalType,
            (Date32Type, PhysicalType.Int32) => logical is DateLogicalType,
            // The same unit only: the Arrow reader converts values when the stored Arrow schema asks for another.
            (TimestampType t, PhysicalType.Int64) => logical is TimestampLogicalType ts && (ts.TimeUnit, t.Unit) is
                (ParquetSharp.TimeUnit.Millis, Apache.Arrow.Types.TimeUnit.Millisecond) or
                (ParquetSharp.TimeUnit.Micros, Apache.Arrow.Types.TimeUnit.Microsecond) or
                (ParquetSharp.TimeUnit.Nanos, Apache.Arrow.Types.TimeUnit.Nanosecond),
            _ => false,
        };
    }

    public static ParquetLeafDecoder Create(ColumnReader reader, IArrowType type) => reader switch
    {
        ColumnReader<long> r => new Fixed<long>(r, type),
        ColumnReader<int> r => new Fixed<int>(r, type),
        ColumnReader<double> r => new Fixed<double>(r, type),
        ColumnReader<float> r => new Fixed<float>(r, type),
        ColumnReader<bool> r => new Bools(r, type),
        ColumnReader<ByteArray> r => new Bytes(r, type),
        _ => throw new InvalidOperationException("unsupported Parquet column " + reader.Type),
    };

    /// <summary>Moves to <paramref name="row"/> (forward only).</summary>
    public void SkipTo(long row)
    {
        while (Position < row)
        {
            long skipped = Reader.Skip(row - Position);
            if (skipped <= 0) throw Truncated();
            Position += skipped;
        }
    }

    /// <summary>Reads the next <paramref name="n"/> rows and returns those listed in <paramref name="rows"/>
    /// (ascending offsets from the current position; null for all). With <paramref name="scratch"/>, the array may
    /// share this decoder's buffers: it is valid until the next read only and must not leave the scan.</summary>
    public IArrowArray Read(int n, int[]? rows, bool scratch = false)
    {
        var a = ReadCore(n, rows, scratch && rows is null);
        Position += n;
        return a;
    }

    protected abstract IArrowArray ReadCore(int n, int[]? rows, bool scratch);

    /// <summary>
    /// For a filter on this column alone: reads the next <paramref name="n"/> rows and returns the offsets of those
    /// whose value passes, with <paramref name="select"/> (the filter over a one-column array) called on the distinct
    /// values only. Null when the column type does not do this (then read the values and filter them).
    /// </summary>
    public int[]? SelectRows(int n, Func<IArrowArray, int[]> select)
    {
        var rows = SelectCore(n, select);
        if (rows is not null) Position += n;
        return rows;
    }

    protected virtual int[]? SelectCore(int n, Func<IArrowArray, int[]> select) => null;

    /// <summary>Rows to decode: up to the last kept one (the rest are skipped, whole pages without decompressing).</summary>
    static int Needed(int n, int[]? rows) => rows is null ? n : rows.Length == 0 ? 0 : rows[^1] + 1;

    void SkipRest(int rows)
    {
        for (long left = rows; left > 0;)
        {
            long skipped = Reader.Skip(left);
            if (skipped <= 0) throw Truncated();
            left -= skipped;
        }
    }

    /// <summary>Reads the next <paramref name="rows"/> rows' levels and values (packed: nulls take none); returns the values read.</summary>
    protected int ReadRows<TValue>(ColumnReader<TValue> reader, int rows, Span<short> def, Span<TValue> values) where TValue : unmanaged
    {
        int done = 0, count = 0;
        while (done < rows)
        {
            long levels = reader.ReadBatch(rows - done, Optional ? def[done..] : default, default, values.Slice(count, rows - done), out long read);
            if (levels <= 0) throw Truncated();
            done += (int)levels;
            count += (int)read;
        }
        return count;
    }

    protected static BrineFormatException Truncated() =>
        new("parquet", "", "a column chunk holds fewer values than its row group's row count");

    protected Span<short> Levels(int n)
    {
        if (!Optional) return default;
        Grow(ref Def, n, keep: false);
        return Def.AsSpan(0, n);
    }

    /// <summary>Scratch arrays come from the shared pool and go back when the decoder is disposed (after its row
    /// group): fresh ones per row group would be large-object-heap garbage, and gen-2 collections.</summary>
    protected static void Grow<T>(ref T[] a, int min, bool keep)
    {
        if (a.Length >= min) return;
        var b = ArrayPool<T>.Shared.Rent(Math.Max(min, a.Length * 2));
        if (keep) a.AsSpan().CopyTo(b);
        if (a.Length > 0) ArrayPool<T>.Shared.Return(a);
        a = b;
    }

    protected static void Release<T>(ref T[] a)
    {
        if (a.Length > 0) ArrayPool<T>.Shared.Return(a);
        a = System.Array.Empty<T>();
    }

    /// <summary>Validity bits of the kept rows given the definition levels of all n rows; empty when none is null.</summary>
    protected ArrowBuffer Validity(int n, int[]? rows, out int nulls)
    {
        nulls = 0;
        if (!Optional) return ArrowBuffer.Empty;
        int count = rows?.Length ?? n;
        for (int i = 0; i < count; i++) if (Def[rows is null ? i : rows[i]] == 0) nulls++;
        if (nulls == 0) return ArrowBuffer.Empty;
        var bits = new byte[(count + 7) / 8];
        for (int i = 0; i < count; i++)
            if (Def[rows is null ? i : rows[i]] != 0) bits[i >> 3] |= (byte)(1 << (i & 7));
        return new ArrowBuffer(bits);
    }

    public virtual void Dispose()
    {
        Release(ref Def);
        Reader.Dispose();
    }

    /// <summary>Fixed-width values (integers, floats, dates, timestamps): all n rows are read, then the kept ones gathered.</summary>
    sealed class Fixed<T>(ColumnReader<T> reader, IArrowType type) : ParquetLeafDecoder(reader, type) where T : unmanaged
    {
        byte[] _raw = System.Array.Empty<byte>();  // reused: large buffers would churn the large-object heap

        protected override IArrowArray ReadCore(int n, int[]? rows, bool scratch)
        {
            int width = Unsafe.SizeOf<T>();
            Grow(ref _raw, n * width, keep: false);
            var all = MemoryMarshal.Cast<byte, T>(_raw.AsSpan(0, n * width));
            var def = Levels(n);
            int need = Needed(n, rows);
            int values = ReadRows(reader, need, def, all);
            SkipRest(n - need);
            int count = rows?.Length ?? n;
            var validity = Validity(n, rows, out int nulls);
            if (scratch && values == n)
                return ArrowArrayFactory.BuildArray(new ArrayData(Type, n, 0, 0, new[] { validity, new ArrowBuffer(_raw.AsMemory(0, n * width)) }));
            var bytes = new byte[count * width];
            var dst = MemoryMarshal.Cast<byte, T>(bytes.AsSpan());
            if (values == need)
            {
                if (rows is null) all[..n].CopyTo(dst);
                else for (int i = 0; i < count; i++) dst[i] = all[rows[i]];
            }
            else
            {
                // Values are packed (nulls take none): walk the rows with a value cursor.
                int v = 0, k = 0;
                for (int r = 0; r < need && k < count; r++)
                {
                    bool present = def[r] != 0;
                    if (rows is null || rows[k] == r) { if (present) dst[k] = all[v]; k++; }
                    if (present) v++;
                }
            }
            return ArrowArrayFactory.BuildArray(new ArrayData(Type, count, nulls, 0, new[] { validity, new ArrowBuffer(bytes) }));
        }

        public override void Dispose() { Release(ref _raw); base.Dispose(); }
    }

    sealed class Bools(ColumnReader<bool> reader, IArrowType type) : ParquetLeafDecoder(reader, type)
    {
        bool[] _values = System.Array.Empty<bool>();

        protected override IArrowArray ReadCore(int n, int[]? rows, bool scratch)
        {
            Grow(ref _values, n, keep: false);
            var def = Levels(n);
            int need = Needed(n, rows);
            ReadRows(reader, need, def, _values.AsSpan());
            SkipRest(n - need);
            int count = rows?.Length ?? n;
            var validity = Validity(n, rows, out int nulls);
            var bits = new byte[(count + 7) / 8];
            int v = 0, k = 0;
            for (int r = 0; r < need && k < count; r++)
            {
                bool present = !Optional || def[r] != 0;
                if (rows is null || rows[k] == r) { if (present && _values[v]) bits[k >> 3] |= (byte)(1 << (k & 7)); k++; }
                if (present) v++;
            }
            return ArrowArrayFactory.BuildArray(new ArrayData(Type, count, nulls, 0, new[] { validity, new ArrowBuffer(bits) }));
        }

        public override void Dispose() { Release(ref _values); base.Dispose(); }
    }

    /// <summary>Strings and binaries: each read returns pointers into the current page (or its dictionary), valid
    /// until the next read, so the kept values are copied right away.</summary>
    sealed class Bytes(ColumnReader<ByteArray> reader, IArrowType type) : ParquetLeafDecoder(reader, type)
    {
        ByteArray[] _values = System.Array.Empty<ByteArray>();
        byte[] _data = System.Array.Empty<byte>();
        byte[] _offsets = System.Array.Empty<byte>();

        protected override unsafe IArrowArray ReadCore(int n, int[]? rows, bool scratch)
        {
            Grow(ref _values, n, keep: false);
            var def = Levels(n);
            int count = rows?.Length ?? n;
            if (scratch) Grow(ref _offsets, (n + 1) * 4, keep: false);
            var offsetBytes = scratch ? _offsets : new byte[(count + 1) * 4];
            var offsets = MemoryMarshal.Cast<byte, int>(offsetBytes.AsSpan());
            offsets[0] = 0;
            int need = Needed(n, rows), size = 0, done = 0, k = 0;
            while (done < need)
            {
                long levels = reader.ReadBatch(need - done, Optional ? def[done..] : default, default, _values.AsSpan(0, need - done), out long read);
                if (levels <= 0) throw Truncated();
                int end = done + (int)levels, v = 0;
                if (!Optional)
                {
                    // No nulls: row r holds value r - done; only the kept rows are visited.
                    int first = k, last = k;
                    if (rows is null) last = k + (end - done);
                    else while (last < count && rows[last] < end) last++;
                    int total = size;
                    for (int j = first; j < last; j++) total += _values[(rows is null ? j : rows[j]) - done].Length;
                    Grow(ref _data, total, keep: true);
                    fixed (byte* dst = _data)
                    fixed (ByteArray* src = _values)
                        for (int j = first; j < last; j++)
                        {
                            var b = src[(rows is null ? j : rows[j]) - done];
                            Buffer.MemoryCopy((void*)b.Pointer, dst + size, b.Length, b.Length);
                            size += b.Length;
                            offsets[j + 1] = size;
                        }
                    k = last;
                    done = end;
                    continue;
                }
                for (int r = done; r < end && k < count; r++)
                {
                    bool present = !Optional || def[r] != 0;
                    if (rows is null || rows[k] == r)
                    {
                        if (present)
                        {
                            var b = _values[v];
                            if (size + b.Length > _data.Length) Grow(ref _data, Math.Max(size + b.Length, 1 << 16), keep: true);
                            new ReadOnlySpan<byte>((void*)b.Pointer, b.Length).CopyTo(_data.AsSpan(size));
                            size += b.Length;
                        }
                        offsets[++k] = size;
                    }
                    if (present) v++;
                }
                done = end;
            }
            SkipRest(n - need);
            var validity = Validity(n, rows, out int nulls);
            var data = scratch
                ? new ArrayData(Type, count, nulls, 0, new[] { validity, new ArrowBuffer(offsetBytes.AsMemory(0, (n + 1) * 4)), new ArrowBuffer(_data.AsMemory(0, size)) })
                : new ArrayData(Type, count, nulls, 0, new[] { validity, new ArrowBuffer(offsetBytes), new ArrowBuffer(_data.AsSpan(0, size).ToArray()) });
            return ArrowArrayFactory.BuildArray(data);
        }

        int[] _slots = System.Array.Empty<int>();
        int[] _rows = System.Array.Empty<int>();
        nint[] _keys = System.Array.Empty<nint>();
        int[] _keySlots = System.Array.Empty<int>();
        int[] _keyLengths = System.Array.Empty<int>();
        int[] _used = System.Array.Empty<int>();

        int[] _direct = System.Array.Empty<int>();         // slot + 1 by offset from the page's lowest pointer; 0 = none
        int[] _directLengths = System.Array.Empty<int>();
        readonly List<int> _directUsed = new();

        const int TableSize = 8192, MaxHashed = 4096, DirectSize = 1 << 16;

        /// <summary>
        /// Values decoded from a dictionary page point into the dictionary, so one pointer and length is one distinct
        /// value (an empty value may share its pointer with the next): rows are mapped to slots by them (a small hash table, cleared for every page since plain pages reuse their
        /// buffers), each slot's bytes copied once, and the filter evaluated once per slot. Columns with mostly
        /// distinct values stop hashing after <see cref="MaxHashed"/> slots and give each further value its own.
        /// </summary>
        protected override unsafe int[]? SelectCore(int n, Func<IArrowArray, int[]> select)
        {
            Grow(ref _values, n, keep: false);
            Grow(ref _slots, n, keep: false);
            // The tables are cleared when rented and kept clear: each page's entries are removed after it.
            if (_keys.Length < TableSize) { Grow(ref _keys, TableSize, keep: false); _keys.AsSpan().Clear(); }
            Grow(ref _keySlots, TableSize, keep: false);
            Grow(ref _keyLengths, TableSize, keep: false);
            Grow(ref _used, MaxHashed, keep: false);
            Grow(ref _offsets, 4 * 1024, keep: false);
            var def = Levels(n);
            int distinct = 0, size = 0, done = 0, nullSlot = -1, emptySlot = -1, used = 0, nulls = 0;
            while (done < n)
            {
                long levels = reader.ReadBatch(n - done, Optional ? def[done..] : default, default, _values.AsSpan(0, n - done), out long read);
                if (levels <= 0) throw Truncated();
                int end = done + (int)levels, v = 0;
                // A new page may reuse the previous one's buffer: forget its pointers.
                for (int u = 0; u < used; u++) _keys[_used[u]] = 0;
                used = 0;
                // Values of a dictionary page point into its small dictionary: slots are then found by offset
                // from the lowest pointer in a direct table, else by hashing (while few), else not shared.
                nint low = nint.MaxValue, high = 0;
                bool empties = false;
                fixed (ByteArray* vals = _values)
                    for (int i = 0; i < read; i++)
                    {
                        nint p = vals[i].Pointer;
                        bool empty = vals[i].Length == 0;
                        empties |= empty;
                        low = Math.Min(low, empty ? low : p);
                        high = Math.Max(high, empty ? high : p);
                    }
                bool direct = read > 0 && high >= low && high - low < DirectSize;
                if (direct)
                {
                    if (_direct.Length < DirectSize) { Grow(ref _direct, DirectSize, keep: false); _direct.AsSpan().Clear(); }
                    Grow(ref _directLengths, DirectSize, keep: false);
                    if (read == levels && !empties)
                    {
                        // The common case (a dictionary page without nulls or empty values) in a tight loop.
                        MapDirect((int)levels, _slots.AsSpan(done), low, ref distinct, ref size);
                        done = end;
                        continue;
                    }
                }
                fixed (ByteArray* vals = _values)
                fixed (int* slots = _slots, table = _direct, lengths = _directLengths)
                    for (int r = done; r < end; r++)
                    {
                        int slot;
                        if (Optional && def[r] == 0)
                        {
                            if (nullSlot < 0) { nullSlot = AddSlot(ref distinct, size); nulls = 1; }
                            slots[r] = nullSlot;
                            continue;
                        }
                        var b = vals[v++];
                        if (b.Length == 0)
                        {
                            // Empty values may share their pointer with the next value: one slot for all.
                            if (emptySlot < 0) emptySlot = AddSlot(ref distinct, size);
                            slots[r] = emptySlot;
                            continue;
                        }
                        int h = -1;
                        if (direct)
                        {
                            int off = (int)(b.Pointer - low);
                            if (table[off] != 0 && lengths[off] == b.Length) { slots[r] = table[off] - 1; continue; }
                            h = off;
                        }
                        else if (distinct < MaxHashed)
                        {
                            h = (int)(((ulong)b.Pointer * 0x9E3779B97F4A7C15UL) >> 51); // 13 bits: TableSize
                            while (_keys[h] != 0 && (_keys[h] != b.Pointer || _keyLengths[h] != b.Length)) h = (h + 1) & (TableSize - 1);
                            if (_keys[h] != 0) { slots[r] = _keySlots[h]; continue; }
                        }
                        if (size + b.Length > _data.Length) Grow(ref _data, Math.Max(size + b.Length, 1 << 16), keep: true);
                        new ReadOnlySpan<byte>((void*)b.Pointer, b.Length).CopyTo(_data.AsSpan(size));
                        size += b.Length;
                        slot = AddSlot(ref distinct, size);
                        if (direct) { table[h] = slot + 1; lengths[h] = b.Length; _directUsed.Add(h); }
                        else if (h >= 0) { _keys[h] = b.Pointer; _keyLengths[h] = b.Length; _keySlots[h] = slot; _used[used++] = h; }
                        slots[r] = slot;
                    }
                if (direct)
                {
                    foreach (int off in _directUsed) _direct[off] = 0;
                    _directUsed.Clear();
                }
                done = end;
            }
            // The distinct values as one array (with a null entry when there were nulls), filtered once.
            var validity = ArrowBuffer.Empty;
            if (nulls > 0)
            {
                var bits = new byte[(distinct + 7) / 8];
                for (int i = 0; i < distinct; i++) if (i != nullSlot) bits[i >> 3] |= (byte)(1 << (i & 7));
                validity = new ArrowBuffer(bits);
            }
            var values = ArrowArrayFactory.BuildArray(new ArrayData(Type, distinct, nulls, 0, new[]
            {
                validity, new ArrowBuffer(_offsets.AsMemory(0, (distinct + 1) * 4)), new ArrowBuffer(_data.AsMemory(0, size)),
            }));
            var passing = select(values);
            if (passing.Length == 0) return passing;
            var pass = new int[distinct];
            foreach (var p in passing) pass[p] = 1;
            // Without branches: which rows pass is as unpredictable as the data.
            int kept = 0;
            Grow(ref _rows, n, keep: false);
            fixed (int* slots = _slots, passes = pass, rows = _rows)
                for (int r = 0; r < n; r++)
                {
                    rows[kept] = r;
                    kept += passes[slots[r]];
                }
            return _rows.AsSpan(0, kept).ToArray();
        }

        /// <summary>Slots of <paramref name="count"/> non-null, non-empty values of one page whose pointers are all
        /// within <see cref="DirectSize"/> bytes of <paramref name="low"/>.</summary>
        unsafe void MapDirect(int count, Span<int> slots, nint low, ref int distinct, ref int size)
        {
            fixed (ByteArray* vals = _values)
            fixed (int* table = _direct, lengths = _directLengths, dst = slots)
            {
                for (int i = 0; i < count; i++)
                {
                    var b = vals[i];
                    int off = (int)(b.Pointer - low);
                    int known = table[off];
                    if (known != 0 && lengths[off] == b.Length) { dst[i] = known - 1; continue; }
                    if (size + b.Length > _data.Length) Grow(ref _data, Math.Max(size + b.Length, 1 << 16), keep: true);
                    new ReadOnlySpan<byte>((void*)b.Pointer, b.Length).CopyTo(_data.AsSpan(size));
                    size += b.Length;
                    int slot = AddSlot(ref distinct, size);
                    table[off] = slot + 1;
                    lengths[off] = b.Length;
                    _directUsed.Add(off);
                    dst[i] = slot;
                }
            }
            foreach (int off in _directUsed) _direct[off] = 0;
            _directUsed.Clear();
        }

        /// <summary>Opens the next slot, whose value ends at <paramref name="end"/> in the data buffer.</summary>
        int AddSlot(ref int distinct, int end)
        {
            if ((distinct + 2) * 4 > _offsets.Length) Grow(ref _offsets, (distinct + 2) * 8, keep: true);
            var offsets = MemoryMarshal.Cast<byte, int>(_offsets.AsSpan());
            if (distinct == 0) offsets[0] = 0;
            offsets[distinct + 1] = end;
            return distinct++;
        }

        public override void Dispose()
        {
            Release(ref _values); Release(ref _data); Release(ref _offsets);
            Release(ref _slots); Release(ref _rows); Release(ref _keys); Release(ref _keySlots); Release(ref _keyLengths); Release(ref _used);
            Release(ref _direct); Release(ref _directLengths);
            base.Dispose();
        }
    }
}
