using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Brine.IO;

/// <summary>
/// Writes an output in large blocks on another thread while the caller prepares the next one (one block in flight),
/// and for a file on Linux starts the disk write-back of every few megabytes as it goes (sync_file_range, which does
/// not wait). Otherwise a large output sits in the page cache until <see cref="AtomicFile.Commit"/> flushes it to
/// disk, and that flush waits for all of it. An error of a write surfaces at the next call.
/// </summary>
internal sealed partial class BlockWriter
{
    const long WriteBackStep = 4L << 20;
    const uint SyncFileRangeWrite = 2; // SYNC_FILE_RANGE_WRITE: start writing dirty pages out, do not wait
    static bool s_noWriteBack = !OperatingSystem.IsLinux();

    readonly Stream _out;
    SafeFileHandle? _file;
    long _writeBackFrom;
    Task _inFlight = Task.CompletedTask;

    public BlockWriter(Stream output)
    {
        _out = output;
        Position = output.Position;
        if (!s_noWriteBack && output is FileStream fs) { _file = fs.SafeFileHandle; _writeBackFrom = Position; }
    }

    /// <summary>Where the stream will stand once every block handed over is written.</summary>
    public long Position { get; private set; }

    /// <summary>Hands a block over to be written; <paramref name="block"/> must stay untouched until the next call returns.</summary>
    public void WriteBehind(byte[] block, int length)
    {
        Wait();
        Position += length;
        long end = Position;
        _inFlight = Task.Run(() => { _out.Write(block, 0, length); StartWriteBack(end); });
    }

    /// <summary>Writes now, after the block in flight.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        Wait();
        _out.Write(bytes);
        Position += bytes.Length;
    }

    /// <summary>Waits for the block in flight and rethrows its error; the stream is then free to use.</summary>
    public void Wait()
    {
        var t = _inFlight;
        _inFlight = Task.CompletedTask;
        t.GetAwaiter().GetResult();
    }

    /// <summary>Waits for the block in flight, ignoring its error: for clean-up after another error.</summary>
    public void WaitQuietly()
    {
        try { Wait(); } catch (Exception) { }
    }

    void StartWriteBack(long end)
    {
        if (_file is null || end - _writeBackFrom < WriteBackStep) return;
        try
        {
            if (SyncFileRange(_file, _writeBackFrom, end - _writeBackFrom, SyncFileRangeWrite) == 0) _writeBackFrom = end;
            else _file = null; // not supported here (errno): write-back stays the kernel's business
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { s_noWriteBack = true; _file = null; }
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(SafeFileHandle fd, long offset, long nbytes, uint flags);
}
