using System.Security.Cryptography;
using System.Text;
using Brine.Model;

namespace Brine.Security;

/// <summary>
/// A secret for HMAC-SHA256 signing, at least 32 bytes, with an id written into each envelope so a reader can
/// tell which key signed it. Text given as <c>base64:…</c> is decoded; anything else is used as raw bytes.
/// </summary>
public sealed class SigningKey
{
    public const int MinimumLength = 32;
    public const string DefaultEnvironmentVariable = "BRINE_SIGNING_KEY";

    readonly byte[] _key;

    /// <summary>The id written into envelopes: the one given, else <c>sha256:</c> and the first 8 bytes of the key's SHA-256 in hex.</summary>
    public string Id { get; }

    SigningKey(byte[] key, string? id)
    {
        if (key.Length < MinimumLength)
            throw new BrineUsageException($"a signing key must be at least {MinimumLength} bytes; this one has {key.Length}");
        _key = key;
        Id = id ?? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 8));
        if (Encoding.UTF8.GetByteCount(Id) > 255) throw new BrineUsageException("a key id must be at most 255 bytes of UTF-8");
    }

    public static SigningKey FromBytes(ReadOnlySpan<byte> key, string? id = null) => new(key.ToArray(), id);

    /// <summary>A key from text: <c>base64:</c> followed by base64, or else the text's UTF-8 bytes.</summary>
    public static SigningKey FromText(string text, string? id = null) => new(Decode(Encoding.UTF8.GetBytes(text)), id);

    /// <summary>A key file: raw bytes, or text starting with <c>base64:</c> (surrounding whitespace ignored).</summary>
    public static SigningKey FromFile(string path, string? id = null)
    {
        if (!File.Exists(path)) throw new BrineUsageException($"signing key file '{path}' does not exist");
        return new(Decode(File.ReadAllBytes(path)), id);
    }

    /// <summary>A key from an environment variable (<c>BRINE_SIGNING_KEY</c> by default), raw or <c>base64:…</c>.</summary>
    public static SigningKey FromEnvironment(string name = DefaultEnvironmentVariable, string? id = null)
    {
        var v = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrEmpty(v)) throw new BrineUsageException($"environment variable {name} holds no signing key");
        return FromText(v, id);
    }

    /// <summary>A new random 32-byte key.</summary>
    public static SigningKey Generate(string? id = null) => new(RandomNumberGenerator.GetBytes(MinimumLength), id);

    /// <summary>The key as <c>base64:…</c> text, for a key file or environment variable.</summary>
    public string ToText() => "base64:" + Convert.ToBase64String(_key);

    internal IncrementalHash CreateHmac() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);

    static byte[] Decode(byte[] raw)
    {
        var prefix = "base64:"u8;
        var trimmed = TrimAscii(raw);
        if (trimmed.StartsWith(prefix))
        {
            var text = Encoding.ASCII.GetString(trimmed[prefix.Length..]).Trim();
            try { return Convert.FromBase64String(text); }
            catch (FormatException) { throw new BrineUsageException("the signing key after 'base64:' is not valid base64"); }
        }
        return raw;
    }

    static ReadOnlySpan<byte> TrimAscii(ReadOnlySpan<byte> b)
    {
        int s = 0, e = b.Length;
        while (s < e && b[s] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') s++;
        while (e > s && b[e - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') e--;
        return b[s..e];
    }
}
