using System.Text;
using Brine.Formats;
using Brine.Model;
using Brine.Objects;
using Microsoft.Data.Sqlite;

namespace Brine.Shelf;

/// <summary>Options for <see cref="Shelf.Open"/>.</summary>
public sealed class ShelfOptions
{
    /// <summary>How values are encoded. Null means pickle (protocol 4, Python's <c>shelve</c> default in 3.8–3.13).</summary>
    public Format? ValueFormat { get; init; }
    /// <summary>Settings for the value writer (for pickle, <c>protocol</c>).</summary>
    public WriteOptions ValueWriteOptions { get; init; } = new() { KeepReferences = true };
    public ReadOptions ValueReadOptions { get; init; } = ReadOptions.Default;
    /// <summary>How CLR objects map to values (type policy, naming) for <see cref="Shelf.Get{T}"/> and <see cref="Shelf.Set{T}"/>.</summary>
    public ObjectOptions Objects { get; init; } = ObjectOptions.Default;
    /// <summary>Open without the right to write; the file must exist.</summary>
    public bool ReadOnly { get; init; }
    /// <summary>How long to wait for another process's write lock before failing.</summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// A persistent dictionary from string keys to values, stored exactly as Python 3.13's <c>dbm.sqlite3</c> (and so
/// <c>shelve</c>) stores it: one SQLite table <c>Dict(key BLOB UNIQUE NOT NULL, value BLOB NOT NULL)</c>, keys as
/// UTF-8 bytes bound as BLOBs, values pickled. WAL journal mode lets several readers work while one process
/// writes; every change is a transaction, so a crash loses nothing committed. Not thread-safe: one instance per thread.
/// </summary>
public sealed class Shelf : IDisposable
{
    // The statements of CPython's Lib/dbm/sqlite3.py, so both sides meet the same rows (its `?` placeholders are
    // named here because Microsoft.Data.Sqlite binds parameters by name).
    const string BuildTable = "CREATE TABLE IF NOT EXISTS Dict (key BLOB UNIQUE NOT NULL, value BLOB NOT NULL)";
    const string GetSize = "SELECT COUNT (key) FROM Dict";
    const string LookupKey = "SELECT value FROM Dict WHERE key = CAST($k AS BLOB)";
    const string StoreKv = "REPLACE INTO Dict (key, value) VALUES (CAST($k AS BLOB), CAST($v AS BLOB))";
    const string DeleteKey = "DELETE FROM Dict WHERE key = CAST($k AS BLOB)";
    const string IterKeys = "SELECT key FROM Dict";

    readonly SqliteConnection _db;
    readonly ShelfOptions _options;
    readonly Format _format;
    SqliteTransaction? _batch;

    public string Path { get; }
    public bool ReadOnly => _options.ReadOnly;

    Shelf(string path, ShelfOptions options, SqliteConnection db, Format format)
    { Path = path; _options = options; _db = db; _format = format; }

