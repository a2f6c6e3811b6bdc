namespace MailPipeline.Cli.Check;

/// <summary>Envelope values as operators type them on a command line or in a batch file.</summary>
internal static class CheckEnvelope
{
    /// <summary>
    /// The MAIL FROM address without angle brackets; null for the null reverse-path (<c>""</c> or <c>&lt;&gt;</c>).
    /// </summary>
    public static string? NormalizeMailFrom(string? mailFrom)
    {
        var value = mailFrom?.Trim();
        if (value is { Length: >= 2 } && value[0] == '<' && value[^1] == '>')
        {
            value = value[1..^1].Trim();
        }

        return string.IsNullOrEmpty(value) ? null : value;
    }
}
