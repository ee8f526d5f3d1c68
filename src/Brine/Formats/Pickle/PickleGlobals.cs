namespace Brine.Formats.Pickle;

/// <summary>A global (<c>module.name</c>) pushed by GLOBAL or STACK_GLOBAL. The reader never imports or calls it.</summary>
sealed record PyGlobal(string Module, string Name)
{
    // Made once: calls switch on it, and a million datetimes meet the same memoized global.
    public string FullName { get; } = Module + "." + Name;
    public override string ToString() => FullName;
}

/// <summary>
/// Which globals the reader accepts in a call position (REDUCE, NEWOBJ, INST, OBJ) and what it makes of them.
/// Nothing is ever called: known data types become model values, plain classes become maps tagged with the
/// class name, and every other callable is refused by name.
/// </summary>
static class PickleGlobals
{
    /// <summary>Modules whose globals are never accepted in a call position, whatever their name.</summary>
    static readonly HashSet<string> DeniedModules = new(StringComparer.Ordinal)
    {
        "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "sys", "importlib", "imp", "pty", "shutil", "socket",
        "pickle", "_pickle", "cPickle", "marshal", "ctypes", "_ctypes", "cffi", "code", "codeop", "runpy", "webbrowser",
        "pdb", "bdb", "timeit", "commands", "popen2", "multiprocessing", "asyncio", "threading", "_thread", "thread",
        "functools", "_functools", "operator", "_operator", "types", "io", "_io", "tempfile", "glob", "signal", "platform",
        "pydoc", "pkgutil", "zipimport", "ssl", "http", "urllib", "urllib2", "ftplib", "smtplib", "telnetlib", "xmlrpc",
        "socketserver", "select", "mmap", "resource", "gc", "inspect", "dill", "cloudpickle", "shelve", "dbm", "sqlite3",
        "ensurepip", "venv", "distutils", "setuptools", "pip", "site", "codecs", "_codecs", "zipfile",
        "tarfile", "logging", "pathlib", "fcntl", "termios", "pwd", "grp", "sched", "trace", "tracemalloc", "faulthandler",
        "_posixsubprocess", "_winapi", "msvcrt", "winreg", "_osx_support", "uuid", "copyreg", "copy_reg", "builtins", "__builtin__",
    };

    /// <summary>Names of the builtins module that are plain data types (everything else there, like eval, is refused).</summary>
    static readonly HashSet<string> SafeBuiltins = new(StringComparer.Ordinal)
    {
        "set", "frozenset", "bytearray", "bytes", "complex", "object", "list", "dict", "tuple", "int", "float", "str",
        "bool", "range", "slice", "NoneType", "Ellipsis", "NotImplemented",
    };

    /// <summary>Python 2 module names that protocols 0–2 write (pickle's fix_imports), mapped to Python 3's.</summary>
    public static string FixModule(string module) => module switch
    {
        "__builtin__" or "exceptions" => "builtins",
        "copy_reg" => "copyreg",
        "Queue" => "queue",
        "_abcoll" => "collections.abc",
        _ => module,
    };

    /// <summary>Why a global may not be called, or null when it may be taken as a class (<paramref name="newObj"/>: the NEWOBJ form, which only ever takes classes).</summary>
    public static bool IsRefused(PyGlobal g, bool newObj, IReadOnlySet<string>? allowed)
    {
        var full = g.FullName;
        if (allowed is not null && allowed.Contains(full)) return false;
        var top = g.Module.Split('.')[0];
        var last = g.Name[(g.Name.LastIndexOf('.') + 1)..];
        if (top is "builtins" or "__builtin__")
            return !(SafeBuiltins.Contains(g.Name) || last.EndsWith("Error", StringComparison.Ordinal) ||
                     last.EndsWith("Exception", StringComparison.Ordinal) || last.EndsWith("Warning", StringComparison.Ordinal));
        if (DeniedModules.Contains(top) || DeniedModules.Contains(g.Module)) return true;
        if (g.Name.StartsWith("__", StringComparison.Ordinal)) return true;
        // A REDUCE of a function runs it; classes are named in CapWords by Python convention, functions are not.
        return !newObj && (last.Length == 0 || !char.IsUpper(last[0]));
    }
}
