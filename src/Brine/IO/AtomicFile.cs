namespace Brine.IO;

/// <summary>
/// Writes a file under a temporary name beside it and renames it into place only on <see cref="Commit"/>.
/// A failed write leaves neither a half file nor a damaged original.
/// </summary>
/// <remarks>
/// The output goes through a <see cref="WriteBehindStream"/>: a large output is written, and flushed to disk a few MB
/// at a time, by a second thread while the caller produces the rest, so the flush to disk before the rename only waits
/// for the tail. A small one is written in place, as by a plain file stream.
/// </remarks>
public sealed class AtomicFile : IDisposable
{
    readonly string _target;
    readonly string _temp;
    readonly WriteBehindStream _stream;
    bool _committed;

    /// <summary>The temporary file: seekable, writable and readable.</summary>
    public Stream Stream => _stream;

    public AtomicFile(string path)
    {
        _target = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(_target)!;
        if (!Directory.Exists(dir)) throw new Model.BrineUsageException($"output folder does not exist: {dir}");
        _temp = Path.Combine(dir, "." + Path.GetFileName(_target) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        // Unbuffered: the write-behind stream gathers the blocks.
        _stream = new WriteBehindStream(new FileStream(_temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 0));
    }

    /// <summary>Writes everything, flushes it to disk and moves the finished file over the target.</summary>
    public void Commit()
    {
        _stream.FlushToDisk();
        _stream.Dispose();
        File.Move(_temp, _target, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (!_committed)
        {
            _stream.Discard();
            _stream.Dispose();
            try { File.Delete(_temp); } catch (IOException) { }
        }
    }
}
