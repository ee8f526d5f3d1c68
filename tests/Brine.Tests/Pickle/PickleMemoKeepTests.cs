using System.Buffers.Binary;
using Brine.Formats.Pickle;
using Brine.Model;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Pickle;

/// <summary>
/// The Node loader keeps only the memo entries a GET may name (found by a walk of the pickle first). Loading with
/// that walk must give what loading without it gives: the same tokens, anchors named the same, the same errors; and
/// a GET of an entry the walk left out must rerun the pickle, never give a wrong value.
/// </summary>
public class PickleMemoKeepTests
{
    public static (List<string> tokens, Node? graph, Node? whole, string? error, int reruns) Load(byte[] bytes, bool scan)
    {
        var tokens = new List<string>();
        Node? graph = null, whole = null;
        string? error = null;
        int reruns = 0;
        try
        {
            using (var r = new PickleReader(new MemoryStream(bytes)) { MemoScanFromBytes = scan ? 0 : long.MaxValue })
            {
                while (r.Read())
                    tokens.Add($"{r.Kind} tag={r.Tag} anchor={r.Anchor} count={r.Count} text={(r.Kind is TokenKind.String or TokenKind.Alias ? r.StringValue : null)}");
                reruns += r.MemoReruns;
            }
            using (var r = new PickleReader(new MemoryStream(bytes)) { MemoScanFromBytes = scan ? 0 : long.MaxValue })
            {
                graph = NodeBuilder.ReadValue(r, new NodeBuilder());
                reruns += r.MemoReruns;
            }
            using (var r = new PickleReader(new MemoryStream(bytes)) { MemoScanFromBytes = scan ? 0 : long.MaxValue })
            {
                whole = NodeBuilder.ReadValue(r);
                reruns += r.MemoReruns;
            }
        }
        catch (BrineException e) { error = e.GetType().Name + ": " + e.Message; }
        return (tokens, graph, whole, error, reruns);
    }

    /// <summary>Both ways agree on everything; returns how many reruns the walk's way made.</summary>
    public static int AssertSame(byte[] bytes)
    {
        var full = Load(bytes, scan: false);
        var kept = Load(bytes, scan: true);
        Assert.Equal(0, full.reruns);
        Assert.Equal(full.error, kept.error);
        Assert.Equal(full.tokens, kept.tokens);
        if (full.graph is not null)
        {
            Assert.Null(NodeComparer.Difference(full.graph, kept.graph!));
            Assert.Null(PickleTestSupport.SharingDifference(full.graph, kept.graph!));
            Assert.Null(NodeComparer.Difference(full.whole!, kept.whole!));
            Assert.Null(PickleTestSupport.SharingDifference(full.whole!, kept.whole!));
        }
        return kept.reruns;
    }

    static byte[] Frame(byte[] body)
    {
        var f = new byte[9 + body.Length];
        f[0] = PickleOpcodes.FRAME;
        BinaryPrimitives.WriteInt64LittleEndian(f.AsSpan(1), body.Length);
        body.CopyTo(f, 9);
        return f;
    }

