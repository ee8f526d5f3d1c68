using System.Text;
using Brine.Model;
using Brine.Security;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Security;

public class SignedEnvelopeTests
{
    static readonly SigningKey Key = SigningKey.FromText("base64:" + Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()), "ops-2024");
    static readonly SigningKey Other = SigningKey.FromText("another secret that is long enough!!", "ops-2024");

    [Fact]
    public void Sign_and_verify_round_trip_with_a_documented_header()
    {
        var payload = Encoding.UTF8.GetBytes("hello pickle");
        var env = SignedEnvelope.Sign(payload, Key);
        Assert.Equal("BRSG"u8.ToArray(), env[..4]);
        Assert.Equal(1, env[4]); Assert.Equal(1, env[5]); Assert.Equal(8, env[6]);
        Assert.Equal("ops-2024", Encoding.UTF8.GetString(env, 7, 8));
        Assert.Equal(payload.Length, (int)System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(env.AsSpan(15)));
        Assert.Equal(4 + 3 + 8 + 8 + 32 + payload.Length, env.Length);
        Assert.Equal(payload, env[^payload.Length..]);
        Assert.Equal(payload, SignedEnvelope.Verify(env, Key));
        Assert.Equal("ops-2024", SignedEnvelope.ReadHeader(env).KeyId);
    }

    [Fact]
    public void The_MAC_is_HMAC_SHA256_over_header_and_payload()
    {
        // Python's hmac module is the oracle for the MAC bytes.
        var payload = new byte[] { 1, 2, 3, 250 };
        var env = SignedEnvelope.Sign(payload, Key);
        var expected = Python.Run("import hmac,hashlib,sys\nd=sys.stdin.buffer.read()\nk=bytes(range(32))\nh=d[:23]\nprint(hmac.new(k,h+d[55:],hashlib.sha256).hexdigest())", env).Trim();
        Assert.Equal(expected, Convert.ToHexStringLower(env.AsSpan(23, 32)));
    }

    [Fact]
    public void Every_single_bit_flip_is_refused()
    {
        var env = SignedEnvelope.Sign(Encoding.UTF8.GetBytes("payload!"), Key);
        for (int i = 0; i < env.Length; i++)
        {
            var bad = (byte[])env.Clone();
            bad[i] ^= 0x10;
            Assert.Throws<BrineFormatException>(() => SignedEnvelope.Verify(bad, Key));
        }
    }

    [Fact]
    public void Wrong_key_truncation_and_extra_bytes_are_refused()
    {
        var env = SignedEnvelope.Sign(Encoding.UTF8.GetBytes("payload"), Key);
        var e = Assert.Throws<BrineFormatException>(() => SignedEnvelope.Verify(env, Other));
        Assert.Contains("signature does not match", e.Message);
        Assert.Throws<BrineFormatException>(() => SignedEnvelope.Verify(env[..^1], Key));
        Assert.Throws<BrineFormatException>(() => SignedEnvelope.Verify([.. env, 0], Key));
        Assert.Throws<BrineFormatException>(() => SignedEnvelope.Verify("PK\x03\x04 not signed"u8, Key));
        var other = SigningKey.FromText("a different secret, long enough for it");
        e = Assert.Throws<BrineFormatException>(() => SignedEnvelope.Verify(env, other));
        Assert.Contains("'ops-2024'", e.Message);
    }

    [Fact]
    public void Keys_shorter_than_32_bytes_are_refused()
    {
        Assert.Throws<BrineUsageException>(() => SigningKey.FromText("short"));
        Assert.Throws<BrineUsageException>(() => SigningKey.FromText("base64:" + Convert.ToBase64String(new byte[31])));
        Assert.Equal(32, SigningKey.MinimumLength);
    }

    [Fact]
    public void Keys_come_from_files_and_the_environment()
    {
        using var dir = new TempDir();
        var raw = dir.File("raw.key");
        File.WriteAllBytes(raw, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        var b64 = dir.File("b64.key");
        File.WriteAllText(b64, Key.ToText() + "\n");
        var fromRaw = SigningKey.FromFile(raw, "ops-2024");
        var fromB64 = SigningKey.FromFile(b64, "ops-2024");
        var env = SignedEnvelope.Sign("x"u8, Key);
        Assert.Equal("x"u8.ToArray(), SignedEnvelope.Verify(env, fromRaw));
        Assert.Equal("x"u8.ToArray(), SignedEnvelope.Verify(env, fromB64));
        Assert.StartsWith("sha256:", SigningKey.FromFile(raw).Id);

        const string name = "BRINE_TEST_SIGNING_KEY";
        Environment.SetEnvironmentVariable(name, Key.ToText());
        try { Assert.Equal("x"u8.ToArray(), SignedEnvelope.Verify(env, SigningKey.FromEnvironment(name, "ops-2024"))); }
        finally { Environment.SetEnvironmentVariable(name, null); }
        Assert.Throws<BrineUsageException>(() => SigningKey.FromEnvironment(name));
    }

    /// <summary>A stream that cannot seek, as a pipe would be.</summary>
    sealed class PipeLike(Stream inner) : Stream
    {
        public override bool CanRead => true; public override bool CanSeek => false; public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 1000));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public void Streams_sign_and_verify_large_payloads_and_write_nothing_when_refused()
    {
        var payload = new byte[3_000_000];
        new Random(7).NextBytes(payload);
        var signed = new MemoryStream();
        SignedEnvelope.Sign(new PipeLike(new MemoryStream(payload)), signed, Key);
        Assert.Equal(SignedEnvelope.Sign(payload, Key), signed.ToArray());

        var output = new MemoryStream();
        var header = SignedEnvelope.Verify(new PipeLike(new MemoryStream(signed.ToArray())), output, Key);
        Assert.Equal(payload.Length, header.PayloadLength);
        Assert.Equal(payload, output.ToArray());

        var tampered = signed.ToArray();
        tampered[^12345] ^= 1;
        var refused = new MemoryStream();
        Assert.Throws<BrineFormatException>(() => SignedEnvelope.Verify(new MemoryStream(tampered), refused, Key));
        Assert.Equal(0, refused.Length);
    }
}
