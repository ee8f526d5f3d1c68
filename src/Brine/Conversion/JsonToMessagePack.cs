using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Brine.Formats;
using Brine.Formats.Json;
using Brine.Formats.MessagePack;
using Brine.Model;
using MessagePack;
using static Brine.Formats.Json.JsonConventions;

namespace Brine.Conversion;

/// <summary>
/// JSON → MessagePack without the token model: a <see cref="Utf8JsonReader"/> loop that writes MessagePack bytes,
/// giving exactly the bytes of the general path (JSON reader → <see cref="TokenPump"/> → MessagePack writer) at a
/// fraction of its cost. It gives up (returns -1, having written only to its own output) on anything whose handling
/// needs the general path: a jsonpickle or <c>$id</c>/<c>$ref</c> marker, malformed input, a limit, an integer beyond
/// 64 bits. The caller then rewinds both streams and runs the general path, which produces the same output or the
/// same error (format, location, path) — so both streams must be seekable.
/// </summary>
/// <remarks>
/// MessagePack puts a container's count in its header. Each container gets one byte, the header of fewer than 16
/// items, filled in at its end; a container of 16 items or more (rare in records) is noted with its count instead.
/// Once no container is open (between items of a top-level list) and a block is gathered, it is written out: as it
/// stands, or in segments with the longer headers in place of the noted bytes — no bytes are ever moved. The
/// top-level list itself gets an array32 header patched at its end, as the MessagePack writer does on a seekable
/// stream, so memory stays flat however long the list.
/// </remarks>
internal sealed class JsonToMessagePack
{
    const int InitialInput = 1 << 16;
    // At least the output file's buffer, so that FileStream passes the blocks through without copying them.
    const int EmitThreshold = 1 << 16;

    /// <summary>Conversions on this thread that took the direct path to the end / that gave up: tests check that it is taken.</summary>
    [ThreadStatic] internal static int Completed;
    [ThreadStatic] internal static int GaveUp;

    /// <summary>
    /// Whether the direct path may run: JSON (or JSON Lines) to MessagePack between seekable streams, with no setting
    /// but the JSON reader's <c>conventions</c> (another one, today or added later, may change the output: the
    /// general path honours it).
    /// </summary>
    public static bool Applies(Format from, Format to, Stream input, Stream output, ReadOptions read, IReadOnlyDictionary<string, string> settings) =>
        from is JsonFormat or JsonLinesFormat && to is MessagePackFormat && input.CanSeek && output.CanSeek && output.CanWrite
        && read.Settings.Keys.All(k => k == SettingName) && settings.Keys.All(k => k == SettingName);

    /// <summary>Converts; returns the number of top-level values, or -1 when the general path must run instead.</summary>
    public static long Run(Stream input, Stream output, ReadOptions options, Action<long>? onValue)
    {
        var t = new JsonToMessagePack(input, output, options, onValue);
        try
        {
            long n = t.Convert();
            if (n >= 0) Completed++; else GaveUp++;
            return n;
        }
        finally { t._body.Release(); t._header.Release(); }
    }

    readonly Stream _in, _outStream;
    readonly bool _conventions;
    readonly long _maxTokenBytes;
    readonly Action<long>? _onValue;
    JsonReaderState _state;
    byte[] _buf = new byte[InitialInput];
    int _dataEnd, _consumed;
    int _validEnd; // bytes before it are known to be UTF-8
    bool _eof;

    /// <summary>The output not yet written to the stream, each container behind a one-byte header that is filled in at its end.</summary>
    readonly OutputBuffer _body = new(EmitThreshold * 2);
    /// <summary>Containers of 16 items or more, whose header is longer than their one byte: written around it at emit time.</summary>
    (int At, uint Count, bool IsMap)[] _wide = new (int, uint, bool)[16];
    int _wideCount;
    readonly OutputBuffer _header = new(64);

    // Open containers: the offset of their header byte (-1 for a top-level list, whose header is patched), and the item
    // count of the container around each, put aside while it is open; _count counts the innermost's items.
    int[] _openHeader = new int[64];
    long[] _outerCount = new long[64];
    int _depth;
    long _count;
    int _pendingOpen; // open containers with a header still to write
    long _patchAt = -1;

    bool _firstName; // the next property name is an object's first, where conventions put their markers
    bool _seen;
    long _values;
    // Top-level values must be on separate lines: whether the whitespace since the last one holds a line break.
    bool _inGap, _gapNewline;
    int _gapFrom;

