using System.Diagnostics;

namespace MailPipeline.Cli.Output;

/// <summary>
/// One progress line on standard error for long runs (<c>check --batch</c>, <c>dlq resubmit</c>/<c>purge</c>), redrawn
/// in place at most a few times a second, and only when standard error is a terminal: redirected to a file, a pipe or a
/// log, nothing is written, so scripts and logs see only results.
/// </summary>
internal sealed class ProgressLine
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private readonly TextWriter _terminal;
    private readonly Lock _lock = new();
    private readonly Stopwatch _since = Stopwatch.StartNew();
    private TimeSpan _shown = -Interval; // the first report is drawn at once
    private bool _visible;

    private ProgressLine(TextWriter terminal) => _terminal = terminal;

    /// <summary>A progress line on <paramref name="error"/> when it is a terminal (<see cref="TerminalWriter"/>); null otherwise.</summary>
    /// <param name="error">The command's standard error.</param>
    /// <returns>The progress line, or null when progress is not shown.</returns>
    public static ProgressLine? For(TextWriter error) => error is TerminalWriter ? new ProgressLine(error) : null;

    /// <summary>Time since the run started.</summary>
    public TimeSpan Elapsed => _since.Elapsed;

    /// <summary>Shows <paramref name="text"/> in place of the previous progress, unless it was redrawn very recently.</summary>
    /// <param name="text">The progress text (one line).</param>
    /// <param name="force">Draw even if the last draw was recent (e.g. the last item).</param>
    public void Show(string text, bool force = false)
    {
        lock (_lock)
        {
            var now = _since.Elapsed;
            if (!force && now - _shown < Interval)
            {
                return;
            }

            _shown = now;
            _visible = true;
            _terminal.Write($"\r{TerminalText.Printable(text)}\u001b[K");
            _terminal.Flush();
        }
    }

    /// <summary>A synchronous <see cref="IProgress{T}"/> that shows each report as <paramref name="text"/> makes it (throttled).</summary>
    /// <typeparam name="T">The report type.</typeparam>
    /// <param name="text">Formats a report.</param>
    /// <returns>The progress sink.</returns>
    public IProgress<T> Reporting<T>(Func<T, string> text) => new Sink<T>(this, text);

    /// <summary>Ends the progress: leaves <paramref name="text"/> as the final line, or clears the line when null.</summary>
    /// <param name="text">The final text, or null.</param>
    public void Finish(string? text = null)
    {
        lock (_lock)
        {
            if (text is not null)
            {
                _terminal.Write($"\r{TerminalText.Printable(text)}\u001b[K\n");
            }
            else if (_visible)
            {
                _terminal.Write("\r\u001b[K");
            }

            _visible = false;
            _terminal.Flush();
        }
    }

    private sealed class Sink<T>(ProgressLine line, Func<T, string> text) : IProgress<T>
    {
        public void Report(T value) => line.Show(text(value));
    }
}
