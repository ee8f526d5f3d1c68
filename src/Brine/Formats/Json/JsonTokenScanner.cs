using System.Text;
using System.Text.Json;
using Brine.Model;

namespace Brine.Formats.Json;

/// <summary>One token as <see cref="Utf8JsonReader"/> saw it: offsets into the scanner's buffer, valid until the next <see cref="JsonTokenScanner.Next"/>.</summary>
internal struct RawToken
{
    public JsonTokenType Type;
    /// <summary>A string or property name holding escapes: <see cref="Unescaped"/> has its text.</summary>
    public bool Escaped;
    /// <summary>The start of a top-level value (depth 0).</summary>
    public bool TopLevel;
    public int TokenStart;
    public int ValueStart;
    public int ValueLength;
    public string? Unescaped;
}

/// <summary>
/// Streams JSON tokens from a <see cref="Stream"/> with <see cref="Utf8JsonReader"/> over a refillable buffer. The
/// buffer grows only when one token does not fit, so a huge array or a JSON Lines file is read in flat memory.
/// Tokens are parsed in batches (one <see cref="Utf8JsonReader"/> per batch) and handed out one at a time.
/// </summary>
internal sealed class JsonTokenScanner
{
    const int InitialBuffer = 1 << 16;
    const int BatchSize = 512;
    static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    readonly Stream _stream;
    readonly string _format;
    readonly bool _lines;
    readonly long _maxTokenBytes;
    byte[] _buf = new byte[InitialBuffer];
    int _dataEnd;
    int _consumed;
    bool _eof;
    JsonReaderState _state;
    readonly RawToken[] _tokens = new RawToken[BatchSize];
    int _count, _pos = -1;
    int _depth;
    bool _seenValue;
    BrineFormatException? _pendingError;

    // What lies before _buf[0], for locations and for the check between top-level values.
    long _base;
    long _linesBefore;
    long _columnBefore;
    bool _gapCarryNewline;       // the whitespace right before _buf[0] holds a line break

    /// <param name="lines">JSON Lines (for messages). Either way, top-level values must be on separate lines: jq writes
    /// several values so, and JSONTestSuite wants <c>{"a": true} "x"</c> refused.</param>
    public JsonTokenScanner(Stream stream, string format, ReadOptions options, bool lines)
    {
        _stream = stream;
        _format = format;
        _lines = lines;
        _maxTokenBytes = Math.Max(1024, options.MaxValueBytes);
        _state = new JsonReaderState(ReaderOptions(options));
        SkipByteOrderMark();
    }

    /// <summary>The reader options of Brine's JSON: several top-level values, no comments, no trailing commas.</summary>
    internal static JsonReaderOptions ReaderOptions(ReadOptions options) => new()
    {
        AllowMultipleValues = true,
        MaxDepth = options.MaxDepth,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>The current token; valid until the next call of <see cref="Next"/>.</summary>
    public ref RawToken Current => ref _tokens[_pos];

    public ReadOnlySpan<byte> ValueOf(in RawToken t) => _buf.AsSpan(t.ValueStart, t.ValueLength);

    public ReadOnlySpan<byte> Slice(int start, int length) => _buf.AsSpan(start, length);

    /// <summary>Whether any top-level value has started.</summary>
    public bool SeenValue => _seenValue;

    /// <summary>Advances to the next token; false at the end of the input.</summary>
    public bool Next()
    {
        if (++_pos < _count) return true;
        if (!FillBatch()) { _pos = _count = 0; return false; }
        _pos = 0;
        return true;
    }

    /// <summary>The text of a string or property name token (strict UTF-8).</summary>
    public string GetString(in RawToken t)
    {
        if (t.Escaped) return t.Unescaped!;
        try { return StrictUtf8.GetString(_buf, t.ValueStart, t.ValueLength); }
        catch (DecoderFallbackException e)
        {
            throw new BrineFormatException(_format, LocationOf(t.ValueStart + Math.Max(0, e.Index)), "invalid UTF-8 in a string");
        }
    }

    /// <summary>Text from bytes already checked to be UTF-8 (see <see cref="JsonTokenReader"/>).</summary>
    static string Decode(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);

    /// <summary>
    /// The text of an unescaped property name, from its bytes (checked UTF-8). Names repeat (every record has the same keys), so recent names are kept
    /// in a small table keyed by their bytes: a hit costs a hash and a compare instead of decoding and allocating.
    /// </summary>
    public string GetName(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length is 0 or > 64) return Decode(bytes);
        // A cheap hash is enough: a collision only costs a miss.
        uint h = (uint)bytes.Length * 0x9E3779B1u ^ bytes[0] ^ ((uint)bytes[^1] << 3) ^ ((uint)bytes[bytes.Length / 2] << 6);
        int slot = (int)((h ^ (h >> 16)) & (NameSlots - 1));
        ref var entry = ref _names[slot];
        if (entry.Bytes is not null && bytes.SequenceEqual(entry.Bytes)) return entry.Text;
        var text = Decode(bytes);
        entry = (bytes.ToArray(), text);
        return text;
    }

