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
    public static byte[] RunBytes(string script, byte[]? stdin = null, params string[] args)
    {
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["PYTHONHASHSEED"] = "0";
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

    public static string Run(string script, byte[]? stdin = null, params string[] args) =>
        Encoding.UTF8.GetString(RunBytes(script, stdin, args));
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
