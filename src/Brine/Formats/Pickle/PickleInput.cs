using System.Runtime.CompilerServices;

namespace Brine.Formats.Pickle;

/// <summary>A buffered byte source over a stream that knows its absolute offset, for pickle's opcodes and their arguments.</summary>
sealed class PickleInput
{
    readonly Stream _stream;
    byte[] _buf = new byte[64 * 1024];
    int _pos, _len;
    long _base;
    bool _eof;

    readonly long _origin = -1;

    public PickleInput(Stream stream)
    {
        _stream = stream;
        if (stream.CanSeek) _origin = stream.Position;
    }

    /// <summary>Bytes read from the stream but not yet taken.</summary>
    public int Buffered => _len - _pos;

    /// <summary>Whether <see cref="Rewind"/> can go back to an earlier offset (the stream is seekable).</summary>
    public bool CanRewind => _origin >= 0;

    /// <summary>Goes back to <paramref name="position"/> (an earlier <see cref="Position"/>), so a pickle can be run again.</summary>
    public void Rewind(long position)
    {
        if (position >= _base && position <= _base + _len) { _pos = (int)(position - _base); return; }
        _stream.Position = _origin + position;
        _base = position; _pos = _len = 0; _eof = false;
    }

    /// <summary>Bytes from the next one to the end of the stream, or 0 when the stream cannot tell (it cannot seek).</summary>
    public long Remaining => _stream.CanSeek ? _stream.Length - _stream.Position + Buffered : 0;

    /// <summary>Offset of the next byte from the start of the stream.</summary>
    public long Position => _base + _pos;

    /// <summary>Makes at least <paramref name="need"/> bytes available in the buffer when the stream has them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    bool Ensure(int need) => _len - _pos >= need || Fill(need);

    // Out of line: every opcode checks the buffer, and only one in thousands must refill it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    bool Fill(int need)
    {
        if (_eof) return false;
        if (_pos > 0)
        {
            Buffer.BlockCopy(_buf, _pos, _buf, 0, _len - _pos);
            _base += _pos; _len -= _pos; _pos = 0;
        }
        if (need > _buf.Length) Array.Resize(ref _buf, Math.Max(need, _buf.Length * 2));
        while (_len < need)
        {
            int n = _stream.Read(_buf, _len, _buf.Length - _len);
            if (n == 0) { _eof = true; return false; }
            _len += n;
        }
        return true;
    }

    /// <summary>True when no byte is left.</summary>
    public bool AtEnd => !Ensure(1);

    /// <summary>Up to <paramref name="max"/> of the next bytes without taking them (fewer only at the end of the stream).</summary>
    public ReadOnlySpan<byte> PeekUpTo(int max)
    {
        Ensure(max);
        return _buf.AsSpan(_pos, Math.Min(max, _len - _pos));
    }

    /// <summary>Takes <paramref name="n"/> bytes already seen through <see cref="PeekUpTo"/>.</summary>
    public void Skip(int n) => _pos += n;

    /// <summary>Steps over <paramref name="n"/> bytes (seeking past what is not buffered); false when the stream ends first.</summary>
    public bool Advance(long n)
    {
        if (n <= _len - _pos) { _pos += (int)n; return true; }
        n -= _len - _pos;
        _base += _len; _pos = _len = 0;
        if (_stream.CanSeek)
        {
            long left = _stream.Length - _stream.Position;
            if (left < n) { _stream.Position = _stream.Length; _base += left; _eof = true; return false; }
            _stream.Position += n;
            _base += n;
            return true;
        }
        var scratch = new byte[(int)Math.Min(n, 1 << 16)];
        while (n > 0)
        {
            int r = _stream.Read(scratch, 0, (int)Math.Min(n, scratch.Length));
            if (r == 0) { _eof = true; return false; }
            n -= r; _base += r;
        }
        return true;
    }

    /// <summary>The next byte without taking it, or -1 at the end.</summary>
    public int PeekByte() => Ensure(1) ? _buf[_pos] : -1;

    /// <summary>The next byte, or -1 at the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadByte() => _pos < _len ? _buf[_pos++] : Ensure(1) ? _buf[_pos++] : -1;

    /// <summary>Exactly <paramref name="n"/> bytes (valid until the next read), or false when the stream ends first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryRead(int n, out ReadOnlySpan<byte> bytes)
    {
        if (!Ensure(n)) { bytes = default; return false; }
        bytes = _buf.AsSpan(_pos, n);
        _pos += n;
        return true;
    }

    /// <summary>A fresh array of <paramref name="n"/> bytes, read straight from the stream when large.</summary>
    public byte[]? TryReadArray(long n)
    {
        if (n > Array.MaxLength) return null;
        // Never allocate far beyond what the stream holds: a corrupt length would otherwise cost gigabytes.
        if (n > 1 << 24)
        {
            if (_stream.CanSeek) { if (_stream.Length - _stream.Position + (_len - _pos) < n) return null; }
            else return ReadChunked(n);
        }
        var result = new byte[n];
        int have = (int)Math.Min(_len - _pos, n);
        Buffer.BlockCopy(_buf, _pos, result, 0, have);
        _pos += have;
        if (have == n) return result;
        // The buffer is used up: read the rest straight into the result.
        _base += _len; _pos = _len = 0;
        int got = have;
        while (got < n)
        {
            int r = _eof ? 0 : _stream.Read(result, got, (int)n - got);
            if (r == 0) { _eof = true; _base += got - have; return null; }
            got += r;
        }
        _base += got - have;
        return result;
    }

    byte[]? ReadChunked(long n)
    {
        var ms = new MemoryStream();
        int have = (int)Math.Min(_len - _pos, n);
        ms.Write(_buf, _pos, have);
        _pos += have;
        _base += _len; _pos = _len = 0;
        var chunk = new byte[1 << 20];
        long got = have;
        while (got < n)
        {
            int r = _eof ? 0 : _stream.Read(chunk, 0, (int)Math.Min(chunk.Length, n - got));
            if (r == 0) { _eof = true; _base += got - have; return null; }
            ms.Write(chunk, 0, r);
            got += r;
        }
        _base += got - have;
        return ms.ToArray();
    }

    /// <summary>The bytes up to the next newline (which is consumed, not returned), or false when no newline comes.</summary>
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        int scanned = 0;
        while (true)
        {
            int i = _buf.AsSpan(_pos + scanned, _len - _pos - scanned).IndexOf((byte)'\n');
            if (i >= 0)
            {
                line = _buf.AsSpan(_pos, scanned + i);
                _pos += scanned + i + 1;
                return true;
            }
            scanned = _len - _pos;
            if (!Ensure(scanned + 1)) { _pos = _len; line = default; return false; }
        }
    }
}
