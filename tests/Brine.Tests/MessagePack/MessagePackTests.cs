using Xunit;
using System.Numerics;
using System.Text;
using Brine.Formats;
using Brine.Formats.MessagePack;
using Brine.Model;
using Brine.Tests.Support;
using MessagePack;

namespace Brine.Tests.MessagePack;

public class MessagePackTests
{
    static readonly MessagePackFormat Format = new();

    static Node Tagged(Node n, string tag) { n.Tag = tag; return n; }

    /// <summary>Every kind MessagePack carries natively, with edge values of each encoding.</summary>
    static Node Sample()
    {
        var m = Node.Map();
        m.Add("nil", Node.Null());
        m.Add("t", Node.Bool(true)).Add("f", Node.Bool(false));
        m.Add("ints", Node.List(Node.Int(0), Node.Int(127), Node.Int(128), Node.Int(-32), Node.Int(-33), Node.Int(65536), Node.Int(long.MinValue), Node.Int(long.MaxValue)));
        m.Add("u64", Node.Int(BigInteger.Parse("18446744073709551615")));
        m.Add("floats", Node.List(Node.Float(0.5), Node.Float(-1e300), Node.Float(double.PositiveInfinity)));
        m.Add("str", Node.String("héllo ✓ 🍺"));
        m.Add("long", Node.String(new string('x', 70_000)));
        m.Add("bin", Node.Bytes(new byte[] { 0, 1, 255 }));
        m.Add("ext", Tagged(Node.Bytes(new byte[] { 1, 2, 3 }), "msgpack.ext:5"));
        m.Add("ts32", Node.Timestamp(new Timestamp(1514862245, 0)));
        m.Add("ts64", Node.Timestamp(new Timestamp(1514862245, 678901234)));
        m.Add("ts96", Node.Timestamp(new Timestamp(-62135596800, 1)));
        m.Add("nested", Node.List(Node.Map(), Node.List(Node.List()), Node.Map().Add("k", Node.List(Node.Int(1)))));
        m.Add(Node.Int(7), Node.String("int key"));
        return m;
    }

    /// <summary>The same data as a Python literal (msgpack.Timestamp and ExtType for the extension values).</summary>
    const string PythonSample = """
        {'nil': None, 't': True, 'f': False,
         'ints': [0, 127, 128, -32, -33, 65536, -9223372036854775808, 9223372036854775807],
         'u64': 18446744073709551615,
         'floats': [0.5, -1e300, float('inf')],
         'str': 'héllo ✓ 🍺', 'long': 'x' * 70000, 'bin': b'\x00\x01\xff',
         'ext': msgpack.ExtType(5, b'\x01\x02\x03'),
         'ts32': msgpack.Timestamp(1514862245, 0), 'ts64': msgpack.Timestamp(1514862245, 678901234),
         'ts96': msgpack.Timestamp(-62135596800, 1),
         'nested': [{}, [[]], {'k': [1]}], 7: 'int key'}
        """;

    [Fact]
    public void PythonReadsWhatBrineWrites()
    {
        var bytes = BinaryCodec.Encode(Format, Sample(), Node.String("second record"));
        var script = "import sys, msgpack\nexpected = " + PythonSample + "\n" + """
            u = msgpack.Unpacker(raw=False, timestamp=0, strict_map_key=False)
            u.feed(sys.stdin.buffer.read())
            got = list(u)
            assert got[0] == expected, repr(got[0])[:2000]
            assert got[1:] == ['second record'], got[1:]
            print('ok')
            """;
        Assert.Equal("ok", Python.Run(script, bytes).Trim());
    }

    [Fact]
    public void BrineReadsWhatPythonWrites()
    {
        var script = "import sys, msgpack\nexpected = " + PythonSample + "\n" +
                     "sys.stdout.buffer.write(msgpack.packb(expected, use_bin_type=True) + msgpack.packb('second record'))";
        var bytes = Python.RunBytes(script);
        var values = BinaryCodec.Decode(Format, bytes);
        Assert.Equal(2, values.Count);
        Assert.Null(NodeComparer.Difference(Sample(), values[0]));
        Assert.Equal("second record", values[1].AsString);
    }

    [Fact]
    public void PythonDatetimesAreTimestamps()
    {
        var bytes = Python.RunBytes("""
            import sys, msgpack, datetime
            d = datetime.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=datetime.timezone.utc)
            sys.stdout.buffer.write(msgpack.packb([d], datetime=True))
            """);
        var v = BinaryCodec.DecodeOne(Format, bytes);
        Assert.Equal(TokenKind.Timestamp, v[0].Kind);
        Assert.Equal("2024-05-01T12:30:15.123456Z", v[0].Value!.ToString());
    }

