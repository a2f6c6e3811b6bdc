using System.Globalization;

namespace MailPipeline.Cli.DeadLetters;

/// <summary>Prints progress lines (count, percentage, rate, ETA) about every 5% and at the end, synchronously and in order.</summary>
internal sealed class ProgressPrinter(TextWriter writer, string verb) : IProgress<DeadLetterProgress>
{
    private int lastPercent = -1;

    public void Report(DeadLetterProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var percent = value.Total == 0 ? 100 : value.Done * 100 / value.Total;
        if (value.Done != value.Total && percent / 5 == lastPercent / 5)
        {
            return;
        }

        lastPercent = percent;
        var eta = value.Remaining is { } remaining ? remaining.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--";
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{verb}: {value.Done}/{value.Total} ({percent}%), {value.Rate:0.0} msg/s, ETA {eta}"));
    }
}