    /// <summary>Opens (creating unless read-only) the shelf at <paramref name="path"/>.</summary>
    public static Shelf Open(string path, ShelfOptions? options = null)
    {
        options ??= new ShelfOptions();
        var format = options.ValueFormat ?? FormatRegistry.Default.FindByName("pickle")
            ?? throw new BrineUsageException("shelf: the pickle format is not available; give ShelfOptions.ValueFormat");
        if (options.ReadOnly && !File.Exists(path)) throw new BrineUsageException($"shelf '{path}' does not exist");
        var cs = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = options.ReadOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            // Pooling would keep the file open after Dispose; a shelf is opened rarely and held.
            Pooling = false,
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
        }.ToString();
        var db = new SqliteConnection(cs);
        try
        {
            db.Open();
            Exec(db, $"PRAGMA busy_timeout = {(long)options.BusyTimeout.TotalMilliseconds}");
            if (!options.ReadOnly)
            {
                Exec(db, "PRAGMA journal_mode = wal");
                Exec(db, BuildTable);
            }
            else if (Scalar(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'Dict'") is 0L)
                throw new BrineFormatException("shelf", path, "no Dict table: not a dbm.sqlite3 shelf");
        }
        catch (SqliteException e)
        {
            db.Dispose();
            throw new BrineFormatException("shelf", path, e.Message, e);
        }
        catch { db.Dispose(); throw; }
        return new Shelf(path, options, db, format);
    }

    static void Exec(SqliteConnection db, string sql) { using var c = db.CreateCommand(); c.CommandText = sql; c.ExecuteNonQuery(); }
    static object? Scalar(SqliteConnection db, string sql) { using var c = db.CreateCommand(); c.CommandText = sql; return c.ExecuteScalar(); }

    SqliteCommand Command(string sql, params object[] args)
    {
        var c = _db.CreateCommand();
        c.CommandText = sql;
        c.Transaction = _batch;
        for (int i = 0; i < args.Length; i++) c.Parameters.Add(new SqliteParameter(i == 0 ? "$k" : "$v", SqliteType.Blob) { Value = args[i] });
        return c;
    }

    T Guard<T>(Func<T> f)
    {
        try { return f(); }
        catch (SqliteException e) { throw new BrineFormatException("shelf", Path, e.Message, e); }
    }

    static byte[] KeyBytes(string key) => Encoding.UTF8.GetBytes(key);

    static string KeyText(object v) => v switch
    {
        byte[] b => Encoding.UTF8.GetString(b),
        string s => s, // rows written by an older dbm.sqlite3 that stored keys as TEXT
        _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>Every key, in storage order.</summary>
    public IReadOnlyList<string> List() => Guard(() =>
    {
        using var c = Command(IterKeys);
        using var r = c.ExecuteReader();
        var keys = new List<string>();
        while (r.Read()) keys.Add(KeyText(r.GetValue(0)));
        return keys;
    });

    public long Count => Guard(() => { using var c = Command(GetSize); return (long)c.ExecuteScalar()!; });

    public bool ContainsKey(string key) => GetBytes(key) is not null;

    /// <summary>The stored (encoded) bytes of a value, or null.</summary>
    public byte[]? GetBytes(string key) => Guard(() =>
    {
        using var c = Command(LookupKey, KeyBytes(key));
        return c.ExecuteScalar() is byte[] b ? b : null;
    });

    /// <summary>The value as a tree, or null when the key is absent.</summary>
    public Node? Get(string key)
    {
        var bytes = GetBytes(key);
        if (bytes is null) return null;
        using var r = _format.CreateReader(new MemoryStream(bytes, writable: false), _options.ValueReadOptions);
        return NodeBuilder.ReadValue(r) ?? throw new BrineFormatException("shelf", $"key '{key}'", "the stored value is empty");
    }

    /// <summary>The value as a CLR object (created under the shelf's type policy), or default when the key is absent.</summary>
    public T? Get<T>(string key)
    {
        var bytes = GetBytes(key);
        if (bytes is null) return default;
        using var r = _format.CreateReader(new MemoryStream(bytes, writable: false), _options.ValueReadOptions);
        return new ObjectReader(_options.Objects).Read<T>(r);
    }

    public bool TryGet<T>(string key, out T? value)
    {
        value = default;
        if (GetBytes(key) is null) return false;
        value = Get<T>(key);
        return true;
    }

    /// <summary>Stores a tree under <paramref name="key"/> (replacing any value).</summary>
    public void Set(string key, Node value) => SetBytes(key, Encode(w => { using var nr = new NodeReader(value); TokenPump.Copy(nr, w); }));

    /// <summary>Stores a CLR object graph under <paramref name="key"/>.</summary>
    public void Set<T>(string key, T value)
    {
        if (value is Node n) { Set(key, n); return; }
        SetBytes(key, Encode(w => ObjectWriter.Write(w, value, _options.Objects)));
    }

    /// <summary>Stores already-encoded bytes.</summary>
    public void SetBytes(string key, byte[] encoded)
    {
        Writable();
        Guard(() => { using var c = Command(StoreKv, KeyBytes(key), encoded); return c.ExecuteNonQuery(); });
    }

    /// <summary>Removes a key; false when it was absent.</summary>
    public bool Delete(string key)
    {
        Writable();
        return Guard(() => { using var c = Command(DeleteKey, KeyBytes(key)); return c.ExecuteNonQuery() > 0; });
    }

    /// <summary>
    /// Starts a transaction that takes the write lock at once: changes through this shelf are invisible to others
    /// until <see cref="ShelfBatch.Commit"/>, and are rolled back when the batch is disposed uncommitted (or the
    /// process dies).
    /// </summary>
    public ShelfBatch BeginBatch()
    {
        Writable();
        if (_batch is not null) throw new InvalidOperationException("a batch is already open on this shelf");
        _batch = Guard(() => _db.BeginTransaction(deferred: false));
        return new ShelfBatch(this);
    }

    internal void EndBatch(bool commit)
    {
        if (_batch is null) return;
        try { Guard(() => { if (commit) _batch.Commit(); else _batch.Rollback(); return 0; }); }
        finally { _batch.Dispose(); _batch = null; }
    }

    byte[] Encode(Action<TokenWriter> write)
    {
        var ms = new MemoryStream();
        using (var w = _format.CreateWriter(ms, _options.ValueWriteOptions))
        {
            write(w);
            w.Finish();
        }
        return ms.ToArray();
    }

    void Writable()
    {
        if (_options.ReadOnly) throw new BrineUsageException($"shelf '{Path}' is open read-only");
    }

    public void Dispose()
    {
        EndBatch(commit: false);
        _db.Dispose();
    }
}

/// <summary>A write transaction on a <see cref="Shelf"/>: <c>using var batch = shelf.BeginBatch(); … batch.Commit();</c></summary>
public sealed class ShelfBatch : IDisposable
{
    readonly Shelf _shelf;
    bool _done;

    internal ShelfBatch(Shelf shelf) { _shelf = shelf; }

    public void Set(string key, Node value) { Open(); _shelf.Set(key, value); }
    public void Set<T>(string key, T value) { Open(); _shelf.Set(key, value); }
    public bool Delete(string key) { Open(); return _shelf.Delete(key); }

    /// <summary>Makes every change of the batch durable and visible at once.</summary>
    public void Commit() { Open(); _done = true; _shelf.EndBatch(commit: true); }

    /// <summary>Discards every change of the batch.</summary>
    public void Rollback() { Open(); _done = true; _shelf.EndBatch(commit: false); }

    void Open() { if (_done) throw new InvalidOperationException("the batch is already committed or rolled back"); }

    public void Dispose() { if (!_done) { _done = true; _shelf.EndBatch(commit: false); } }
}