    [Fact]
    public void UnknownCountContainersGetTheSmallestHeaders()
    {
        // A writer fed without counts (like a JSON reader) must still produce the smallest encoding.
        var ms = new MemoryStream();
        using (var w = Format.CreateWriter(new BinaryCodec.ForwardOnlyStream(ms), WriteOptions.Default))
        {
            w.StartMap(-1);
            w.WriteString("a"); w.StartList(-1); w.WriteInt(1); w.StartList(-1); w.EndList(); w.EndList();
            w.WriteString("b"); w.StartMap(2); w.WriteString("x"); w.WriteInt(1); w.WriteString("y"); w.StartList(-1); w.WriteInt(2); w.EndList(); w.EndMap();
            w.EndMap();
            w.StartList(-1); for (int i = 0; i < 20; i++) w.WriteInt(i); w.EndList();
            w.Finish();
        }
        Assert.Equal("82a161920190a16282a17801a1799102" + "dc0014" + string.Concat(Enumerable.Range(0, 20).Select(i => i.ToString("x2"))), BinaryCodec.ToHex(ms.ToArray()));
    }

    [Fact]
    public void DeepUnknownCountNestingIsLinear()
    {
        const int depth = 200_000;
        var ms = new MemoryStream();
        using (var w = Format.CreateWriter(ms, WriteOptions.Default))
        {
            w.StartMap(-1); w.WriteString("deep");
            for (int i = 0; i < depth; i++) w.StartList(-1);
            w.WriteInt(1);
            for (int i = 0; i < depth; i++) w.EndList();
            w.EndMap();
            w.Finish();
        }
        var bytes = ms.ToArray();
        Assert.Equal(depth + 7, bytes.Length);
        using var r = Format.CreateReader(new MemoryStream(bytes), ReadOptions.Default);
        int maxDepth = 0, d = 0;
        while (r.Read()) { if (r.Kind.IsStart()) maxDepth = Math.Max(maxDepth, ++d); else if (r.Kind.IsEnd()) d--; }
        Assert.Equal(depth + 1, maxDepth);
        Assert.Equal(0, d);
    }

    [Fact]
    public void MillionDeepInputDoesNotOverflowTheStack()
    {
        var bytes = new byte[1_000_001];
        bytes.AsSpan(0, 1_000_000).Fill(0x91);
        bytes[^1] = 0x01;
        var root = BinaryCodec.DecodeOne(Format, bytes);
        Assert.True(root.IsList);
    }

    [Fact]
    public void HugeTopLevelArrayStreamsBothWays()
    {
        using var dir = new TempDir();
        var path = dir.File("big.msgpack");
        const int n = 1_000_000;
        // Written without a count, to a seekable file: array32 header patched at the end, nothing buffered.
        using (var fs = File.Create(path))
        using (var w = (MessagePackTokenWriter)Format.CreateWriter(fs, WriteOptions.Default))
        {
            w.StartList(-1);
            for (int i = 0; i < n; i++) { w.StartMap(1); w.WriteString("id"); w.WriteInt(i); w.EndMap(); }
            w.EndList();
            w.Finish();
            Assert.True(w.BufferedBytes < 1 << 17, $"the writer held {w.BufferedBytes} bytes");
        }
        using var r = (MessagePackTokenReader)Format.CreateReader(File.OpenRead(path), ReadOptions.Default);
        Assert.True(r.Read());
        Assert.Equal(TokenKind.StartList, r.Kind);
        Assert.Equal(n, r.Count);
        long sum = 0, items = 0;
        while (r.Read())
        {
            if (r.Kind == TokenKind.Int) { sum += r.Int64Value; items++; }
        }
        Assert.Equal(n, items);
        Assert.Equal((long)n * (n - 1) / 2, sum);
        Assert.True(r.WindowBytes <= 1 << 16, $"the reader's window grew to {r.WindowBytes} bytes");
        // The patched header is an ordinary array32 to another decoder.
        Assert.Equal(n.ToString(), Python.Run("import sys, msgpack\nprint(len(msgpack.unpackb(open(sys.argv[1], 'rb').read())))", null, path).Trim());
    }

    [Fact]
    public void LargeStringsGrowTheWindowOnlyAsNeeded()
    {
        var s = new string('é', 300_000);
        var bytes = BinaryCodec.Encode(Format, Node.List(Node.String(s), Node.Bytes(new byte[200_000])));
        var back = BinaryCodec.DecodeOne(Format, bytes);
        Assert.Equal(s, back[0].AsString);
        Assert.Equal(200_000, ((byte[])back[1].Value!).Length);
    }

