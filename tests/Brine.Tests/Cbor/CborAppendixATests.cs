using Xunit;
using System.Numerics;
using Brine.Formats.Cbor;
using Brine.Model;
using Brine.Tests.MessagePack;
using Xunit.Abstractions;

namespace Brine.Tests.Cbor;

/// <summary>
/// RFC 8949 Appendix A: each example's encoding decodes to its value; where the example is in preferred
/// (shortest, definite-length) serialization, encoding the value gives the same bytes; and every example
/// survives a token-stream copy CBOR → CBOR byte for byte (indefinite lengths included), except where noted.
/// </summary>
public class CborAppendixATests(ITestOutputHelper output)
{
    static readonly CborFormat Format = new();

    static Node T(Node n, string tag) { n.Tag = tag; return n; }
    static Node I(long v) => Node.Int(v);
    static Node F(double v) => Node.Float(v);
    static Node S(string v) => Node.String(v);
    static Node B(string hex) => Node.Bytes(Convert.FromHexString(hex));
    static Node L(params Node[] items) => Node.List(items);
    static Node M(params (Node k, Node v)[] entries) { var m = Node.Map(); foreach (var (k, v) in entries) m.Add(k, v); return m; }
    static Node Range(int from, int to) => L(Enumerable.Range(from, to - from + 1).Select(i => I(i)).ToArray());

    // (hex, value, encode: whether Brine's writer must produce exactly this hex from the tree, copy: whether a CBOR → CBOR copy keeps the bytes)
    static readonly (string hex, Node value, bool encode, bool copy)[] Examples =
    {
        ("00", I(0), true, true), ("01", I(1), true, true), ("0a", I(10), true, true), ("17", I(23), true, true),
        ("1818", I(24), true, true), ("1819", I(25), true, true), ("1864", I(100), true, true), ("1903e8", I(1000), true, true),
        ("1a000f4240", I(1000000), true, true), ("1b000000e8d4a51000", I(1000000000000), true, true),
        ("1bffffffffffffffff", Node.Int(BigInteger.Parse("18446744073709551615")), true, true),
        ("c249010000000000000000", Node.Int(BigInteger.Parse("18446744073709551616")), true, true),
        ("3bffffffffffffffff", Node.Int(BigInteger.Parse("-18446744073709551616")), true, true),
        ("c349010000000000000000", Node.Int(BigInteger.Parse("-18446744073709551617")), true, true),
        ("20", I(-1), true, true), ("29", I(-10), true, true), ("3863", I(-100), true, true), ("3903e7", I(-1000), true, true),
        ("f90000", F(0.0), true, true), ("f98000", F(-0.0), true, true), ("f93c00", F(1.0), true, true),
        ("fb3ff199999999999a", F(1.1), true, true), ("f93e00", F(1.5), true, true), ("f97bff", F(65504.0), true, true),
        ("fa47c35000", F(100000.0), true, true), ("fa7f7fffff", F(3.4028234663852886e+38), true, true),
        ("fb7e37e43c8800759c", F(1.0e+300), true, true), ("f90001", F(5.960464477539063e-8), true, true),
        ("f90400", F(0.00006103515625), true, true), ("f9c400", F(-4.0), true, true), ("fbc010666666666666", F(-4.1), true, true),
        ("f97c00", F(double.PositiveInfinity), true, true), ("f97e00", F(double.NaN), true, true), ("f9fc00", F(double.NegativeInfinity), true, true),
        ("fa7f800000", F(double.PositiveInfinity), false, false), ("fa7fc00000", F(double.NaN), false, false), ("faff800000", F(double.NegativeInfinity), false, false),
        ("fb7ff0000000000000", F(double.PositiveInfinity), false, false), ("fb7ff8000000000000", F(double.NaN), false, false), ("fbfff0000000000000", F(double.NegativeInfinity), false, false),
        ("f4", Node.Bool(false), true, true), ("f5", Node.Bool(true), true, true), ("f6", Node.Null(), true, true),
        ("f7", Node.Null(CborFormat.UndefinedTag), true, true),
        ("f0", T(I(16), CborFormat.SimpleTag), true, true), ("f8ff", T(I(255), CborFormat.SimpleTag), true, true),
        ("c074323031332d30332d32315432303a30343a30305a", Node.Timestamp(new Timestamp(1363896240, 0, 0)), true, true),
        // Tag 1 reads as a timestamp; Brine writes timestamps as tag 0 text, so these two do not copy byte for byte.
        ("c11a514b67b0", Node.Timestamp(new Timestamp(1363896240, 0, 0)), false, false),
        ("c1fb41d452d9ec200000", Node.Timestamp(new Timestamp(1363896240, 500_000_000, 0)), false, false),
        ("d74401020304", T(B("01020304"), "cbor:23"), true, true),
        ("d818456449455446", T(B("6449455446"), "cbor:24"), true, true),
        ("d82076687474703a2f2f7777772e6578616d706c652e636f6d", T(S("http://www.example.com"), "cbor:32"), true, true),
        ("40", B(""), true, true), ("4401020304", B("01020304"), true, true),
        ("60", S(""), true, true), ("6161", S("a"), true, true), ("6449455446", S("IETF"), true, true), ("62225c", S("\"\\"), true, true),
        ("62c3bc", S("\u00fc"), true, true), ("63e6b0b4", S("\u6c34"), true, true), ("64f0908591", S("\ud800\udd51"), true, true),
        ("80", L(), true, true), ("83010203", L(I(1), I(2), I(3)), true, true),
        ("8301820203820405", L(I(1), L(I(2), I(3)), L(I(4), I(5))), true, true),
        ("98190102030405060708090a0b0c0d0e0f101112131415161718181819", Range(1, 25), true, true),
        ("a0", M(), true, true), ("a201020304", M((I(1), I(2)), (I(3), I(4))), true, true),
        ("a26161016162820203", M((S("a"), I(1)), (S("b"), L(I(2), I(3)))), true, true),
        ("826161a161626163", L(S("a"), M((S("b"), S("c")))), true, true),
        ("a56161614161626142616361436164614461656145", M((S("a"), S("A")), (S("b"), S("B")), (S("c"), S("C")), (S("d"), S("D")), (S("e"), S("E"))), true, true),
        // Chunked strings read as one string; they are written back in one piece.
        ("5f42010243030405ff", B("0102030405"), false, false),
        ("7f657374726561646d696e67ff", S("streaming"), false, false),
        ("9fff", L(), false, true),
        ("9f018202039f0405ffff", L(I(1), L(I(2), I(3)), L(I(4), I(5))), false, true),
        ("9f01820203820405ff", L(I(1), L(I(2), I(3)), L(I(4), I(5))), false, true),
        ("83018202039f0405ff", L(I(1), L(I(2), I(3)), L(I(4), I(5))), false, true),
        ("83019f0203ff820405", L(I(1), L(I(2), I(3)), L(I(4), I(5))), false, true),
        ("9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", Range(1, 25), false, true),
        ("bf61610161629f0203ffff", M((S("a"), I(1)), (S("b"), L(I(2), I(3)))), false, true),
        ("826161bf61626163ff", L(S("a"), M((S("b"), S("c")))), false, true),
        ("bf6346756ef563416d7421ff", M((S("Fun"), Node.Bool(true)), (S("Amt"), I(-2))), false, true),
    };

