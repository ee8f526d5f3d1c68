using Apache.Arrow;
using Apache.Arrow.Arrays;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Brine.Conversion;
using Brine.Formats;
using Brine.Formats.Arrow;
using Brine.Formats.Avro;
using Brine.IO;
using Brine.Model;
using Brine.Tabular;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Arrow;

public class ArrowTests
{
    /// <summary>A batch with every column type Brine maps, nulls included, built with Apache.Arrow's own builders.</summary>
    internal static RecordBatch AllTypes(int n = 100)
    {
        var i8 = new Int8Array.Builder(); var i16 = new Int16Array.Builder(); var i32 = new Int32Array.Builder(); var i64 = new Int64Array.Builder();
        var u8 = new UInt8Array.Builder(); var u16 = new UInt16Array.Builder(); var u32 = new UInt32Array.Builder(); var u64 = new UInt64Array.Builder();
        var f32 = new FloatArray.Builder(); var f64 = new DoubleArray.Builder(); var b = new BooleanArray.Builder();
        var s = new StringArray.Builder(); var bin = new BinaryArray.Builder();
        var d32 = new Date32Array.Builder(); var ts = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC"));
        var t64 = new Time64Array.Builder(new Time64Type(TimeUnit.Microsecond));
        var dec = new Decimal128Array.Builder(new Decimal128Type(18, 4));
        var list = new ListArray.Builder(Int64Type.Default);
        var listValues = (Int64Array.Builder)list.ValueBuilder;
        for (int i = 0; i < n; i++)
        {
            bool nul = i % 7 == 3;
            if (nul)
            {
                i8.AppendNull(); i16.AppendNull(); i32.AppendNull(); i64.AppendNull(); u8.AppendNull(); u16.AppendNull(); u32.AppendNull(); u64.AppendNull();
                f32.AppendNull(); f64.AppendNull(); b.AppendNull(); s.AppendNull(); bin.AppendNull(); d32.AppendNull(); ts.AppendNull(); t64.AppendNull(); dec.AppendNull(); list.AppendNull();
                continue;
            }
            i8.Append((sbyte)(i - 50)); i16.Append((short)(i * 300 - 20000)); i32.Append(i * 100_000 - 7); i64.Append(long.MaxValue - i);
            u8.Append((byte)i); u16.Append((ushort)(i * 600)); u32.Append(uint.MaxValue - (uint)i); u64.Append((ulong)i * 1_000_000_007UL);
            f32.Append(i / 8f); f64.Append(i * Math.PI); b.Append(i % 2 == 0);
            s.Append($"row {i} – ü"); bin.Append(new byte[] { (byte)i, 1, 2 });
            d32.Append(new DateTime(2024, 2, 28).AddDays(i)); ts.Append(new DateTimeOffset(2024, 5, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(i * 10L));
            t64.Append(i * 1_000_000L); dec.Append(i * 1.2345m);
            list.Append(); for (int k = 0; k < i % 4; k++) listValues.Append(k * i);
        }
        IArrowArray[] arrays = { i8.Build(), i16.Build(), i32.Build(), i64.Build(), u8.Build(), u16.Build(), u32.Build(), u64.Build(), f32.Build(), f64.Build(), b.Build(), s.Build(), bin.Build(), d32.Build(), ts.Build(), t64.Build(), dec.Build(), list.Build() };
        string[] names = { "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "b", "s", "bin", "d32", "ts", "t64", "dec", "list" };
        var schema = new Schema(arrays.Select((a, k) => new Field(names[k], a.Data.DataType, true)), null);
        return new RecordBatch(schema, arrays, n);
    }

    static List<Node> Rows(Stream s)
    {
        using var r = new ArrowFormat().CreateReader(s, ReadOptions.Default);
        return Brine.Tests.Avro.TableRows.Flatten(NodeBuilder.ReadAll(r));
    }

    static List<Node> Rows(RecordBatch batch)
    {
        var ms = new MemoryStream();
        using (var w = new ArrowFileWriter(ms, batch.Schema, leaveOpen: true)) { w.WriteRecordBatch(batch); w.WriteEnd(); }
        ms.Position = 0;
        return Rows(ms);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("lz4")]
    [InlineData("zstd")]
    public void TableRoundTripKeepsEveryType(string compression)
    {
        var batch = AllTypes();
        var ms = new MemoryStream();
        var format = new ArrowFormat();
        using (var w = format.CreateTable(ms, batch.Schema, new TableWriteOptions { Compression = compression })) { w.Write(batch); w.Write(batch); w.Finish(); }
        Assert.True(ms.ToArray().AsSpan().StartsWith("ARROW1"u8));
        ms.Position = 0;
        using var t = format.OpenTable(ms, new TableReadOptions());
        Assert.Equal(batch.Schema.FieldsList.Select(f => f.DataType.TypeId), t.Schema.FieldsList.Select(f => f.DataType.TypeId));
        var expected = Rows(batch);
        int seen = 0;
        while (t.ReadNext() is { } got)
        {
            var rows = Rows(got);
            for (int i = 0; i < rows.Count; i++) Assert.Null(NodeComparer.Difference(expected[i], rows[i]));
            seen++;
        }
        Assert.Equal(2, seen);
        // Apache.Arrow's own reader reads the compressed file too.
        ms.Position = 0;
        using var reader = new ArrowFileReader(ms, Apache.Arrow.Memory.MemoryAllocator.Default.Value, new Apache.Arrow.Compression.CompressionCodecFactory(), leaveOpen: true);
        Assert.Equal(100, reader.ReadNextRecordBatch().Length);
    }

    [Fact]
    public void TokensShowEveryTypeAsModelValues()
    {
        var rows = Rows(AllTypes(10));
        var r = rows[2];
        Assert.Equal(-48L, r["i8"]!.AsInt64);
        Assert.Equal(uint.MaxValue - 2L, r["u32"]!.AsInt64);
        Assert.Equal(0.25, r["f32"]!.Value);
        Assert.Equal("row 2 – ü", r["s"]!.AsString);
        Assert.Equal(new byte[] { 2, 1, 2 }, (byte[])r["bin"]!.Value!);
        Assert.Equal(new DateOnly(2024, 3, 1), r["d32"]!.Value);
        Assert.Equal(new Timestamp(1714521600, 2000), r["ts"]!.Value);
        Assert.Equal(new TimeOnly(0, 0, 2), r["t64"]!.Value);
        Assert.True(((DecimalNumber)r["dec"]!.Value!).ValueEquals(DecimalNumber.Parse("2.469")));
        Assert.Equal(new long[] { 0, 2 }, r["list"]!.Items!.Select(x => x.AsInt64));
        Assert.Equal(TokenKind.Null, rows[3]["s"]!.Kind);
    }

    [Fact]
    public void StructsAndMapsReadAsMaps()
    {
        var structType = new StructType(new List<Field> { new("x", Int32Type.Default, false), new("y", StringType.Default, true) });
        var xs = new Int32Array.Builder().Append(1).Append(2).Build();
        var ys = new StringArray.Builder().Append("a").AppendNull().Build();
        var st = new StructArray(structType, 2, new IArrowArray[] { xs, ys }, ArrowBuffer.Empty, 0);
        var batch = new RecordBatch(new Schema(new[] { new Field("p", structType, false) }, null), new IArrowArray[] { st }, 2);
        var rows = Rows(batch);
        Assert.Equal(1L, rows[0]["p"]!["x"]!.AsInt64);
        Assert.Equal(TokenKind.Null, rows[1]["p"]!["y"]!.Kind);
    }

    [Fact]
    public void ReadsTheStreamFormat()
    {
        var batch = AllTypes(20);
        var ms = new MemoryStream();
        using (var w = new ArrowStreamWriter(ms, batch.Schema, leaveOpen: true)) { w.WriteRecordBatch(batch); w.WriteEnd(); }
        var bytes = ms.ToArray();
        Assert.Same(Converter.Registry.FindByName("arrow"), Converter.Registry.Detect(bytes));
        var rows = Rows(new MemoryStream(bytes));
        var expected = Rows(batch);
        Assert.Equal(expected.Count, rows.Count);
        for (int i = 0; i < rows.Count; i++) Assert.Null(NodeComparer.Difference(expected[i], rows[i]));
    }

    [Fact]
    public void RecordsRoundTripThroughTokens()
    {
        var rows = new List<Node>();
        for (int i = 0; i < 70_000; i++)
        {
            var m = Node.Map();
            m.Add("id", Node.Int(i));
            m.Add("name", Node.String("n" + i));
            m.Add("score", i % 10 == 0 ? Node.Null() : Node.Float(i / 3.0));
            m.Add("ok", Node.Bool(i % 3 == 0));
            m.Add("at", Node.Timestamp(Timestamp.FromUnixMicroseconds(1_700_000_000_000_000L + i)));
            m.Add("day", Node.Date(new DateOnly(2000, 1, 1).AddDays(i % 9000)));
            m.Add("raw", Node.Bytes(new[] { (byte)i }));
            m.Add("amount", Node.Decimal(new DecimalNumber(i, 2)));
            rows.Add(m);
        }
        using var tmp = new TempDir();
        var path = tmp.File("rows.feather");
        Converter.WriteNodes(path, rows);
        var back = Brine.Tests.Avro.TableRows.Read(path);
        Assert.Equal(rows.Count, back.Count);
        var opts = new NodeComparer.Options { NumbersByValue = true };
        for (int i = 0; i < rows.Count; i += 997) Assert.Null(NodeComparer.Difference(rows[i], back[i], opts));
        Assert.Null(NodeComparer.Difference(rows[^1], back[^1], opts));
    }

    [Fact]
    public void AvroToArrowAndBackThroughTables()
    {
        // Table to table: Avro file → Arrow batches → Arrow file → batches → Avro file; Python reads the result.
        using var tmp = new TempDir();
        var weather = TestData.Path_("avro", "data", "weather-deflate.avro");
        var arrowPath = tmp.File("w.arrow");
        using (var input = File.OpenRead(weather))
        using (var t = new AvroFormat().OpenTable(input, new TableReadOptions()))
        using (var o = File.Create(arrowPath))
        using (var w = new ArrowFormat().CreateTable(o, t.Schema, new TableWriteOptions { Compression = "zstd" }))
        {
            while (t.ReadNext() is { } b) w.Write(b);
            w.Finish();
        }
        var avroPath = tmp.File("w.avro");
        using (var input = File.OpenRead(arrowPath))
        using (var t = new ArrowFormat().OpenTable(input, new TableReadOptions()))
        using (var o = File.Create(avroPath))
        using (var w = new AvroFormat().CreateTable(o, t.Schema, new TableWriteOptions()))
        {
            while (t.ReadNext() is { } b) w.Write(b);
            w.Finish();
        }
        var a = Brine.Tests.Avro.TableRows.Read(weather);
        var c = Brine.Tests.Avro.TableRows.Read(avroPath);
        Assert.Equal(a.Count, c.Count);
        for (int i = 0; i < a.Count; i++) Assert.Null(NodeComparer.Difference(a[i], c[i]));
        var py = Python.Run("""
import sys, avro.datafile, avro.io
with open(sys.argv[1], 'rb') as f:
    print(sum(r['temp'] for r in avro.datafile.DataFileReader(f, avro.io.DatumReader())))
""", null, avroPath);
        Assert.Equal("200", py.Trim());
    }

    [Fact]
    public void AllTypesThroughTheAvroTableWriter()
    {
        // Nested Arrow columns (the list) are not mapped by the Avro table writer yet: drop it.
        var all = AllTypes(50);
        var keep = Enumerable.Range(0, all.ColumnCount).Where(i => all.Schema.GetFieldByIndex(i).Name != "list").ToList();
        var batch = new RecordBatch(new Schema(keep.Select(i => all.Schema.GetFieldByIndex(i)), null), keep.Select(i => all.Column(i)), all.Length);
        var ms = new MemoryStream();
        using (var w = new AvroFormat().CreateTable(ms, batch.Schema, new TableWriteOptions { Compression = "snappy" })) { w.Write(batch); w.Finish(); }
        ms.Position = 0;
        using var t = new AvroFormat().OpenTable(ms, new TableReadOptions());
        var got = Rows(t.ReadNext()!);
        var expected = Rows(batch);
        var opts = new NodeComparer.Options { NumbersByValue = true };
        for (int i = 0; i < got.Count; i++)
            foreach (var e in got[i].Entries!)
                Assert.Null(NodeComparer.Difference(expected[i][e.Key.AsString!]!, e.Value, opts));
    }

    [Fact]
    public void GarbageIsAClearError()
    {
        var ex = Assert.Throws<BrineFormatException>(() => Rows(new MemoryStream("ARROW1\0\0garbage that is not arrow"u8.ToArray())));
        Assert.Contains("arrow", ex.Message);
    }
}

public class ArrowCorruptionTests
{
    [Theory]
    [InlineData("none")]
    [InlineData("zstd")]
    public void DamagedFilesFailWithFormatErrorsOnly(string compression)
    {
        var batch = ArrowTests.AllTypes(40);
        var ms = new MemoryStream();
        using (var w = new ArrowFormat().CreateTable(ms, batch.Schema, new TableWriteOptions { Compression = compression })) { w.Write(batch); w.Finish(); }
        var good = ms.ToArray();
        var rng = new Random(11);
        for (int trial = 0; trial < 150; trial++)
        {
            var bad = (byte[])good.Clone();
            if (trial % 5 == 0) bad = bad[..rng.Next(bad.Length)];
            else bad[rng.Next(bad.Length)] ^= (byte)(1 << rng.Next(8));
            try
            {
                using var r = new ArrowFormat().CreateReader(new MemoryStream(bad), ReadOptions.Default);
                while (r.Read()) { }
            }
            catch (BrineFormatException) { }
        }
    }
}
