using System.Text;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Cli;

/// <summary>The commands beyond convert, through the real program: snapshots, shelf, signing, fake data, inspection.</summary>
public class CommandTests
{
    [Theory]
    // The tutorial's payload, protocol 0: GLOBAL os.system, then REDUCE.
    [InlineData("cos\nsystem\n(S'echo hello world'\ntR.")]
    public void Malicious_pickles_exit_2_naming_the_global_and_run_nothing(string payload)
    {
        using var t = new TempDir();
        var marker = t.File("ran");
        foreach (var bytes in new[] { Encoding.ASCII.GetBytes(payload.Replace("echo hello world", "touch " + marker)), StackGlobalPayload(marker) })
        {
            File.WriteAllBytes(t.File("evil.pkl"), bytes);
            var (code, _, stderr) = BrineProcess.Run("convert", t.File("evil.pkl"), t.File("out.json"));
            Assert.Equal(2, code);
            Assert.Contains("os.system", stderr.Replace("posix.system", "os.system"));
            Assert.False(File.Exists(marker));
            Assert.False(File.Exists(t.File("out.json")));
        }
    }

    /// <summary>The protocol-4 form: STACK_GLOBAL pushes os.system from two strings.</summary>
    static byte[] StackGlobalPayload(string marker)
    {
        var ms = new MemoryStream();
        void Str(string s) { var b = Encoding.UTF8.GetBytes(s); ms.WriteByte(0x8c); ms.WriteByte((byte)b.Length); ms.Write(b); }
        ms.Write(new byte[] { 0x80, 0x04 });
        Str("os"); Str("system");
        ms.WriteByte(0x93);            // STACK_GLOBAL
        Str("touch " + marker);
        ms.WriteByte(0x85);            // TUPLE1
        ms.WriteByte((byte)'R');       // REDUCE
        ms.WriteByte((byte)'.');       // STOP
        return ms.ToArray();
    }

