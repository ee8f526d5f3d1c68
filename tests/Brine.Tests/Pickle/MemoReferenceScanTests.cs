using Brine.Formats.Pickle;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Pickle;

/// <summary>
/// The walk that tells the object loader which memo entries to keep must find every index a GET names (a superset
/// is fine, a miss is not), must end at the pickle's end, and must say "don't know" for what it cannot walk.
/// Python's <c>pickletools.genops</c> is the oracle for which indices the GETs name.
/// </summary>
public class MemoReferenceScanTests
{
    static ulong[]? Scan(byte[] bytes, out long end)
    {
        var input = new PickleInput(new MemoryStream(bytes));
        var named = MemoReferenceScan.Scan(input, bytes.Length);
        end = input.Position;
        return named;
    }

    [Fact]
    public void Every_index_a_GET_names_is_found_in_Pythons_pickles_at_every_protocol()
    {
        // Shared and cyclic values with many memo entries (past 256, so LONG_BINGET), strings and bytes holding GET
        // opcode bytes, large payloads outside frames, and each protocol; per pickle, pickletools lists the GETs.
        var output = Python.RunBytes("""
import pickle, pickletools, sys
shared = [{"k%d" % i: "v" for i in range(3)} for i in range(400)]
cyc = [1]; cyc.append(cyc)
big = b"j\x01\x00\x00\x00" * 30000          # bytes that look like LONG_BINGET, in a payload outside any frame
values = [
    [shared, shared[::-1], cyc],
    {"a": shared[5], "b": (shared[5], shared[399]), "s": "hjg" * 50, "t": "x" * 70000},
    [big, big, "j\u00e9" * 10, 1.5, 2**80, None, True],
    [[i, str(i)] for i in range(3000)] + [cyc],
]
for v in values:
    for proto in range(6):
        b = pickle.dumps(v, proto)
        gets = sorted({arg for op, arg, pos in pickletools.genops(b) if op.name in ("GET", "BINGET", "LONG_BINGET")})
        head = len(b).to_bytes(4, "little") + len(gets).to_bytes(4, "little")
        sys.stdout.buffer.write(head + b"".join(g.to_bytes(4, "little") for g in gets) + b)
""");
        int pickles = 0, withLongGets = 0;
        for (int at = 0; at < output.Length;)
        {
            int n = BitConverter.ToInt32(output, at), g = BitConverter.ToInt32(output, at + 4);
            var gets = Enumerable.Range(0, g).Select(k => (long)BitConverter.ToInt32(output, at + 8 + 4 * k)).ToList();
            var bytes = output.AsSpan(at + 8 + 4 * g, n).ToArray();
            at += 8 + 4 * g + n;
            var named = Scan(bytes, out long end);
            Assert.NotNull(named);
            foreach (var index in gets) Assert.True(MemoReferenceScan.Contains(named!, index), $"GET {index} missed");
            Assert.Equal(bytes.Length, end);
            pickles++;
            if (gets.Any(x => x >= 256)) withLongGets++;
        }
        Assert.Equal(24, pickles);
        Assert.True(withLongGets >= 8);
    }

    [Fact]
    public void The_walk_stops_at_the_end_of_the_first_of_several_pickles()
    {
        var first = Python.RunBytes("import pickle, sys; x = [[i] for i in range(20000)]; sys.stdout.buffer.write(pickle.dumps(x + [x[7]], 4))");
        var second = Python.RunBytes("import pickle, sys; x = [str(i) for i in range(5000)]; sys.stdout.buffer.write(pickle.dumps(x + x, 4))");
        var both = first.Concat(second).ToArray();
        Assert.NotNull(Scan(both, out long end));
        Assert.Equal(first.Length, end);   // the frame that ends in STOP, then the second pickle's PROTO
    }

    [Fact]
    public void What_cannot_be_walked_gives_no_answer()
    {
        var pickle = Python.RunBytes("import pickle, sys; sys.stdout.buffer.write(pickle.dumps([1, 'a', b'b' * 100000, (2, 3)], 4))");
        // Cut short (no STOP), inside a frame, inside a long payload, and a byte that is no opcode.
        Assert.Null(Scan(pickle[..^1], out _));
        Assert.Null(Scan(pickle[..20], out _));
        Assert.Null(Scan(pickle[..(pickle.Length / 2)], out _));
        Assert.Null(Scan([0x80, 4, 0xff, (byte)'.'], out _));
        Assert.Null(Scan([], out _));
        // Protocol 0: text GETs are read by their decimal argument.
        var p0 = Python.RunBytes("import pickle, sys; a = ['x']; sys.stdout.buffer.write(pickle.dumps([a, a, a], 0))");
        var named = Scan(p0, out long end);
        Assert.NotNull(named);
        Assert.Equal(p0.Length, end);
    }

    [Fact]
    public void A_GET_of_an_entry_the_walk_did_not_keep_sends_the_load_to_the_general_path()
    {
        // The end is told from frames: a frame whose last byte is STOP's, followed by PROTO, ends the walk. Made by
        // hand, a pickle that fools it: BININT1 46 ('.') ends the first frame, a PROTO 4 follows outside any frame (legal,
        // if odd), and the next frame's LONG_BINGET names an entry put in the first. The value must still be right.
        var bytes = new List<byte> { 0x80, 4 };
        void Frame(List<byte> body)
        {
            bytes.Add(0x95);
            bytes.AddRange(BitConverter.GetBytes((long)body.Count));
            bytes.AddRange(body);
        }
        var first = new List<byte> { 0x28 };   // MARK
        for (int i = 0; i < 300; i++) first.AddRange([0x4b, (byte)(i % 40), 0x94]);   // BININT1 i % 40, MEMOIZE
        first.AddRange([0x4b, 46]);   // BININT1 46
        Frame(first);
        int firstEnd = bytes.Count;
        bytes.AddRange([0x80, 4]);
        Frame([0x6a, 0x2b, 0x01, 0, 0, 0x6c, 0x2e]);   // LONG_BINGET 299, LIST, STOP
        var pickle = bytes.ToArray();
        var expected = Enumerable.Range(0, 300).Select(i => (long)(i % 40)).Append(46).Append(299 % 40).ToList();

        var named = Scan(pickle, out long end);
        Assert.NotNull(named);
        Assert.Equal(firstEnd, end);
        Assert.False(MemoReferenceScan.Contains(named!, 299));

        Assert.Equal("[" + string.Join(", ", expected) + "]", Python.Run("import pickle, sys; print(pickle.loads(sys.stdin.buffer.read()))", pickle).Trim());
        using var r = new PickleReader(new MemoryStream(pickle));
        var value = new Brine.Objects.ObjectReader(Brine.Objects.ObjectOptions.Default).Read(r, typeof(List<long>));
        Assert.Equal(expected, (List<long>)value!);
    }
}
