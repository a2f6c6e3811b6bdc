using System.Globalization;
using MailPipeline.Cli.Output;

namespace MailPipeline.Cli.DeadLetters;

/// <summary>Progress of a resubmit or purge (count, percentage, rate, ETA) on a terminal's progress line; the last state stays.</summary>
internal sealed class ProgressPrinter(ProgressLine line, string verb) : IProgress<DeadLetterProgress>
{
    /// <summary>A printer when standard error is a terminal; null otherwise (nothing is printed).</summary>
    public static ProgressPrinter? For(TextWriter error, string verb) => ProgressLine.For(error) is { } line ? new ProgressPrinter(line, verb) : null;

    public void Report(DeadLetterProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var percent = value.Total == 0 ? 100 : value.Done * 100 / value.Total;
        var eta = value.Remaining is { } remaining ? remaining.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--";
        string text = string.Create(CultureInfo.InvariantCulture, $"{verb}: {value.Done}/{value.Total} ({percent}%), {value.Rate:0.0} msg/s, ETA {eta}");
        if (value.Done >= value.Total)
        {
            line.Finish(text);
        }
        else
        {
            line.Show(text);
        }
    }
}