    [Fact]
    public void Sign_then_verify_gives_the_payload_and_tampering_is_refused()
    {
        using var t = new TempDir();
        File.WriteAllBytes(t.File("key"), Encoding.ASCII.GetBytes("base64:" + Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray())));
        File.WriteAllText(t.File("data.json"), "{\"a\": [1, 2, 3]}");
        Assert.Equal(0, BrineProcess.Run("sign", "--key-file", t.File("key"), t.File("data.json"), t.File("data.signed")).code);
        var (code, _, err) = BrineProcess.Run("verify", "--key-file", t.File("key"), t.File("data.signed"), t.File("back.json"));
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllText(t.File("data.json")), File.ReadAllText(t.File("back.json")));

        var signed = File.ReadAllBytes(t.File("data.signed"));
        signed[^3] ^= 1;
        File.WriteAllBytes(t.File("tampered.signed"), signed);
        (code, _, err) = BrineProcess.Run("verify", "--key-file", t.File("key"), t.File("tampered.signed"), t.File("out.json"));
        Assert.Equal(2, code);
        Assert.False(File.Exists(t.File("out.json")));
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void Shelf_set_get_list_delete()
    {
        using var t = new TempDir();
        var db = t.File("db.sqlite");
        File.WriteAllText(t.File("alice.yaml"), "name: Alice\nlanguages: [de, fr]\n");
        Assert.Equal(0, BrineProcess.Run("shelf", db, "set", "alice", t.File("alice.yaml")).code);
        var (code, stdout, _) = BrineProcess.Run("shelf", db, "list");
        Assert.Equal(0, code);
        Assert.Equal("alice", stdout.Trim());
        (code, stdout, _) = BrineProcess.Run("shelf", db, "get", "alice");
        Assert.Equal(0, code);
        Assert.Contains("\"Alice\"", stdout);
        (code, stdout, _) = BrineProcess.Run("shelf", db, "get", "alice", "--to", "yaml");
        Assert.Contains("name: Alice", stdout);
        // Python 3.13's shelve reads the same file.
        var py = Python313.Run("import shelve, sys\nwith shelve.open(sys.argv[1], 'r') as sh: print(sh['alice'])", null, db);
        Assert.Equal("{'name': 'Alice', 'languages': ['de', 'fr']}", py.Trim());
        Assert.Equal(0, BrineProcess.Run("shelf", db, "delete", "alice").code);
        Assert.Equal(2, BrineProcess.Run("shelf", db, "get", "alice").code);
        Assert.Equal(2, BrineProcess.Run("shelf", db, "delete", "alice").code);
    }

    [Fact]
    public void Fake_users_are_deterministic_for_a_seed_and_inspect_shows_row_groups()
    {
        using var t = new TempDir();
        Assert.Equal(0, BrineProcess.Run("fake", "users", "-n", "3000", "-o", t.File("a.csv"), "--seed", "5").code);
        Assert.Equal(0, BrineProcess.Run("fake", "users", "-n", "3000", "-o", t.File("b.csv"), "--seed", "5").code);
        Assert.Equal(File.ReadAllBytes(t.File("a.csv")), File.ReadAllBytes(t.File("b.csv")));
        Assert.Equal(0, BrineProcess.Run("fake", "users", "-n", "3000", "-o", t.File("c.parquet"), "--seed", "5").code);
        var (code, stdout, _) = BrineProcess.Run("inspect", t.File("c.parquet"));
        Assert.Equal(0, code);
        Assert.Contains("rows: 3,000", stdout);
        Assert.Contains("row group 0", stdout);
        Assert.Contains("language: string", stdout);
        (code, stdout, _) = BrineProcess.Run("convert", t.File("c.parquet"), "-", "--to", "csv", "--where", "language = 'de'", "--select", "id,language");
        Assert.Equal(0, code);
        var lines = stdout.Trim().Split('\n');
        Assert.Equal("id,language", lines[0].Trim());
        Assert.All(lines.Skip(1), l => Assert.EndsWith(",de", l.Trim()));
    }

    [Fact]
    public void Inspect_an_avro_file_shows_codec_sync_marker_and_schema()
    {
        using var t = new TempDir();
        Assert.Equal(0, BrineProcess.Run("fake", "users", "-n", "100", "-o", t.File("u.avro"), "--set", "compression=snappy").code);
        var (code, stdout, _) = BrineProcess.Run("inspect", t.File("u.avro"));
        Assert.Equal(0, code);
        Assert.Contains("rows: 100", stdout);
        Assert.Contains("codec: snappy", stdout);
        Assert.Matches("sync marker: [0-9a-f]{32}", stdout);
        Assert.Contains("avro schema:", stdout);
        Assert.Contains("\"registered_at\"", stdout);
    }

    [Fact]
    public void A_bad_where_is_exit_2_naming_the_problem()
    {
        using var t = new TempDir();
        BrineProcess.Run("fake", "users", "-n", "10", "-o", t.File("u.csv"));
        var (code, _, stderr) = BrineProcess.Run("convert", t.File("u.csv"), t.File("o.json"), "--where", "nosuch = 1");
        Assert.Equal(2, code);
        Assert.Contains("nosuch", stderr);
        Assert.False(File.Exists(t.File("o.json")));
    }

    [Fact]
    public void Inspect_a_pickle_prints_a_disassembly()
    {
        using var t = new TempDir();
        File.WriteAllBytes(t.File("x.pkl"), Python.RunBytes("import pickle, sys; sys.stdout.buffer.write(pickle.dumps({'a': [1, 2]}, protocol=4))"));
        var (code, stdout, _) = BrineProcess.Run("inspect", t.File("x.pkl"));
        Assert.Equal(0, code);
        foreach (var op in new[] { "PROTO", "FRAME", "EMPTY_DICT", "SHORT_BINUNICODE 'a'", "APPENDS", "STOP", "highest protocol among opcodes = 4" })
            Assert.Contains(op, stdout);
    }
}
