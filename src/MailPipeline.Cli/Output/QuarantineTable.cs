using System.Globalization;
using System.Text.Json;
using MailPipeline.Operations.Quarantine;

namespace MailPipeline.Cli.Output;

/// <summary>How <c>quarantine list</c> prints: a table with a header row for people, JSON Lines for <c>--json</c>.</summary>
internal static class QuarantineTable
{
    /// <summary>The table: ID, RECEIVED (UTC), FROM, TO, SUBJECT, SIZE, REASONS.</summary>
    /// <param name="messages">The messages.</param>
    /// <returns>The text, header row first.</returns>
    public static string Format(IEnumerable<QuarantinedMessage> messages)
    {
        var table = new TextTable()
            .Column("id")
            .Column("received (UTC)")
            .Column("from", maxWidth: 32)
            .Column("to", maxWidth: 32)
            .Column("subject", maxWidth: 40)
            .Column("size", alignRight: true)
            .Column("reasons");
        foreach (var message in messages)
        {
            string to = message.To.Count switch
            {
                0 => "-",
                1 => message.To[0],
                _ => string.Create(CultureInfo.InvariantCulture, $"{message.To[0]} +{message.To.Count - 1}"),
            };
            table.Row(
                message.MessageId,
                message.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                message.From ?? "-",
                to,
                string.IsNullOrWhiteSpace(message.Subject) ? "-" : message.Subject.Trim(),
                Size(message.Size),
                message.Reasons.Count == 0 ? "-" : string.Join("; ", message.Reasons));
        }

        return table.ToString();
    }

    /// <summary>One JSON line per message (the fields of the table, unabridged, plus <c>fromDomain</c>).</summary>
    /// <param name="message">The message.</param>
    /// <returns>The JSON line.</returns>
    public static string ToJson(QuarantinedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return JsonSerializer.Serialize(
            new
            {
                message.MessageId,
                message.ReceivedAt,
                message.From,
                message.To,
                message.Subject,
                message.Size,
                message.FromDomain,
                message.Reasons,
            },
            HumanJson.Compact);
    }

    /// <summary>A size as people read it: <c>812</c>, <c>4.1K</c>, <c>2.3M</c> (powers of 1024, like <c>ls -h</c>).</summary>
    /// <param name="octets">The size.</param>
    /// <returns>The short form.</returns>
    public static string Size(long octets) => octets switch
    {
        < 1024 => octets.ToString(CultureInfo.InvariantCulture),
        < 1024 * 1024 => (octets / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + "K",
        < 1024L * 1024 * 1024 => (octets / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + "M",
        _ => (octets / (1024.0 * 1024 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + "G",
    };
}
