using System.Globalization;
using System.Xml;

namespace MailPipeline.Cli.DeadLetters;

/// <summary>Durations as operators type them: <c>7d</c>, <c>12h</c>, <c>30m</c>, <c>90s</c>, or ISO 8601 (<c>P7D</c>, <c>PT1H</c>).</summary>
internal static class DurationParser
{
    /// <exception cref="FormatException">Not a positive duration in one of those forms.</exception>
    public static TimeSpan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim();
        TimeSpan result;
        if (value.StartsWith('P'))
        {
            result = XmlConvert.ToTimeSpan(value);
        }
        else if (value.Length >= 2 && double.TryParse(value[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            result = char.ToLowerInvariant(value[^1]) switch
            {
                'd' => TimeSpan.FromDays(amount),
                'h' => TimeSpan.FromHours(amount),
                'm' => TimeSpan.FromMinutes(amount),
                's' => TimeSpan.FromSeconds(amount),
                'w' => TimeSpan.FromDays(7 * amount),
                _ => throw Invalid(text),
            };
        }
        else
        {
            throw Invalid(text);
        }

        return result > TimeSpan.Zero ? result : throw Invalid(text);
    }

    private static FormatException Invalid(string text) =>
        new($"'{text}' is not a duration: use a number with d, h, m, s or w (7d, 12h), or ISO 8601 (P7D).");
}
