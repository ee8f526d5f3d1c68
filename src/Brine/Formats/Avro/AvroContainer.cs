using System.Security.Cryptography;
using System.Text;
using Brine.Model;
using AvroSchema = Avro.Schema;

namespace Brine.Formats.Avro;

/// <summary>
/// Reads an Avro object container file: the header (magic <c>Obj\x01</c>, metadata with <c>avro.schema</c> and
/// <c>avro.codec</c>, a 16-byte sync marker), then blocks of records, each followed by the sync marker. Each block
/// is read whole and decompressed into memory so records decode from a span.
/// </summary>
internal sealed class AvroContainerReader
{
    public static ReadOnlySpan<byte> Magic => "Obj\x01"u8;

    readonly Stream _stream;
    readonly byte[] _buf = new byte[1 << 16];
    int _pos, _len;
    long _bufStart;
    readonly long _maxBlock;
    byte[] _raw = new byte[1 << 16];
    byte[] _data = new byte[1 << 16];
    readonly byte[] _sync = new byte[16];

    public AvroSchema WriterSchema { get; }
    public string SchemaJson { get; }
    public AvroCodec Codec { get; }
    public IReadOnlyDictionary<string, byte[]> Metadata { get; }
    /// <summary>The 16-byte marker that ends every block.</summary>
    public ReadOnlySpan<byte> SyncMarker => _sync;
    /// <summary>Index of the current block (0-based) and the byte where it starts.</summary>
    public long BlockIndex { get; private set; } = -1;
    public long BlockStart { get; private set; }
    public long Offset => _bufStart + _pos;

    public AvroContainerReader(Stream stream, long maxBlockBytes)
    {
        _stream = stream;
        _maxBlock = maxBlockBytes;
        Span<byte> magic = stackalloc byte[4];
        if (!TryReadExactly(magic)) throw Error(0, "the file is shorter than the 4-byte header 'Obj\\x01'");
        if (!magic.SequenceEqual(Magic)) throw Error(0, $"not an Avro container file: the first bytes are {Convert.ToHexString(magic)}, expected 4F626A01 ('Obj\\x01')");
        var meta = new Dictionary<string, byte[]>();
        while (true)
        {
            long count = ReadVarint("the header's metadata");
            if (count == 0) break;
            if (count < 0) { count = -count; ReadVarint("the header's metadata"); }
            for (long i = 0; i < count; i++)
            {
                var key = Encoding.UTF8.GetString(ReadLengthPrefixed("a metadata key"));
                meta[key] = ReadLengthPrefixed($"the metadata value '{key}'");
            }
        }
        if (!TryReadExactly(_sync)) throw Error(Offset, "the file ends inside the header's sync marker");
        Metadata = meta;
        if (!meta.TryGetValue("avro.schema", out var schemaBytes)) throw Error(0, "the header has no avro.schema");
        SchemaJson = Encoding.UTF8.GetString(schemaBytes);
        try { WriterSchema = AvroSchema.Parse(SchemaJson); }
        // Apache.Avro's parser throws several exception types on damaged JSON (AvroException, JsonException,
        // ArgumentNullException, InvalidCastException …): any of them means a bad header.
        catch (Exception e) when (e is not OutOfMemoryException)
        { throw Error(0, "the writer schema in the header does not parse: " + e.Message); }
        var codecName = meta.TryGetValue("avro.codec", out var c) ? Encoding.UTF8.GetString(c) : "null";
        Codec = AvroCodec.Find(codecName) is { } codec && codecName != "none" && codecName != "zstd"
            ? codec
            : throw Error(0, $"unknown codec '{codecName}' (Brine reads {string.Join(", ", AvroCodec.Known)})");
    }