    [Fact]
    public void Examples_()
    {
        int checks = 0, passed = 0;
        var failures = new List<string>();
        foreach (var (hex, value, encode, copy) in Examples)
        {
            checks++;
            try
            {
                var got = BinaryCodec.DecodeOne(Format, Convert.FromHexString(hex));
                var diff = NodeComparer.Difference(value, got);
                if (diff is null) passed++; else failures.Add($"decode {hex}: {diff}");
            }
            catch (BrineException e) { failures.Add($"decode {hex}: {e.Message}"); }
            if (encode)
            {
                checks++;
                var enc = BinaryCodec.ToHex(BinaryCodec.Encode(Format, value));
                if (enc == hex) passed++; else failures.Add($"encode {hex}: got {enc}");
            }
            if (copy)
            {
                checks++;
                var ms = new MemoryStream();
                using (var r = Format.CreateReader(new MemoryStream(Convert.FromHexString(hex)), Brine.Formats.ReadOptions.Default))
                using (var w = Format.CreateWriter(ms, Brine.Formats.WriteOptions.Default)) { TokenPump.Copy(r, w); w.Finish(); }
                var copied = BinaryCodec.ToHex(ms.ToArray());
                if (copied == hex) passed++; else failures.Add($"copy {hex}: got {copied}");
            }
        }
        output.WriteLine($"RFC 8949 Appendix A: {passed}/{checks} checks passed over {Examples.Length} examples");
        foreach (var f in failures) output.WriteLine("  FAIL " + f);
        Assert.Empty(failures);
    }
}
