using Xunit;
using System.Text;
using Brine.Conversion;
using Brine.IO;
using Brine.Model;
using Brine.Tests.Support;

namespace Brine.Tests.IO;

/// <summary>
/// The write-behind output under <see cref="AtomicFile"/>: the same bytes as a plain stream given the same writes,
/// seeks and truncations; an error on its writer thread is thrown to the caller; giving up never hangs and leaves no
/// file; file → file conversions through it give the bytes of a conversion into memory.
/// </summary>
public class WriteBehindStreamTests
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="action"/> and fails (instead of hanging the suite) when it does not end in time.</summary>
    static void Within(Action action)
    {
        var task = Task.Run(action);
        Assert.True(((IAsyncResult)task).AsyncWaitHandle.WaitOne(Patience), "did not end in time");
        task.GetAwaiter().GetResult();
    }

    static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>The same operations on a write-behind file and on a memory stream.</summary>
    static void Script(Stream s)
    {
        var rng = new Random(7);
        s.Write(Pattern(10, 1));
        // Small writes, then writes across and beyond a block, so that the writer thread runs.
        for (int i = 0; i < 2000; i++) s.Write(Pattern(rng.Next(1, 300), i));
        s.Write(Pattern(3 * WriteBehindStream.BlockSize + 12345, 2));
        for (int i = 0; i < 50; i++) s.WriteByte((byte)i);
        // A header patched behind, as the MessagePack writers do, then back to the end.
        long end = s.Position;
        s.Position = 3;
        s.Write(Pattern(4, 3));
        s.Position = end;
        s.Write(Pattern(WriteBehindStream.BlockSize + 99, 4));
        // Reading back what may still be queued.
        s.Position = 2 * WriteBehindStream.BlockSize - 10;
        var back = new byte[40];
        s.ReadExactly(back);
        s.Write(back);
        // A rewind and truncation, as when the direct conversion gives up, then a new run of writes.
        s.Position = 5000;
        s.SetLength(5000);
        s.Write(Pattern(2 * WriteBehindStream.BlockSize + 7, 5));
        s.Seek(-100, SeekOrigin.End);
        s.Write(Pattern(200, 6));
        s.Flush();
    }

    [Fact]
    public void SameBytesAsAPlainStream()
    {
        using var tmp = new TempDir();
        var path = tmp.File("out.bin");
        var expected = new MemoryStream();
        Script(expected);
        using (var file = new AtomicFile(path))
        {
            Script(file.Stream);
            Assert.Equal(expected.Length, file.Stream.Length);
            Assert.Equal(expected.Position, file.Stream.Position);
            file.Commit();
        }
        Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(expected.ToArray()));
        Assert.Equal(new[] { "out.bin" }, Directory.GetFiles(tmp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AWriterThreadErrorIsThrownToTheCaller()
    {
        using var tmp = new TempDir();
        var path = tmp.File("out.bin");
        File.WriteAllBytes(path, []);
        // A stream that says it can write over a handle that cannot: every write on the writer thread fails.
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        var stream = new WriteBehindStream(new FileStream(handle, FileAccess.ReadWrite, 0));
        Within(() =>
        {
            var e = Record.Exception(() =>
            {
                for (int i = 0; i < 16; i++) stream.Write(Pattern(WriteBehindStream.BlockSize, i));
                stream.Flush();
            });
            Assert.True(e is IOException or UnauthorizedAccessException, $"expected the write error, got {e?.GetType().Name ?? "none"}");
            // The error stays: a later flush throws it again rather than reporting success.
            Assert.ThrowsAny<Exception>(() => stream.Flush());
            stream.Discard();
            stream.Dispose();
        });
        Assert.Equal(0, new FileInfo(path).Length);
    }

    [Fact]
    public void GivingUpDoesNotHangAndLeavesNoFile()
    {
        using var tmp = new TempDir();
        var path = tmp.File("out.bin");
        File.WriteAllText(path, "original");
        Within(() =>
        {
            using var file = new AtomicFile(path);
            for (int i = 0; i < 12; i++) file.Stream.Write(Pattern(WriteBehindStream.BlockSize / 2 + 1, i));
            // Disposed with blocks still queued and no commit.
        });
        Assert.Equal("original", File.ReadAllText(path));
        Assert.Equal(new[] { "out.bin" }, Directory.GetFiles(tmp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void DisposingWithoutDiscardWritesEverything()
    {
        using var tmp = new TempDir();
        var path = tmp.File("out.bin");
        var data = Pattern(5 * WriteBehindStream.BlockSize + 3, 9);
        Within(() =>
        {
            using var s = new WriteBehindStream(new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 0));
            s.Write(data);
        });
        Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(data));
    }

    /// <summary>A JSON list of records, several MB so that the output passes through the writer thread, ending with <paramref name="tail"/>.</summary>
    static string Records(int count, string tail)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < count; i++)
            sb.Append($"{{\"id\": {i}, \"name\": \"user {i}\", \"score\": {i * 0.25}, \"tags\": [\"a\", \"b{i % 7}\"], \"ok\": {(i % 3 == 0 ? "true" : "false")}}},\n");
        return sb.Append(tail).Append(']').ToString();
    }

    static byte[] InMemory(string json, bool direct)
    {
        var output = new MemoryStream();
        Converter.Convert(new MemoryStream(Encoding.UTF8.GetBytes(json)), Converter.Registry.GetByName("json"), output,
            Converter.Registry.GetByName("msgpack"), new ConvertOptions { Direct = direct });
        return output.ToArray();
    }

    [Theory]
    [InlineData("{\"last\": 1}", false)] // the direct path to the end
    [InlineData("{\"py/tuple\": [1, 2]}", true)] // a jsonpickle marker at the very end: the direct path gives up, the general one reruns
    [InlineData("{\"$id\": \"1\", \"last\": 1}", true)] // a reference marker at the end: the same
    public void FileToFileGivesTheBytesOfTheGeneralPath(string tail, bool givesUp)
    {
        using var tmp = new TempDir();
        var json = Records(120_000, tail);
        var input = tmp.File("in.json");
        File.WriteAllText(input, json);
        var output = tmp.File("out.msgpack");
        File.WriteAllText(output, "an older file, longer than nothing");
        int completed = 0, gaveUp = 0;
        Within(() =>
        {
            (completed, gaveUp) = (JsonToMessagePack.Completed, JsonToMessagePack.GaveUp);
            Converter.Convert(input, output, new ConvertOptions { Indent = false });
            (completed, gaveUp) = (JsonToMessagePack.Completed - completed, JsonToMessagePack.GaveUp - gaveUp);
        });
        Assert.Equal((givesUp ? 0 : 1, givesUp ? 1 : 0), (completed, gaveUp));
        var expected = InMemory(json, direct: false);
        Assert.True(expected.Length > 4 * WriteBehindStream.BlockSize, "the output should pass through the writer thread");
        Assert.True(File.ReadAllBytes(output).AsSpan().SequenceEqual(expected));
        Assert.Equal(new[] { "in.json", "out.msgpack" }, Directory.GetFiles(tmp.Path).Select(Path.GetFileName).Order());
    }

    [Theory]
    [InlineData("{\"last\": tru}")] // malformed: the direct path gives up, the general one fails
    [InlineData("{\"last\": 18446744073709551616}")] // beyond 64 bits: the same
    public void AFailedLargeConversionLeavesTheOldFileAndNoOther(string tail)
    {
        using var tmp = new TempDir();
        var input = tmp.File("in.json");
        File.WriteAllText(input, Records(120_000, tail));
        var output = tmp.File("out.msgpack");
        File.WriteAllText(output, "original");
        Assert.ThrowsAny<BrineException>(() => Within(() => Converter.Convert(input, output, new ConvertOptions { Indent = false })));
        Assert.Equal("original", File.ReadAllText(output));
        Assert.Equal(new[] { "in.json", "out.msgpack" }, Directory.GetFiles(tmp.Path).Select(Path.GetFileName).Order());
    }
}