    [Fact]
    public void TruncatedInputNamesTheByteOffset()
    {
        var bytes = BinaryCodec.Encode(Format, Node.List(Node.Int(1), Node.String("hello world")));
        var e = Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Decode(Format, bytes[..^3]));
        Assert.Contains("byte 2", e.Message);
        Assert.Contains("truncated", e.Message);
        var e2 = Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Decode(Format, bytes[..2]));
        Assert.Contains("end of input", e2.Message);
    }

    [Fact]
    public void InvalidInputIsAClearError()
    {
        Assert.Contains("0xc1", Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Decode(Format, new byte[] { 0x91, 0xc1 })).Message);
        Assert.Contains("UTF-8", Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Decode(Format, new byte[] { 0xa2, 0xff, 0xfe })).Message);
        Assert.Contains("timestamp", Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Decode(Format, new byte[] { 0xd5, 0xff, 0, 0 })).Message);
        Assert.Contains("limit", Assert.ThrowsAny<BrineLimitException>(() => BinaryCodec.Decode(Format, BinaryCodec.Encode(Format, Node.String(new string('a', 5000))), new ReadOptions { MaxValueBytes = 1000 })).Message);
    }

    [Fact]
    public void DocumentedLosses()
    {
        var src = Node.List(
            Node.Decimal(DecimalNumber.Parse("0.1")),
            Node.Decimal(DecimalNumber.Parse("3.14159265358979323846264338327950288")),
            Node.Date(new DateOnly(2024, 5, 1)),
            Node.Time(new TimeOnly(13, 45, 30, 250)),
            Node.Uuid(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e")),
            Node.Timestamp(new Timestamp(1714566000, 5, 120)),
            Tagged(Node.Map().Add("name", Node.String("Ann")), "models.User"));
        var back = BinaryCodec.DecodeOne(Format, BinaryCodec.Encode(Format, src));
        Assert.Equal(0.1, back[0].Value);
        Assert.Equal("3.14159265358979323846264338327950288", back[1].AsString);
        Assert.Equal("2024-05-01", back[2].AsString);
        Assert.Equal("13:45:30.25", back[3].AsString);
        Assert.Equal("0f8fad5b-d9cb-469f-a165-70867728950e", back[4].AsString);
        Assert.Equal(new Timestamp(1714566000, 5, 0), back[5].Value);
        Assert.Null(back[6].Tag);
        Assert.Equal("Ann", back[6]["name"]!.AsString);
    }

    [Fact]
    public void IntegersBeyond64BitsAreRefusedWithThePath()
    {
        var src = Node.Map().Add("a", Node.List(Node.Int(1), Node.Int(BigInteger.Pow(2, 70))));
        var e = Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Encode(Format, src));
        Assert.Contains("$.a[1]", e.Message);
        Assert.Contains("64 bits", e.Message);
    }

    [Fact]
    public void SharedNodesAreExpanded()
    {
        var shared = Node.List(Node.Int(1));
        var src = Node.List(shared, shared);
        var back = BinaryCodec.DecodeOne(Format, BinaryCodec.Encode(Format, new[] { src }, expand: true));
        Assert.Null(NodeComparer.Difference(src, back));
    }

    [Fact]
    public void ToStringUtf8IsCopiedAsIs()
    {
        var ms = new MemoryStream();
        using (var w = Format.CreateWriter(ms, WriteOptions.Default))
        {
            w.WriteStringUtf8("ключ"u8);
            w.Finish();
        }
        Assert.Equal("a8" + Convert.ToHexString("ключ"u8).ToLowerInvariant(), BinaryCodec.ToHex(ms.ToArray()));
    }

    [Fact]
    public void RegisteredAndDetected()
    {
        var reg = FormatRegistry.Default;
        Assert.Same(reg.GetByName("msgpack"), reg.GetByName("messagepack"));
        Assert.Equal("msgpack", reg.FindByPath("x.mpk")!.Name);
        Assert.Equal("msgpack", reg.FindByMediaType("application/x-msgpack")!.Name);
        var bytes = BinaryCodec.Encode(Format, Sample());
        Assert.True(Format.Sniff(bytes));
        Assert.Equal("msgpack", reg.Detect(bytes)!.Name);
        Assert.False(Format.Sniff(Encoding.UTF8.GetBytes("{\"a\": 1}")));
        Assert.False(Format.Sniff(Encoding.UTF8.GetBytes("a,b\n1,2\n")));
    }

    [Fact]
    public void ReadsWhatMessagePackCSharpWritesAsRecords()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        for (int i = 0; i < 3; i++) { w.WriteMapHeader(1); w.Write("i"); w.Write(i); }
        w.Flush();
        var records = BinaryCodec.Decode(Format, buffer.WrittenSpan.ToArray());
        Assert.Equal(new long[] { 0, 1, 2 }, records.Select(r => r["i"]!.AsInt64));
    }
}
