namespace Brine.Formats.MessagePack;

/// <summary>
/// A sliding window over an input stream for the binary readers: the decoders work on contiguous memory
/// (MessagePackReader on a sequence, CborReader on a ReadOnlyMemory), so the unread bytes are kept in one
/// array that is compacted, refilled, and grown only when a single value needs more room.
/// </summary>
internal sealed class InputWindow
{
    readonly Stream _input;
    readonly long _maxWindow;
    public byte[] Buffer;
    /// <summary>First unread byte.</summary>
    public int Pos;
    /// <summary>End of the valid bytes.</summary>
    public int End;
    /// <summary>Stream offset of <c>Buffer[0]</c>.</summary>
    public long Base;
    /// <summary>The stream has no more bytes beyond <see cref="End"/>.</summary>
    public bool Eof;

    public InputWindow(Stream input, int initial, long maxWindow)
    {
        _input = input; Buffer = new byte[initial]; _maxWindow = maxWindow;
    }

    public int Available => End - Pos;
    public long Offset => Base + Pos;
    public ReadOnlyMemory<byte> Unread => Buffer.AsMemory(Pos, End - Pos);

    /// <summary>Makes at least <paramref name="wanted"/> bytes available if the stream has them; returns whether it did.</summary>
    public bool Ensure(int wanted)
    {
        if (End - Pos >= wanted) return true;
        if (Eof) return false;
        if (Pos > 0)
        {
            Buffer.AsSpan(Pos, End - Pos).CopyTo(Buffer);
            Base += Pos; End -= Pos; Pos = 0;
        }
        if (wanted > Buffer.Length)
        {
            if (wanted > _maxWindow) return false;
            long size = Math.Min(Math.Max((long)Buffer.Length * 2, wanted), Math.Min(_maxWindow, Array.MaxLength));
            Array.Resize(ref Buffer, (int)size);
        }
        while (End < Buffer.Length)
        {
            int n = _input.Read(Buffer, End, Buffer.Length - End);
            if (n == 0) { Eof = true; break; }
            End += n;
            if (End - Pos >= wanted) break;
        }
        return End - Pos >= wanted;
    }

    /// <summary>Asks for more than is available now (the decoder ran out): doubles the request. False at the end of input or the size limit.</summary>
    public bool More()
    {
        if (Eof || Available >= _maxWindow) return false;
        int before = Available;
        Ensure((int)Math.Min(Math.Max((long)Available * 2, Available + 4096), Math.Min(_maxWindow, Array.MaxLength)));
        return Available > before;
    }

    /// <summary>Whether the request size for more data is capped by the limit.</summary>
    public bool AtLimit => Available >= _maxWindow || Available >= Array.MaxLength;
}