    static byte[] LongBinGet(uint index) { var b = new byte[5]; b[0] = PickleOpcodes.LONG_BINGET; BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(1), index); return b; }

    /// <summary>
    /// A frame that ends in a '.' byte (the end of a string) followed by PROTO looks to the walk like the end of the
    /// pickle; the GET after it names entry 300, which the walk did not see.
    /// </summary>
    static byte[] FoolingPickle(uint getIndex = 300)
    {
        var body = new List<byte> { PickleOpcodes.EMPTY_LIST, PickleOpcodes.MEMOIZE, PickleOpcodes.MARK };
        for (int i = 0; i < 300; i++) body.AddRange([PickleOpcodes.BININT1, 7, PickleOpcodes.MEMOIZE]);
        body.AddRange([PickleOpcodes.APPENDS, PickleOpcodes.SHORT_BINUNICODE, 2, (byte)'a', (byte)'.']);
        var p = new List<byte> { PickleOpcodes.PROTO, 4 };
        p.AddRange(Frame(body.ToArray()));
        p.AddRange([PickleOpcodes.PROTO, 4, PickleOpcodes.MEMOIZE]);
        p.AddRange(LongBinGet(getIndex));
        p.AddRange([PickleOpcodes.TUPLE2, PickleOpcodes.APPEND, PickleOpcodes.STOP]);
        return p.ToArray();
    }

    [Fact]
    public void A_GET_of_an_entry_left_out_reruns_the_pickle_and_gives_the_full_result()
    {
        var bytes = FoolingPickle();
        Assert.Equal(3, AssertSame(bytes));   // once per load of the three
        var n = PickleTestSupport.Read(bytes);
        Assert.Equal(301, n.Items!.Count);
        var pair = n.Items[300];
        Assert.Equal("a.", pair.Items![0].Value);
        // The item GET named is the list's 300th int, shared: anchored after its memo index.
        Assert.Same(n.Items[299], pair.Items[1]);
        using var r = new PickleReader(new MemoryStream(bytes)) { MemoScanFromBytes = 0 };
        var anchors = new List<string>();
        while (r.Read()) if (r.Anchor is { } a) anchors.Add(a); else if (r.Kind == TokenKind.Alias) anchors.Add("*" + r.StringValue);
        Assert.Equal(["m300", "*m300"], anchors);
        Assert.Equal(1, r.MemoReruns);
    }

    [Fact]
    public void A_stream_of_pickles_reruns_only_the_one_that_needs_it()
    {
        var ok = PickleTestSupport.Write(Node.List(Node.String("x"), Node.Int(1)), 4);
        var bytes = ok.Concat(FoolingPickle()).Concat(ok).ToArray();
        AssertSame(bytes);
        using var r = new PickleReader(new MemoryStream(bytes)) { MemoScanFromBytes = 0 };
        var all = NodeBuilder.ReadAll(r);
        Assert.Equal(3, all.Count);
        Assert.Equal(1, r.MemoReruns);
        Assert.Equal(301, all[1].Items!.Count);
    }

    [Fact]
    public void Errors_for_entries_never_stored_stay_the_same()
    {
        // 500 is named by the GET (the walk keeps it) but never stored; 250 is below the always-kept 256.
        foreach (var index in new uint[] { 500, 250, 70_000 })
        {
            var p = new List<byte> { PickleOpcodes.PROTO, 4 };
            var body = new List<byte> { PickleOpcodes.EMPTY_LIST, PickleOpcodes.MEMOIZE };
            body.AddRange(LongBinGet(index));
            body.AddRange([PickleOpcodes.APPEND, PickleOpcodes.STOP]);
            p.AddRange(Frame(body.ToArray()));
            var bytes = p.ToArray();
            AssertSame(bytes);
            var e = Assert.Throws<BrineFormatException>(() => PickleTestSupport.Read(bytes));
            Assert.Contains($"memo index {index} was never stored (corrupt pickle)", e.Message);
        }
        // The GET after the walk's false end names an index never stored: the rerun gives the same error.
        var fooled = FoolingPickle(getIndex: 400);
        Assert.Equal(0, AssertSame(fooled));
        Assert.Contains("memo index 400 was never stored", Assert.Throws<BrineFormatException>(() => PickleTestSupport.Read(fooled)).Message);
    }

    [Fact]
    public void Records_with_shared_values_load_the_same_with_and_without_the_walk()
    {
        // Many records (memo indices far past 256), values shared across records, a cycle, objects and datetimes.
        var shared = Node.String("shared");
        var root = Node.List();
        var self = Node.Map(); self.Add("self", self);
        for (int i = 0; i < 3000; i++)
        {
            var rec = Node.Map().Add("id", Node.Int(i)).Add("name", Node.String("user " + i))
                .Add("at", Node.Timestamp(new Timestamp(1_700_000_000 + i, 0, null)));
            if (i % 7 == 0) rec.Add("s", shared);
            if (i % 500 == 0) rec.Add("loop", self);
            root.Add(rec);
            if (i % 1000 == 999) root.Add(root.Items![i / 2]);
        }
        foreach (var p in new[] { 0, 1, 2, 3, 4, 5 })
        {
            var bytes = PickleTestSupport.Write(root, p);
            Assert.Equal(0, AssertSame(bytes));
        }
    }

    [Fact]
    public void Datetimes_made_without_their_state_nodes_are_the_same_and_fail_the_same()
    {
        var times = Node.List();
        for (int i = 0; i < 40; i++) times.Add(Node.Timestamp(new Timestamp(-2_000_000_000L + i * 123_456_789L, i * 1000, null)));
        times.Add(Node.Timestamp(new Timestamp(253402300799, 999_999_000, null)));   // 9999-12-31 23:59:59.999999
        foreach (var p in new[] { 3, 4, 5 })   // (protocol 2 writes bytes as a call of _codecs.encode)
        {
            var bytes = PickleTestSupport.Write(times, p);
            Assert.Equal(0, AssertSame(bytes));
            Assert.Null(NodeComparer.Difference(times, PickleTestSupport.Read(bytes)));
            // Corrupt states: a month 13, a day 31 in April, an hour 24, microseconds over 999 999.
            int at = bytes.AsSpan().IndexOf([PickleOpcodes.SHORT_BINBYTES, (byte)10]) + 2;
            Assert.True(at >= 2);
            foreach (var (offset, value) in new[] { (2, (byte)13), (3, (byte)31), (4, (byte)24), (7, (byte)0x10) })
            {
                var bad = (byte[])bytes.Clone();
                if (offset == 3) bad[at + 2] = 4;
                bad[at + offset] = value;
                Assert.Equal(0, AssertSame(bad));
                Assert.Contains("datetime.datetime state is not a valid date and time", Assert.Throws<BrineFormatException>(() => PickleTestSupport.Read(bad)).Message);
            }
        }
    }

    static List<string> Anchors(byte[] bytes)
    {
        using var r = new PickleReader(new MemoryStream(bytes));
        var anchors = new List<string>();
        while (r.Read()) if (r.Anchor is { } a) anchors.Add(a); else if (r.Kind == TokenKind.Alias) anchors.Add("*" + r.StringValue);
        return anchors;
    }

    [Fact]
    public void Nodes_shared_by_DUP_calls_and_BUILD_are_anchored()
    {
        // DUP: one list twice in a tuple (never memoized: named n1).
        var dup = PickleTestSupport.Hex("80045D3286" + "2E");
        Assert.Equal(["n1", "*n1"], Anchors(dup));
        // builtins.list over a memoized list: the new list holds the same item nodes (m1, m2); the old list is reached once.
        var call = PickleTestSupport.Hex("80025D7100285801000000617101580100000062710265636275696C74696E730A6C6973740A68008552862E");
        var whole = PickleTestSupport.Read(call);
        Assert.Same(whole.Items![0].Items![1], whole.Items[1].Items![1]);
        Assert.Equal(["m1", "m2", "*m1", "*m2"], Anchors(call));
        // BUILD with a state dict that is also in the list: its key and value are reached from the object and the dict.
        var build = PickleTestSupport.Hex("80025D710028636D6F640A5468696E670A7101298171027D710358010000006B71045803000000767676710573626803652E");
        whole = PickleTestSupport.Read(build);
        Assert.Same(whole.Items![0]["k"], whole.Items[1]["k"]);
        Assert.Equal(["m4", "m5", "*m4", "*m5"], Anchors(build));
        foreach (var bytes in new[] { dup, call, build })
        {
            using var r = new PickleReader(new MemoryStream(bytes));
            var viaTokens = NodeBuilder.ReadValue(r, new NodeBuilder())!;
            var w = PickleTestSupport.Read(bytes);
            Assert.Null(NodeComparer.Difference(w, viaTokens));
            Assert.Null(PickleTestSupport.SharingDifference(w, viaTokens));
        }
    }

    [Fact]
    public void Unseekable_input_is_read_as_before()
    {
        var bytes = FoolingPickle();
        using var r = new PickleReader(new UnseekableStream(bytes)) { MemoScanFromBytes = 0 };
        var n = NodeBuilder.ReadValue(r)!;
        Assert.Equal(0, r.MemoReruns);
        Assert.Null(NodeComparer.Difference(PickleTestSupport.Read(bytes), n));
    }

    sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
