using System.Diagnostics;
using Brine.IO;

namespace Brine.Cli;

/// <summary>
/// A one-line progress bar on standard error for work that takes more than a second: bytes (or rows),
/// rate and time left. Draws nothing when standard error is not a terminal.
/// </summary>
public sealed class ProgressDisplay : IDisposable
{
    readonly ConversionProgress _progress;
    readonly string _label;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly Timer? _timer;
    readonly long? _totalRows;
    bool _drawn;
    readonly object _gate = new();

    ProgressDisplay(ConversionProgress progress, string label, long? totalRows)
    {
        _progress = progress; _label = label; _totalRows = totalRows;
        _timer = new Timer(_ => Draw(), null, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(250));
    }

    /// <summary>Starts a display, or returns null when standard error is redirected.</summary>
    public static ProgressDisplay? Start(ConversionProgress progress, string label, long? totalRows = null) =>
        Console.IsErrorRedirected || Environment.GetEnvironmentVariable("BRINE_NO_PROGRESS") == "1" ? null : new ProgressDisplay(progress, label, totalRows);

    void Draw()
    {
        lock (_gate)
        {
            double secs = _clock.Elapsed.TotalSeconds;
            long bytes = _progress.BytesRead, values = _progress.Values;
            double? fraction = _totalRows is > 0 ? (double)values / _totalRows.Value
                : _progress.TotalBytes is > 0 ? (double)bytes / _progress.TotalBytes.Value : null;
            int width = Math.Clamp(SafeWidth() - 70, 10, 40);
            string bar = fraction is { } f ? "[" + new string('#', (int)(Math.Clamp(f, 0, 1) * width)).PadRight(width) + $"] {f * 100,5:F1}%" : "";
            string rate = _totalRows is not null ? $"{values / Math.Max(secs, 1e-3):N0} rows/s" : $"{bytes / 1e6 / Math.Max(secs, 1e-3):F1} MB/s";
            string done = _totalRows is not null ? $"{values:N0} rows" : $"{bytes / 1e6:F1} MB" + (values > 0 ? $", {values:N0} values" : "");
            string eta = fraction is > 0.001 and < 1 ? $" ETA {TimeSpan.FromSeconds(secs / fraction.Value - secs):mm\\:ss}" : "";
            Console.Error.Write($"\r{_label} {bar} {done}, {rate}{eta}   ");
            _drawn = true;
        }
    }

    static int SafeWidth() { try { return Console.WindowWidth > 0 ? Console.WindowWidth : 100; } catch (IOException) { return 100; } }

    public void Dispose()
    {
        _timer?.Dispose();
        lock (_gate)
            if (_drawn) Console.Error.Write("\r" + new string(' ', Math.Max(0, SafeWidth() - 1)) + "\r");
    }
}
