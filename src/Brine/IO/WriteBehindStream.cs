using System.Buffers;
using System.Runtime.ExceptionServices;
using Microsoft.Win32.SafeHandles;

namespace Brine.IO;

/// <summary>
/// A file output whose filled blocks are written by a second thread, so that copying them into the page cache overlaps
/// the work that produces them; that thread also flushes what it has written to disk every few MB, so that the final
/// flush to disk only waits for the tail. The thread starts with the first full block: small outputs are written
/// in place. Seeking, reading and <see cref="Flush"/> first wait for the blocks handed over; an error on the writer
/// thread is thrown by the next call that hands over or waits. Owns the file stream; disposing flushes, unless
/// <see cref="Discard"/> gave up on the output first.
/// </summary>
internal sealed class WriteBehindStream : Stream
{
    internal const int BlockSize = 1 << 20;
    // Bounds the memory held: the producer waits when this many blocks are not yet written.
    const int MaxQueued = 4;
    // How much the writer writes between two flushes to disk.
    const long DiskFlushStep = 8 << 20;

    readonly FileStream _file;
    readonly SafeFileHandle _handle;
    byte[]? _block;
    long _blockStart; // file offset of _block[0]
    int _blockLength;
    long _position, _length;

    readonly object _gate = new();
    // Blocks handed over, the one being written included (it leaves the queue once written).
    readonly Queue<(byte[] Block, int Length, long Offset)> _queue = new();
    Thread? _writer;
    bool _closing, _discard;
    ExceptionDispatchInfo? _error;
    long _flushedAt;
    bool _disposed;

    public WriteBehindStream(FileStream file)
    {
        if (!file.CanWrite || !file.CanSeek) throw new ArgumentException("the file must be writable and seekable", nameof(file));
        _file = file;
        _handle = file.SafeFileHandle;
        _position = file.Position;
        _length = file.Length;
        _blockStart = _position;
    }

    public override bool CanRead => !_disposed && _file.CanRead;
    public override bool CanSeek => !_disposed;
    public override bool CanWrite => !_disposed;
    public override long Length => Math.Max(_length, _blockStart + _blockLength);

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    public override void Write(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // A write elsewhere than the end of the block (a header patched after a seek) starts a block of its own.
        if (_position != _blockStart + _blockLength) { HandOver(); _blockStart = _position; }
        while (data.Length > 0)
        {
            _block ??= ArrayPool<byte>.Shared.Rent(BlockSize);
            int n = Math.Min(data.Length, BlockSize - _blockLength);
            data[..n].CopyTo(_block.AsSpan(_blockLength));
            _blockLength += n;
            _position += n;
            data = data[n..];
            if (_blockLength == BlockSize) HandOver();
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Drain();
        int n = RandomAccess.Read(_handle, buffer, _position);
        _position += n;
        _blockStart = _position;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long to = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };
        if (to < 0) throw new IOException("seek before the start of the file");
        _position = to;
        return to;
    }

    public override void SetLength(long value)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Drain();
        RandomAccess.SetLength(_handle, value);
        _length = value;
        _blockStart = _position;
    }

    /// <summary>Writes everything handed over and waits for it (not to disk: see <see cref="FlushToDisk"/>).</summary>
    public override void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Drain();
    }

    /// <summary>Writes everything and waits until it is on disk.</summary>
    public void FlushToDisk()
    {
        Flush();
        _file.Flush(flushToDisk: true);
    }

    /// <summary>Hands the current block to the writer thread, or writes it in place while that thread has no work yet.</summary>
    void HandOver()
    {
        if (_blockLength == 0) return;
        var item = (Block: _block!, Length: _blockLength, Offset: _blockStart);
        _blockStart += _blockLength;
        _blockLength = 0;
        _block = null;
        if (_writer is null && item.Length < BlockSize)
        {
            try { RandomAccess.Write(_handle, item.Block.AsSpan(0, item.Length), item.Offset); }
            finally { ArrayPool<byte>.Shared.Return(item.Block); }
            _length = Math.Max(_length, item.Offset + item.Length);
            return;
        }
        lock (_gate)
        {
            if (_writer is null)
            {
                _flushedAt = item.Offset;
                _writer = new Thread(WriteLoop) { IsBackground = true, Name = "Brine write-behind" };
                _writer.Start();
            }
            while (_queue.Count >= MaxQueued && _error is null) Monitor.Wait(_gate);
            if (_error is not null) { ArrayPool<byte>.Shared.Return(item.Block); _error.Throw(); }
            _queue.Enqueue(item);
            Monitor.PulseAll(_gate);
        }
        _length = Math.Max(_length, item.Offset + item.Length);
    }

    /// <summary>Hands over the current block and waits until the writer has written all; throws its error.</summary>
    void Drain()
    {
        HandOver();
        if (_writer is null) return;
        lock (_gate)
        {
            while (_queue.Count > 0 && _error is null) Monitor.Wait(_gate);
            _error?.Throw();
        }
    }

    void WriteLoop()
    {
        while (true)
        {
            (byte[] Block, int Length, long Offset) item;
            lock (_gate)
            {
                while (_queue.Count == 0 && !_closing) Monitor.Wait(_gate);
                if (_queue.Count == 0) return;
                item = _queue.Peek();
            }
            if (_error is null && !_discard)
            {
                try
                {
                    RandomAccess.Write(_handle, item.Block.AsSpan(0, item.Length), item.Offset);
                    FlushStep(item.Offset + item.Length);
                }
                catch (Exception e) { lock (_gate) _error = ExceptionDispatchInfo.Capture(e); }
            }
            ArrayPool<byte>.Shared.Return(item.Block);
            lock (_gate)
            {
                _queue.Dequeue();
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>
    /// Flushes what is written so far to disk every few MB, while the caller produces the rest: the flush before the
    /// rename then only has the tail left (on a virtual disk it costs in proportion to the data not yet flushed).
    /// </summary>
    void FlushStep(long end)
    {
        if (end - _flushedAt < DiskFlushStep) return; // a header patched behind counts for nothing
        _file.Flush(flushToDisk: true);
        _flushedAt = end;
    }

    /// <summary>Drops what is not yet written and stops the writer thread: the output is being given up.</summary>
    public void Discard()
    {
        if (_block is not null) { ArrayPool<byte>.Shared.Return(_block); _block = null; }
        _blockLength = 0;
        lock (_gate)
        {
            _closing = _discard = true;
            Monitor.PulseAll(_gate);
        }
        if (_writer is null) return;
        _writer.Join();
        _writer = null;
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed) return;
        try
        {
            if (disposing && !_discard) Drain();
        }
        finally
        {
            _disposed = true;
            if (disposing)
            {
                try { Discard(); }
                finally { _file.Dispose(); }
            }
            base.Dispose(disposing);
        }
    }
}
