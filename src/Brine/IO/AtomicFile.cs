namespace Brine.IO;

/// <summary>
/// Writes a file under a temporary name beside it and renames it into place only on <see cref="Commit"/>.
/// A failed write leaves neither a half file nor a damaged original.
/// </summary>
public sealed class AtomicFile : IDisposable
{
    readonly string _target;
    readonly string _temp;
    bool _committed;

    public FileStream Stream { get; }

    public AtomicFile(string path)
    {
        _target = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(_target)!;
        if (!Directory.Exists(dir)) throw new Model.BrineUsageException($"output folder does not exist: {dir}");
        _temp = Path.Combine(dir, "." + Path.GetFileName(_target) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        Stream = new FileStream(_temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
    }

    /// <summary>Flushes to disk and moves the finished file over the target.</summary>
    public void Commit()
    {
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(_temp, _target, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        Stream.Dispose();
        if (!_committed) try { File.Delete(_temp); } catch (IOException) { }
    }
}