    JsonToMessagePack(Stream input, Stream output, ReadOptions options, Action<long>? onValue)
    {
        _in = input;
        _outStream = output;
        _onValue = onValue;
        _conventions = Enabled(options.Setting(SettingName));
        _maxTokenBytes = Math.Max(1024, options.MaxValueBytes);
        // The same reader options as JsonTokenScanner, so the same inputs are accepted.
        _state = new JsonReaderState(JsonTokenScanner.ReaderOptions(options));
    }

    long Convert()
    {
        while (_dataEnd < 3 && !_eof) if (!ReadMore()) return -1;
        // A UTF-8 byte order mark is stepped over, as the JSON reader does.
        if (_dataEnd >= 3 && _buf[0] == 0xEF && _buf[1] == 0xBB && _buf[2] == 0xBF) _consumed = 3;
        while (true)
        {
            var reader = new Utf8JsonReader(_buf.AsSpan(_consumed, _validEnd - _consumed), _eof, _state);
            bool ok;
            try { ok = Pump(ref reader); }
            catch (Exception e) when (e is JsonException or InvalidOperationException) { ok = false; }
            if (!ok) return -1;
            _consumed += (int)reader.BytesConsumed;
            _state = reader.CurrentState;
            if (_eof) break;
            if (!ReadMore()) return -1;
        }
        if (!_seen || _depth != 0) return -1; // no value (an error in JSON, nothing in JSON Lines) or cut short
        Emit();
        _outStream.Flush();
        return _values;
    }

