using Xunit;
using System.Formats.Cbor;
using System.Numerics;
using System.Text;
using Brine.Formats;
using Brine.Formats.Cbor;
using Brine.Model;
using Brine.Tests.MessagePack;
using Brine.Tests.Support;

namespace Brine.Tests.Cbor;

public class CborTests
{
    static readonly CborFormat Format = new();

    static Node T(Node n, string tag) { n.Tag = tag; return n; }

    static Node AllKinds() => Node.Map()
        .Add("null", Node.Null())
        .Add("bool", Node.Bool(true))
        .Add("ints", Node.List(Node.Int(0), Node.Int(-1), Node.Int(long.MinValue), Node.Int(long.MaxValue),
            Node.Int(BigInteger.Parse("18446744073709551615")), Node.Int(BigInteger.Parse("-18446744073709551616")),
            Node.Int(BigInteger.Pow(10, 40)), Node.Int(-BigInteger.Pow(7, 60))))
        .Add("floats", Node.List(Node.Float(0.1), Node.Float(-2.5), Node.Float(1e-310), Node.Float(double.NaN)))
        .Add("decimals", Node.List(Node.Decimal(DecimalNumber.Parse("12.50")), Node.Decimal(DecimalNumber.Parse("-0.000000000000000000000000000000000001")),
            Node.Decimal(DecimalNumber.Parse("123456789012345678901234567890.123456789")), Node.Decimal(new DecimalNumber(5, -3))))
        .Add("string", Node.String("ünïcødé 🍺"))
        .Add("bytes", Node.Bytes(new byte[] { 0, 1, 2, 255 }))
        .Add("timestamps", Node.List(Node.Timestamp(new Timestamp(1714566000, 123456789, 120)), Node.Timestamp(new Timestamp(0, 0, 0)),
            Node.Timestamp(new Timestamp(-1, 999_999_999, -330))))
        .Add("date", Node.Date(new DateOnly(2024, 2, 29)))
        .Add("uuid", Node.Uuid(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e")))
        .Add("set", T(Node.List(Node.Int(1), Node.Int(2)), "set"))
        .Add("custom", T(Node.String("x"), "cbor:1234"))
        .Add("twice", T(Node.Bytes(new byte[] { 9 }), "cbor:6 cbor:7"))
        .Add("undefined", Node.Null(CborFormat.UndefinedTag))
        .Add(Node.Int(42), Node.String("int key"));

    [Fact]
    public void AllScalarKindsRoundTrip()
    {
        var src = AllKinds();
        var bytes = BinaryCodec.Encode(Format, src, Node.String("second"));
        var back = BinaryCodec.Decode(Format, bytes);
        Assert.Equal(2, back.Count);
        Assert.Null(NodeComparer.Difference(src, back[0]));
        Assert.Equal("second", back[1].AsString);
    }

    [Fact]
    public void StandardTagsAreWhatSystemFormatsCborExpects()
    {
        var bytes = BinaryCodec.Encode(Format, Node.List(
            Node.Int(BigInteger.Pow(2, 80)), Node.Decimal(DecimalNumber.Parse("273.15")),
            Node.Timestamp(new Timestamp(1363896240, 0, 0)), Node.Uuid(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"))));
        var r = new CborReader(bytes);
        Assert.Equal(4, r.ReadStartArray());
        Assert.Equal(BigInteger.Pow(2, 80), r.ReadBigInteger());
        Assert.Equal(273.15m, r.ReadDecimal());
        Assert.Equal(new DateTimeOffset(2013, 3, 21, 20, 4, 0, TimeSpan.Zero), r.ReadDateTimeOffset());
        Assert.Equal((CborTag)37, r.ReadTag());
        Assert.Equal("0f8fad5bd9cb469fa16570867728950e", Convert.ToHexString(r.ReadByteString()).ToLowerInvariant());
    }

    [Fact]
    public void SharedReferencesAndCyclesUseTags28And29()
    {
        var shared = Node.Map().Add("name", Node.String("shared"));
        var root = Node.List(shared, shared);
        root.Add(root); // a cycle
        var bytes = BinaryCodec.Encode(Format, root);
        Assert.StartsWith("d81c83d81ca1", BinaryCodec.ToHex(bytes)); // 28([28({...}), 29(1), 29(0)])
        var back = BinaryCodec.DecodeOne(Format, bytes);
        Assert.Same(back[0], back[1]);
        Assert.Same(back, back[2]);
        Assert.Equal(ReferenceSupport.Native, Format.Capabilities.References);
    }

    [Fact]
    public void IndefiniteLengthForUnknownCounts()
    {
        var ms = new MemoryStream();
        using (var w = Format.CreateWriter(ms, WriteOptions.Default))
        {
            w.StartMap(-1); w.WriteString("a"); w.StartList(-1); w.WriteInt(1); w.EndList(); w.EndMap();
            w.StartList(2); w.WriteStringUtf8("x"u8); w.WriteNull(); w.EndList();
            w.Finish();
        }
        Assert.Equal("bf61619f01ffff" + "826178f6", BinaryCodec.ToHex(ms.ToArray()));
    }

    [Fact]
    public void WrongCountsAreRefused()
    {
        using var w = Format.CreateWriter(new MemoryStream(), WriteOptions.Default);
        w.StartList(2); w.WriteInt(1);
        Assert.Contains("announced 2", Assert.ThrowsAny<BrineFormatException>(() => w.EndList()).Message);
    }

    [Fact]
    public void HugeTopLevelIndefiniteArrayStreams()
    {
        using var dir = new TempDir();
        var path = dir.File("big.cbor");
        const int n = 300_000;
        using (var fs = File.Create(path))
        using (var w = Format.CreateWriter(fs, WriteOptions.Default))
        {
            w.StartList(-1);
            for (int i = 0; i < n; i++) { w.StartMap(2); w.WriteString("id"); w.WriteInt(i); w.WriteString("name"); w.WriteString("user" + i); w.EndMap(); }
            w.EndList();
            w.Finish();
        }
        using var r = (CborTokenReader)Format.CreateReader(File.OpenRead(path), ReadOptions.Default);
        long items = 0, sum = 0;
        while (r.Read()) if (r.Kind == TokenKind.Int) { items++; sum += r.Int64Value; }
        Assert.Equal(n, items);
        Assert.Equal((long)n * (n - 1) / 2, sum);
        Assert.True(r.WindowBytes <= 1 << 16, $"the reader's window grew to {r.WindowBytes} bytes");
    }

    [Fact]
    public void MillionDeepNestingNeedsNoStack()
    {
        var bytes = new byte[1_000_001];
        bytes.AsSpan(0, 1_000_000).Fill(0x81);
        bytes[^1] = 0x01;
        Assert.True(BinaryCodec.DecodeOne(Format, bytes).IsList);
        var indefinite = new byte[2_000_001];
        indefinite.AsSpan(0, 1_000_000).Fill(0x9f);
        indefinite[1_000_000] = 0x01;
        indefinite.AsSpan(1_000_001).Fill(0xff);
        Assert.True(BinaryCodec.DecodeOne(Format, indefinite).IsList);
    }

    [Fact]
    public void TruncatedInputNamesTheByteOffset()
    {
        var bytes = BinaryCodec.Encode(Format, Node.List(Node.Int(1), Node.String("hello world")));
        var e = Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Decode(Format, bytes[..^3]));
        Assert.Contains("byte 2", e.Message);
        Assert.Contains("truncated", e.Message);
        var e2 = Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Decode(Format, Convert.FromHexString("9f0102")));
        Assert.Contains("end of input", e2.Message);
        var e3 = Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Decode(Format, Convert.FromHexString("821a0001")));
        Assert.Contains("byte 1", e3.Message);
    }

    [Fact]
    public void InvalidInputIsAClearError()
    {
        Assert.Contains("reserved", Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Decode(Format, Convert.FromHexString("1c"))).Message);
        Assert.Contains("break", Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Decode(Format, Convert.FromHexString("8101ff"))).Message);
        Assert.Contains("UTF-8", Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Decode(Format, Convert.FromHexString("62fffe"))).Message);
        Assert.Contains("tag 37", Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Decode(Format, Convert.FromHexString("d8254401020304"))).Message);
        Assert.Contains("shared reference", Assert.ThrowsAny<BrineFormatException>(() => BinaryCodec.Decode(Format, Convert.FromHexString("d81d00"))).Message);
        Assert.Contains("limit", Assert.ThrowsAny<BrineLimitException>(() => BinaryCodec.Decode(Format, BinaryCodec.Encode(Format, Node.String(new string('a', 5000))), new ReadOptions { MaxValueBytes = 1000 })).Message);
    }

    [Fact]
    public void TagsWithUnexpectedContentStayTags()
    {
        // Tag 0 on a number and tag 2 on text are not what the registry says; keep them as cbor:N.
        var v = BinaryCodec.DecodeOne(Format, Convert.FromHexString("82c001c26161"));
        Assert.Equal("cbor:0", v[0].Tag);
        Assert.Equal(1L, v[0].Value);
        Assert.Equal("cbor:2", v[1].Tag);
    }

    [Fact]
    public void ReadsWhatSystemFormatsCborWrites()
    {
        var w = new CborWriter();
        w.WriteStartMap(null);
        w.WriteTextString("half"); w.WriteHalf((Half)1.5);
        w.WriteTextString("single"); w.WriteSingle(0.25f);
        w.WriteTextString("chunks"); w.WriteStartIndefiniteLengthTextString(); w.WriteTextString("ab"); w.WriteTextString("cd"); w.WriteEndIndefiniteLengthTextString();
        w.WriteTextString("epoch"); w.WriteUnixTimeSeconds(1363896240);
        w.WriteTextString("dec"); w.WriteDecimal(-1.05m);
        w.WriteEndMap();
        var v = BinaryCodec.DecodeOne(Format, w.Encode());
        Assert.Equal(1.5, v["half"]!.Value);
        Assert.Equal(0.25, v["single"]!.Value);
        Assert.Equal("abcd", v["chunks"]!.AsString);
        Assert.Equal(new Timestamp(1363896240, 0, 0), v["epoch"]!.Value);
        Assert.Equal("-1.05", v["dec"]!.Value!.ToString());
    }

    [Fact]
    public void DocumentedLosses()
    {
        var src = Node.List(Node.Time(new TimeOnly(8, 30)), T(Node.Map().Add("a", Node.Int(1)), "models.User"),
            Node.Timestamp(new Timestamp(-62135596800 - 86400 * 400L, 0, 0)));
        var back = BinaryCodec.DecodeOne(Format, BinaryCodec.Encode(Format, src));
        Assert.Equal("08:30:00", back[0].AsString);
        Assert.Null(back[1].Tag);
        Assert.Equal(src[2].Value, back[2].Value); // outside years 1–9999: tag 1 epoch seconds, still exact
    }

    [Fact]
    public void RegisteredAndDetected()
    {
        var reg = FormatRegistry.Default;
        Assert.Equal("cbor", reg.FindByPath("a.cbor")!.Name);
        Assert.Equal("cbor", reg.FindByMediaType("application/cbor")!.Name);
        var withSelfDescribe = new MemoryStream();
        using (var w = Format.CreateWriter(withSelfDescribe, new WriteOptions { Settings = new Dictionary<string, string> { ["selfdescribe"] = "true" } }))
        {
            w.WriteInt(1); w.Finish();
        }
        Assert.Equal("d9d9f701", BinaryCodec.ToHex(withSelfDescribe.ToArray()));
        Assert.Equal("cbor", reg.Detect(withSelfDescribe.ToArray())!.Name);
        // A map with text keys (0xa0–0xbf) cannot be MessagePack's first byte of a container.
        var map = BinaryCodec.Encode(Format, Node.Map().Add("id", Node.Int(1)).Add("name", Node.String("Ann")));
        Assert.Equal("cbor", reg.Detect(map)!.Name);
        Assert.False(Format.Sniff(Encoding.UTF8.GetBytes("[1, 2]")));
    }
}