    /// <summary>
    /// The text of an unescaped string value, from its bytes (checked UTF-8). Short values repeat often (codes, flags, enum names): up to 8 bytes they are
    /// packed into a number that keys a small table, so a repeat costs no allocation.
    /// </summary>
    public string GetValueString(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length is 0 or > 7) return Decode(bytes);
        ulong key = (ulong)bytes.Length << 56;
        for (int i = 0; i < bytes.Length; i++) key |= (ulong)bytes[i] << (8 * i);
        int slot = (int)((key * 0x9E3779B97F4A7C15ul) >> 56) & (ShortSlots - 1);
        ref var entry = ref _shorts[slot];
        if (entry.Key == key && entry.Text is not null) return entry.Text;
        var text = Decode(bytes);
        entry = (key, text);
        return text;
    }

    const int ShortSlots = 256;
    readonly (ulong Key, string Text)[] _shorts = new (ulong, string)[ShortSlots];

    const int NameSlots = 256;
    readonly (byte[] Bytes, string Text)[] _names = new (byte[], string)[NameSlots];

    /// <summary><c>line L, column C</c> of a buffer offset (columns count bytes from 1).</summary>
    public string LocationOf(int offset)
    {
        offset = Math.Clamp(offset, 0, _dataEnd);
        var before = _buf.AsSpan(0, offset);
        long line = _linesBefore + before.Count((byte)'\n');
        int lastNl = before.LastIndexOf((byte)'\n');
        long column = lastNl >= 0 ? offset - lastNl : _columnBefore + offset + 1;
        return $"line {line + 1}, column {column}";
    }

    public string CurrentLocation => _pos >= 0 && _pos < _count ? LocationOf(_tokens[_pos].TokenStart) : LocationOf(_consumed);

    public BrineFormatException Error(int offset, string message) => new(_format, LocationOf(offset), message);

    void SkipByteOrderMark()
    {
        // A UTF-8 byte order mark is common in files saved on Windows; Utf8JsonReader refuses it, so step over it.
        while (_dataEnd < 3 && !_eof) ReadMore();
        if (_dataEnd >= 3 && _buf[0] == 0xEF && _buf[1] == 0xBB && _buf[2] == 0xBF) _consumed = 3;
    }

    bool FillBatch()
    {
        _count = 0;
        if (_pendingError is { } pending) throw pending;
        while (true)
        {
            if (_consumed < _dataEnd || _eof)
            {
                if (_eof && _depth == 0 && IsAllWhitespace(_buf.AsSpan(_consumed, _dataEnd - _consumed)))
                {
                    _consumed = _dataEnd;
                    return false;
                }
                ParseBatch();
                if (_count > 0) return true;
                if (_eof) return false;
            }
            ReadMore();
        }
    }

    void ParseBatch()
    {
        int start = _consumed;
        var reader = new Utf8JsonReader(_buf.AsSpan(start, _dataEnd - start), _eof, _state);
        try
        {
            while (_count < BatchSize && reader.Read())
            {
                ref var t = ref _tokens[_count++];
                t.Type = reader.TokenType;
                t.TokenStart = start + (int)reader.TokenStartIndex;
                t.Escaped = false; // Unescaped is left stale on purpose (read only when Escaped): no write barrier per token
                t.TopLevel = false;
                switch (t.Type)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        t.ValueStart = t.TokenStart; t.ValueLength = 0;
                        if (_depth == 0) TopLevelStart(ref t);
                        _depth++;
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        t.ValueStart = t.TokenStart; t.ValueLength = 0;
                        _depth--;
                        break;
                    default:
                    {
                        var span = reader.ValueSpan;
                        // ValueSpan is a slice of our buffer (no sequences here): recover its offset.
                        t.ValueStart = t.Type is JsonTokenType.String or JsonTokenType.PropertyName ? t.TokenStart + 1 : t.TokenStart;
                        t.ValueLength = span.Length;
                        if (reader.ValueIsEscaped)
                        {
                            t.Escaped = true;
                            try { t.Unescaped = reader.GetString(); }
                            catch (InvalidOperationException e) { throw Error(t.TokenStart, Tidy(e.Message)); }
                        }
                        if (_depth == 0) TopLevelStart(ref t);
                        break;
                    }
                }
            }
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $"line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}" : LocationOf(start + (int)reader.BytesConsumed);
            var error = new BrineFormatException(_format, where, Tidy(e.Message), e);
            if (_count == 0) throw error;
            // Hand out the good tokens before it first, so the error's model path names the right place.
            _pendingError = error;
            return;
        }
        _consumed = start + (int)reader.BytesConsumed;
        _state = reader.CurrentState;
    }

    void TopLevelStart(ref RawToken t)
    {
        t.TopLevel = true;
        if (_seenValue && !GapBefore(t.TokenStart))
            throw Error(t.TokenStart, _lines
                ? "another value on the same line: JSON Lines holds one value per line"
                : "unexpected data after the end of the JSON value (several top-level values must each start on a new line)");
        _seenValue = true;
    }

    /// <summary>Whether the whitespace right before <paramref name="offset"/> holds a line break.</summary>
    bool GapBefore(int offset)
    {
        int i = offset - 1;
        bool newline = false;
        for (; i >= 0; i--)
        {
            byte b = _buf[i];
            if (b == (byte)'\n') newline = true;
            else if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return newline;
        }
        return newline || _gapCarryNewline;
    }

    void ReadMore()
    {
        if (_eof) return;
        if (_consumed > 0) Compact();
        if (_dataEnd == _buf.Length)
        {
            if (_buf.Length >= _maxTokenBytes)
                throw new BrineLimitException(_format, LocationOf(0), $"a single token is longer than {_maxTokenBytes:N0} bytes (raise ReadOptions.MaxValueBytes)");
            Array.Resize(ref _buf, (int)Math.Min(Array.MaxLength, Math.Min(_maxTokenBytes + 16, (long)_buf.Length * 2)));
        }
        int n = _stream.Read(_buf, _dataEnd, _buf.Length - _dataEnd);
        if (n == 0) _eof = true;
        else _dataEnd += n;
    }

    /// <summary>Drops the consumed bytes, keeping what locations and the separator check need to know about them.</summary>
    void Compact()
    {
        var gone = _buf.AsSpan(0, _consumed);
        int nl = gone.Count((byte)'\n');
        _linesBefore += nl;
        int lastNl = gone.LastIndexOf((byte)'\n');
        _columnBefore = lastNl >= 0 ? _consumed - lastNl - 1 : _columnBefore + _consumed;

        _gapCarryNewline = GapBefore(_consumed);

        Buffer.BlockCopy(_buf, _consumed, _buf, 0, _dataEnd - _consumed);
        _base += _consumed;
        _dataEnd -= _consumed;
        _consumed = 0;
    }

    static bool IsAllWhitespace(ReadOnlySpan<byte> s) => s.IndexOfAnyExcept(" \t\r\n"u8) < 0;

    /// <summary>Drops the "LineNumber: … | BytePositionInLine: …" tail: the location is said separately.</summary>
    static string Tidy(string message)
    {
        int i = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (i < 0) i = message.IndexOf(" Path:", StringComparison.Ordinal);
        var text = (i >= 0 ? message[..i] : message).TrimEnd();
        // System.Text.Json's advice is for its own callers; Brine's reader options are not what the user can change.
        return text.Replace(" which is not supported in this mode. Change the reader options.", "", StringComparison.Ordinal)
                   .Replace(" Change the reader options.", "", StringComparison.Ordinal);
    }
}
