using System.Diagnostics;
using System.Text;

namespace Brine.Tests.Support;

/// <summary>
/// Runs Debian's python3 with its reference libraries (yaml, bson, msgpack, avro, jsonpickle …) as the
/// oracle. The test command installs them; a missing module is a test failure, not a skip.
/// </summary>
public static class Python
{
    public static string Executable => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Runs <paramref name="script"/> with <paramref name="args"/>; stdin gets <paramref name="stdin"/>. Returns stdout bytes.</summary>
    public static byte[] RunBytes(string script, byte[]? stdin = null, params string[] args) => RunBytesWith(Executable, script, stdin, args);

    public static string Run(string script, byte[]? stdin = null, params string[] args) =>
        Encoding.UTF8.GetString(RunBytes(script, stdin, args));

    internal static byte[] RunBytesWith(string executable, string script, byte[]? stdin, string[] args)
    {
        var psi = StartInfo(executable, script, args);
        psi.RedirectStandardInput = true;
        using var p = Process.Start(psi)!;
        var stdoutTask = Task.Run(() => { using var ms = new MemoryStream(); p.StandardOutput.BaseStream.CopyTo(ms); return ms.ToArray(); });
        var stderrTask = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.BaseStream.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException("python timed out"); }
        var output = stdoutTask.Result;
        if (p.ExitCode != 0) throw new InvalidOperationException($"python failed ({p.ExitCode}): {stderrTask.Result}");
        return output;
    }

    internal static Process StartWith(string executable, string script, string[] args) => Process.Start(StartInfo(executable, script, args))!;

    static ProcessStartInfo StartInfo(string executable, string script, string[] args)
    {
        var psi = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["PYTHONHASHSEED"] = "0";
        return psi;
    }
}

/// <summary>
/// Python 3.13 — the first with <c>dbm.sqlite3</c>, which <c>shelve</c> uses — as the shelf's oracle. Debian here has
/// 3.11, so <c>./scripts/test</c> builds a minimal Debian trixie tree and points <c>BRINE_PYTHON313</c> at a launcher
/// for its python. Without it the tests fail (never skip) and say so.
/// </summary>
public static class Python313
{
    public const string Variable = "BRINE_PYTHON313";
    static readonly Lazy<string> Checked = new(Check);

    /// <summary>The launcher, once it has shown that it runs Python 3.13 with <c>dbm.sqlite3</c> and <c>shelve</c>.</summary>
    public static string Executable => Checked.Value;

    public static string Run(string script, byte[]? stdin = null, params string[] args) =>
        Encoding.UTF8.GetString(Python.RunBytesWith(Executable, script, stdin, args));

    /// <summary>Starts <paramref name="script"/> in its own process with stdout and stderr redirected; the caller waits.</summary>
    public static Process Start(string script, params string[] args) => Python.StartWith(Executable, script, args);

    static string Check()
    {
        const string hint = "run ./scripts/test, which prepares it (a Debian trixie tree in .oracles/) and sets " + Variable;
        var exe = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(exe)) throw new InvalidOperationException($"the Python 3.13 oracle is missing: {Variable} is not set; {hint}");
        string version;
        try
        {
            version = Encoding.UTF8.GetString(Python.RunBytesWith(exe, "import sys, dbm.sqlite3, shelve; print('%d.%d' % sys.version_info[:2])", null, [])).Trim();
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            throw new InvalidOperationException($"the Python 3.13 oracle {Variable}={exe} does not run ({e.Message.Trim()}); {hint}", e);
        }
        if (version != "3.13") throw new InvalidOperationException($"{Variable}={exe} is Python {version}, not 3.13; {hint}");
        return exe;
    }
}

/// <summary>Finds the third-party corpora in ../shared/testdata beside the repository.</summary>
public static class TestData
{
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Brine.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new DirectoryNotFoundException("repository root (Brine.slnx) not found");
        }
    }

    public static string Root
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("BRINE_TESTDATA");
            if (!string.IsNullOrEmpty(env)) return env;
            var p = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "testdata"));
            return Directory.Exists(p) ? p : throw new DirectoryNotFoundException($"conformance corpora not found at {p} (set BRINE_TESTDATA)");
        }
    }

    public static string Path_(params string[] parts) => Path.Combine(new[] { Root }.Concat(parts).ToArray());
    public static string Samples(string name) => Path.Combine(RepoRoot, "samples", name);
}

/// <summary>A scratch folder deleted after the test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "brine-test-" + Guid.NewGuid().ToString("N")[..10]);
    public TempDir() => Directory.CreateDirectory(Path);
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}

/// <summary>Tests that measure process-wide memory run alone: other tests' allocations would count against them.</summary>
[Xunit.CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasuringCollection
{
    public const string Name = "memory-measuring";
}