    /// <summary>Reads tokens until the buffer runs out; false to give up.</summary>
    bool Pump(ref Utf8JsonReader reader)
    {
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    if (_firstName)
                    {
                        _firstName = false;
                        var name = reader.ValueSpan;
                        if (_conventions && (reader.ValueIsEscaped || (name.Length >= 3 && name[0] is (byte)'p' or (byte)'$')) && IsMarker(ref reader)) return false;
                    }
                    if (!WriteString(ref reader)) return false;
                    continue; // a name is not an item: the entry is counted by its value
                case JsonTokenType.String:
                    if (!BeginValue(ref reader) || !WriteString(ref reader)) return false;
                    break;
                case JsonTokenType.Number:
                    if (!BeginValue(ref reader)) return false;
                    if (reader.TryGetInt64(out long v)) MessagePackEncoding.WriteInteger(_body, v);
                    else if (TryShortDecimal(reader.ValueSpan, out double d)) MessagePackEncoding.WriteFloat(_body, d);
                    else if (!WriteNumber(reader.ValueSpan)) return false;
                    break;
                case JsonTokenType.True:
                    if (!BeginValue(ref reader)) return false;
                    _body.WriteByte(MessagePackCode.True);
                    break;
                case JsonTokenType.False:
                    if (!BeginValue(ref reader)) return false;
                    _body.WriteByte(MessagePackCode.False);
                    break;
                case JsonTokenType.Null:
                    if (!BeginValue(ref reader)) return false;
                    _body.WriteByte(MessagePackCode.Nil);
                    break;
                case JsonTokenType.StartObject:
                    if (!BeginValue(ref reader)) return false;
                    Open(isMap: true);
                    _firstName = true;
                    continue;
                case JsonTokenType.StartArray:
                    if (!BeginValue(ref reader)) return false;
                    if (_depth == 0) OpenTopLevelList(); else Open(isMap: false);
                    continue;
                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    _firstName = false;
                    if (!Close()) return false;
                    break;
                default:
                    return false;
            }
            // A value has ended here.
            if (_depth == 0) EndTopLevel(ref reader);
            else if (_pendingOpen == 0 && _body.Length >= EmitThreshold) Emit();
        }
        return true;
    }

    /// <summary>Counts a value in its container, or checks a top-level value's separation from the one before.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    bool BeginValue(ref Utf8JsonReader reader)
    {
        if (_depth != 0) { _count++; return true; }
        return BeginTopLevel(ref reader);
    }

    bool BeginTopLevel(ref Utf8JsonReader reader)
    {
        if (_seen && _inGap)
        {
            int start = _consumed + (int)reader.TokenStartIndex;
            if (!_gapNewline && _buf.AsSpan(_gapFrom, start - _gapFrom).IndexOf((byte)'\n') < 0) return false;
        }
        _seen = true;
        _inGap = false;
        return true;
    }

    void EndTopLevel(ref Utf8JsonReader reader)
    {
        Emit();
        _values++;
        _onValue?.Invoke(_values);
        _inGap = true;
        _gapNewline = false;
        _gapFrom = _consumed + (int)reader.BytesConsumed;
    }

    void Open(bool isMap)
    {
        // The one-byte header of fewer than 16 items, its count added at the end; the kind tells a map from a list then.
        Push(_body.Length);
        _body.WriteByte(isMap ? MessagePackCode.MinFixMap : MessagePackCode.MinFixArray);
        _pendingOpen++;
    }

    void OpenTopLevelList()
    {
        // As MessagePackTokenWriter does on a seekable stream: a fixed-width array32 header, its count patched at the end.
        Emit();
        _patchAt = _outStream.Position;
        _body.Write(stackalloc byte[] { MessagePackCode.Array32, 0, 0, 0, 0 });
        Push(-1);
    }

    void Push(int header)
    {
        if (_depth == _openHeader.Length)
        {
            Array.Resize(ref _openHeader, _depth * 2);
            Array.Resize(ref _outerCount, _depth * 2);
        }
        _openHeader[_depth] = header;
        _outerCount[_depth] = _count;
        _count = 0;
        _depth++;
    }

    bool Close()
    {
        _depth--;
        int h = _openHeader[_depth];
        long count = _count;
        _count = _outerCount[_depth];
        if (count > uint.MaxValue) return false; // the general path reports MessagePack's limit
        if (h >= 0)
        {
            _pendingOpen--;
            var body = _body.WrittenSpan;
            if (count < 16) { body[h] |= (byte)count; return true; }
            if (_wideCount == _wide.Length) Array.Resize(ref _wide, _wideCount * 2);
            _wide[_wideCount++] = (h, (uint)count, body[h] == MessagePackCode.MinFixMap);
            return true;
        }
        Emit();
        long end = _outStream.Position;
        Span<byte> n = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(n, (uint)count);
        _outStream.Position = _patchAt + 1;
        _outStream.Write(n);
        _outStream.Position = end;
        return true;
    }

    /// <summary>Writes out what is gathered, with the longer headers of wide containers in place of their one byte. No container may be open.</summary>
    void Emit()
    {
        var body = _body.Written;
        if (_wideCount == 0) _outStream.Write(body);
        else
        {
            // Inner containers end first: put the headers back in the order of the bytes.
            var wide = _wide.AsSpan(0, _wideCount);
            wide.Sort((x, y) => x.At.CompareTo(y.At));
            int from = 0;
            foreach (var (at, count, isMap) in wide)
            {
                _outStream.Write(body[from..at]);
                _header.Length = 0;
                MessagePackEncoding.WriteContainerHeader(_header, isMap, count);
                _outStream.Write(_header.Written);
                from = at + 1;
            }
            _outStream.Write(body[from..]);
        }
        _body.Length = 0;
        _wideCount = 0;
    }

    /// <summary>A string or property name, as the JSON reader and the MessagePack writer treat it. The input is
    /// known to be UTF-8 (see <see cref="Validate"/>), as the JSON reader checks string by string.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    bool WriteString(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped) return WriteEscaped(reader.ValueSpan);
        var utf8 = reader.ValueSpan;
        int n = utf8.Length;
        if (n >= 32) { MessagePackEncoding.WriteStringUtf8(_body, utf8); return true; }
        // Most strings are short: a fixstr header and one fixed 32-byte copy (the bytes past the string are
        // overwritten later) instead of a call sized to the string, when the input buffer has the bytes to spare.
        var span = _body.GetSpan(33);
        span[0] = (byte)(MessagePackCode.MinFixStr | n);
        ref byte source = ref MemoryMarshal.GetReference(utf8);
        if (Unsafe.ByteOffset(ref MemoryMarshal.GetArrayDataReference(_buf), ref source) <= _buf.Length - 32)
            Unsafe.CopyBlockUnaligned(ref span[1], ref source, 32);
        else utf8.CopyTo(span[1..]);
        _body.Advance(n + 1);
        return true;
    }

    /// <summary>
    /// Unescapes straight into the output, after room for the longest header, which is then written just before the
    /// text. The JSON reader makes a string of it and the writer encodes that back to UTF-8: the same bytes. The
    /// reader refuses a lone surrogate escape; so does this (false).
    /// </summary>
    bool WriteEscaped(ReadOnlySpan<byte> escaped)
    {
        var span = _body.GetSpan(escaped.Length + 5); // unescaping only shortens
        int n = Unescape(escaped, span[5..]);
        if (n < 0) return false;
        int header = n < 32 ? 1 : n <= byte.MaxValue ? 2 : n <= ushort.MaxValue ? 3 : 5;
        span.Slice(5, n).CopyTo(span[header..]);
        int before = _body.Length;
        MessagePackEncoding.WriteStringHeader(_body, n);
        _body.Length = before + header + n;
        return true;
    }

    /// <summary>JSON escapes (already checked well-formed by the reader) decoded to UTF-8; -1 for a lone surrogate.
    /// <paramref name="d"/> holds at least as many bytes as <paramref name="s"/>: unescaping only shortens.</summary>
    static int Unescape(ReadOnlySpan<byte> s, Span<byte> d)
    {
        if (d.Length < s.Length) throw new ArgumentException("the destination is shorter than the escaped text");
        ref byte src = ref MemoryMarshal.GetReference(s);
        ref byte dst = ref MemoryMarshal.GetReference(d);
        int i = 0, o = 0, n = s.Length;
        while (true)
        {
            // Strings are short and escapes close together: a plain loop beats a vectorised search here.
            byte b;
            while (i < n && (b = Unsafe.Add(ref src, i)) != '\\') { Unsafe.Add(ref dst, o++) = b; i++; }
            if (i == n) return o;
            byte c = s[i + 1]; // the reader checked that an escape is whole
            i += 2;
            switch (c)
            {
                case (byte)'b': Unsafe.Add(ref dst, o++) = (byte)'\b'; continue;
                case (byte)'f': Unsafe.Add(ref dst, o++) = (byte)'\f'; continue;
                case (byte)'n': Unsafe.Add(ref dst, o++) = (byte)'\n'; continue;
                case (byte)'r': Unsafe.Add(ref dst, o++) = (byte)'\r'; continue;
                case (byte)'t': Unsafe.Add(ref dst, o++) = (byte)'\t'; continue;
                case (byte)'u': break;
                default: Unsafe.Add(ref dst, o++) = c; continue; // \" \\ \/
            }
            uint cp = Hex4(s.Slice(i, 4));
            i += 4;
            if (cp - 0xD800u < 0x800u)
            {
                // A high surrogate must be followed by an escaped low one: together one character.
                if (cp >= 0xDC00 || i + 6 > n || s[i] != '\\' || s[i + 1] != 'u') return -1;
                uint low = Hex4(s.Slice(i + 2, 4));
                if (low - 0xDC00u >= 0x400u) return -1;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                i += 6;
            }
            // UTF-8 of the code point; the escape took more bytes than this writes, so it fits.
            if (cp < 0x80) Unsafe.Add(ref dst, o++) = (byte)cp;
            else if (cp < 0x800)
            {
                Unsafe.Add(ref dst, o++) = (byte)(0xC0 | (cp >> 6));
                Unsafe.Add(ref dst, o++) = (byte)(0x80 | (cp & 0x3F));
            }
            else if (cp < 0x10000)
            {
                Unsafe.Add(ref dst, o++) = (byte)(0xE0 | (cp >> 12));
                Unsafe.Add(ref dst, o++) = (byte)(0x80 | ((cp >> 6) & 0x3F));
                Unsafe.Add(ref dst, o++) = (byte)(0x80 | (cp & 0x3F));
            }
            else
            {
                Unsafe.Add(ref dst, o++) = (byte)(0xF0 | (cp >> 18));
                Unsafe.Add(ref dst, o++) = (byte)(0x80 | ((cp >> 12) & 0x3F));
                Unsafe.Add(ref dst, o++) = (byte)(0x80 | ((cp >> 6) & 0x3F));
                Unsafe.Add(ref dst, o++) = (byte)(0x80 | (cp & 0x3F));
            }
        }
    }

    static uint Hex4(ReadOnlySpan<byte> h)
    {
        uint v = 0;
        for (int j = 0; j < 4; j++)
        {
            uint c = h[j];
            v = (v << 4) | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        return v;
    }

    static readonly double[] PowersOfTen = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };

    /// <summary>
    /// The commonest non-integer, a fraction of at most 15 digits and no exponent (<c>51.29</c>): the JSON reader makes
    /// a float of it (a double keeps every such literal), and its double is the digits as an integer over a power of
    /// ten — both exact in a double, so the one IEEE division rounds correctly, as double.Parse does. Else false.
    /// </summary>
    static bool TryShortDecimal(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        int i = 0;
        bool negative = s.Length > 0 && s[0] == '-';
        if (negative) i++;
        long digits = 0;
        int count = 0, point = -1;
        for (; i < s.Length; i++)
        {
            uint c = (uint)(s[i] - '0');
            if (c <= 9) { digits = digits * 10 + c; if (++count > 15) return false; }
            else if (s[i] == '.' && point < 0) point = count;
            else return false; // an exponent
        }
        if (point < 0) return false;
        value = digits / PowersOfTen[count - point];
        if (negative) value = -value;
        return true;
    }

    /// <summary>A number that is not a plain 64-bit integer: typed as the JSON reader types it, encoded as the writer encodes it.</summary>
    bool WriteNumber(ReadOnlySpan<byte> literal)
    {
        if (JsonNumbers.Parse(literal, out var kind, out long int64, out var big, out double dbl, out var dec) is not null) return false;
        switch (kind)
        {
            case JsonNumbers.Kind.Int: MessagePackEncoding.WriteInteger(_body, int64); return true;
            case JsonNumbers.Kind.Big: return MessagePackEncoding.WriteBigInt(_body, big) is null;
            case JsonNumbers.Kind.Float: MessagePackEncoding.WriteFloat(_body, dbl); return true;
            default: MessagePackEncoding.WriteDecimal(_body, dec); return true;
        }
    }

    /// <summary>Whether an object's first property name is one of the conventions' markers, which the JSON reader turns into tags, bytes or references.</summary>
    static bool IsMarker(ref Utf8JsonReader reader)
    {
        // Markers are at most 11 bytes, and an escape takes at most 6 bytes a byte: a longer escaped name is none.
        Span<byte> buffer = stackalloc byte[72];
        scoped ReadOnlySpan<byte> name;
        if (!reader.ValueIsEscaped) name = reader.ValueSpan;
        else if (reader.ValueSpan.Length > buffer.Length) return false;
        else name = buffer[..reader.CopyString(buffer)];
        return name.SequenceEqual(PyObject) || name.SequenceEqual(PyTuple) || name.SequenceEqual(PySet) || name.SequenceEqual(PyB64)
            || name.SequenceEqual(PyId) || name.SequenceEqual(PyType) || name.SequenceEqual(PyFunction)
            || name.SequenceEqual(DollarId) || name.SequenceEqual(DollarRef);
    }

    /// <summary>Keeps the unread bytes, then reads more, growing the buffer when one token does not fit; false past the token limit.</summary>
    bool ReadMore()
    {
        if (_consumed > 0)
        {
            if (_inGap)
            {
                if (_buf.AsSpan(_gapFrom, _consumed - _gapFrom).IndexOf((byte)'\n') >= 0) _gapNewline = true;
                _gapFrom = 0;
            }
            Buffer.BlockCopy(_buf, _consumed, _buf, 0, _dataEnd - _consumed);
            _dataEnd -= _consumed;
            _validEnd -= _consumed;
            _consumed = 0;
        }
        if (_dataEnd == _buf.Length)
        {
            if (_buf.Length >= _maxTokenBytes) return false; // the general path reports the limit
            Array.Resize(ref _buf, (int)Math.Min(Array.MaxLength, Math.Min(_maxTokenBytes + 16, (long)_buf.Length * 2)));
        }
        int n = _in.Read(_buf, _dataEnd, _buf.Length - _dataEnd);
        if (n == 0) _eof = true;
        else _dataEnd += n;
        return Validate();
    }

    /// <summary>
    /// Checks the bytes read so far for UTF-8, up to the last whole character (all of them at the end), in large
    /// vectorised blocks. JSON allows non-ASCII bytes only inside strings, and the JSON reader refuses a string that is
    /// not UTF-8, so an input that is not UTF-8 throughout fails there anyway: then give up (false) and let it say where.
    /// </summary>
    bool Validate()
    {
        int end = _dataEnd;
        if (!_eof)
        {
            // Leave a character cut by the buffer's end for the next read.
            for (int i = end - 1; i >= Math.Max(_validEnd, end - 3); i--)
            {
                byte b = _buf[i];
                if ((b & 0xC0) == 0x80) continue;
                if (b >= 0xC0 && end - i < (b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2)) end = i;
                break;
            }
        }
        if (!Utf8.IsValid(_buf.AsSpan(_validEnd, end - _validEnd))) return false;
        _validEnd = end;
        return true;
    }
}
