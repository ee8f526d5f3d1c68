using System.Diagnostics;
using System.Text;

namespace Brine.Bench;

/// <summary>Timing, memory and table helpers shared by the suites: medians over runs, peak working set, Markdown output.</summary>
public static class Measure
{
    public sealed record Result(string Work, string Who, double MedianSeconds, double MegabytesPerSecond, long PeakBytes, string Note = "");

    /// <summary>Runs <paramref name="action"/> <paramref name="runs"/> times (after one warm-up) and returns the median seconds.</summary>
    public static double Median(int runs, Action action, bool warmup = true)
    {
        if (warmup) action();
        var times = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            GC.Collect(); GC.WaitForPendingFinalizers();
            var sw = Stopwatch.StartNew();
            action();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>Peak working set of this process so far (Linux VmHWM), in bytes.</summary>
    public static long PeakWorkingSet()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException) { }
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }

    /// <summary>Resets the peak working set counter (Linux: write 5 to clear_refs), so each step reports its own peak.</summary>
    public static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (Exception) { }
    }

    public static string Table(string title, IEnumerable<Result> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"## {title}").AppendLine();
        sb.AppendLine($"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC").AppendLine();
        sb.AppendLine("| work | who | median s | MB/s | peak MB | note |").AppendLine("| --- | --- | ---: | ---: | ---: | --- |");
        foreach (var r in results)
            sb.AppendLine($"| {r.Work} | {r.Who} | {r.MedianSeconds:F3} | {r.MegabytesPerSecond:F1} | {r.PeakBytes / 1e6:F0} | {r.Note} |");
        return sb.ToString();
    }

    public static void Save(string name, string markdown)
    {
        var dir = Path.Combine(FindRepo(), "bench", "results");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, name + ".md"), markdown);
        Console.WriteLine(markdown);
    }

    public static string FindRepo()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "Brine.slnx"))) d = d.Parent;
        return d?.FullName ?? Directory.GetCurrentDirectory();
    }

    /// <summary>Runs an external program (the Python anchors) and returns its stdout; throws on failure.</summary>
    public static string Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} failed: {err.Result}");
        return output;
    }
}