    /// <summary>Loads the next block into <paramref name="decoder"/>; returns its record count, or -1 at the end of the file.</summary>
    public long NextBlock(AvroDecoder decoder)
    {
        if (!Fill(1)) return -1;
        BlockStart = Offset;
        BlockIndex++;
        long count = ReadVarint($"the header of block {BlockIndex}");
        long size = ReadVarint($"the header of block {BlockIndex}");
        if (count < 0 || size < 0) throw Error(BlockStart, $"block {BlockIndex} has a negative record count or size ({count}, {size})");
        if (size > _maxBlock) throw Error(BlockStart, $"block {BlockIndex} is {size} bytes, over the {_maxBlock}-byte limit");
        if (_raw.Length < size) _raw = new byte[Math.Max(size, _raw.Length * 2L)];
        var body = _raw.AsSpan(0, (int)size);
        long bodyStart = Offset;
        if (!TryReadExactly(body)) throw Error(bodyStart, $"the file is truncated: block {BlockIndex} (starting at byte {BlockStart}) declares {size} bytes of data but the file ends at byte {Offset}");
        Span<byte> sync = stackalloc byte[16];
        long syncAt = Offset;
        if (!TryReadExactly(sync)) throw Error(syncAt, $"the file is truncated: it ends inside the sync marker after block {BlockIndex}");
        if (!sync.SequenceEqual(_sync)) throw Error(syncAt, $"bad sync marker after block {BlockIndex} (the file is corrupt or the block size is wrong)");
        if (Codec is NullCodec) { decoder.Reset(_raw, (int)size); return count; }
        int n;
        try { n = Codec.Decompress(body, ref _data, _maxBlock); }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or ZstdSharp.ZstdException or ArgumentException or IndexOutOfRangeException)
        { throw Error(BlockStart, $"block {BlockIndex} does not decompress with {Codec.Name}: {e.Message}"); }
        catch (BrineFormatException e) { throw Error(BlockStart, $"block {BlockIndex}: {e.Detail}"); }
        decoder.Reset(_data, n);
        return count;
    }

    static BrineFormatException Error(long offset, string detail) => new("avro", $"byte {offset}", detail);

    bool Fill(int need)
    {
        if (_len - _pos >= need) return true;
        if (_pos > 0)
        {
            Buffer.BlockCopy(_buf, _pos, _buf, 0, _len - _pos);
            _bufStart += _pos; _len -= _pos; _pos = 0;
        }
        while (_len < need)
        {
            int n = _stream.Read(_buf, _len, _buf.Length - _len);
            if (n == 0) return false;
            _len += n;
        }
        return true;
    }

    bool TryReadExactly(Span<byte> dest)
    {
        int got = 0;
        int avail = Math.Min(_len - _pos, dest.Length);
        _buf.AsSpan(_pos, avail).CopyTo(dest);
        _pos += avail; got = avail;
        if (got == dest.Length) return true;
        // Large reads go straight from the stream.
        _bufStart += _pos; _pos = _len = 0;
        while (got < dest.Length)
        {
            int n = _stream.Read(dest[got..]);
            if (n == 0) return false;
            got += n; _bufStart += n;
        }
        return true;
    }

    long ReadVarint(string what)
    {
        ulong v = 0; int shift = 0;
        long at = Offset;
        while (true)
        {
            if (!Fill(1)) throw Error(at, $"the file is truncated: it ends inside {what}");
            byte b = _buf[_pos++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) break;
            shift += 7;
            if (shift > 63) throw Error(at, $"a varint in {what} is longer than 10 bytes");
        }
        return (long)(v >> 1) ^ -(long)(v & 1);
    }

    byte[] ReadLengthPrefixed(string what)
    {
        long at = Offset;
        long n = ReadVarint(what);
        if (n < 0 || n > _maxBlock) throw Error(at, $"{what} has a bad length {n}");
        var b = new byte[n];
        if (!TryReadExactly(b)) throw Error(at, $"the file is truncated: it ends inside {what}");
        return b;
    }
}

/// <summary>Writes an Avro object container file: header, then one block per <see cref="WriteBlock"/>.</summary>
internal sealed class AvroContainerWriter
{
    readonly Stream _stream;
    readonly AvroCodec _codec;
    readonly byte[] _sync = RandomNumberGenerator.GetBytes(16);
    readonly AvroEncoder _header = new();
    byte[] _compressed = new byte[1 << 16];

    public AvroContainerWriter(Stream stream, string schemaJson, AvroCodec codec, IReadOnlyDictionary<string, string>? extraMeta = null)
    {
        _stream = stream; _codec = codec;
        var h = _header;
        h.WriteFixed(AvroContainerReader.Magic);
        var meta = new List<(string, byte[])> { ("avro.schema", Encoding.UTF8.GetBytes(schemaJson)), ("avro.codec", Encoding.UTF8.GetBytes(codec.Name)) };
        if (extraMeta is not null) foreach (var (k, v) in extraMeta) meta.Add((k, Encoding.UTF8.GetBytes(v)));
        h.WriteLong(meta.Count);
        foreach (var (k, v) in meta) { h.WriteBytes(Encoding.UTF8.GetBytes(k)); h.WriteBytes(v); }
        h.WriteLong(0);
        h.WriteFixed(_sync);
        _stream.Write(h.Written);
    }

    public void WriteBlock(long count, ReadOnlySpan<byte> data)
    {
        if (count == 0) return;
        ReadOnlySpan<byte> body = data;
        if (_codec is not NullCodec)
        {
            int n = _codec.Compress(data, ref _compressed);
            body = _compressed.AsSpan(0, n);
        }
        var h = _header;
        h.Clear();
        h.WriteLong(count);
        h.WriteLong(body.Length);
        _stream.Write(h.Written);
        _stream.Write(body);
        _stream.Write(_sync);
    }

    public void Flush() => _stream.Flush();
}
