using System.Text;
using MailPipeline.Core.Authentication;
using MailPipeline.Operations.Stores;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Processing;
using MimeKit;

namespace MailPipeline.Operations.Quarantine;

/// <summary>
/// Everything a reviewer reads about one quarantined message: the summary, the envelope, every check's result (the
/// verdict), our Authentication-Results, the header block as received, the body (text and HTML as the sender wrote
/// them: presenting them safely is the caller's job) and the attachments (listed, never opened).
/// </summary>
public sealed record QuarantinedMessageDetails
{
    /// <summary>Messages larger than this show their header block only (the body is not parsed).</summary>
    public const long MaxParsedSize = 32L * 1024 * 1024;

    /// <summary>The summary (as in the list).</summary>
    public required QuarantinedMessage Summary { get; init; }

    /// <summary>The envelope (the spool's, else the copy in the routed document), or null.</summary>
    public MailEnvelope? Envelope { get; init; }

    /// <summary>The verdict with every check's result and reason, or null when the document is missing or damaged.</summary>
    public AuthenticationReport? Report { get; init; }

    /// <summary>The stored document (verdict, envelope, stamps) as JSON, or null.</summary>
    public byte[]? Document { get; init; }

    /// <summary>The header block of the quarantined copy (ours first), CRLF line ends.</summary>
    public required string HeaderBlock { get; init; }

    /// <summary>The values of the Authentication-Results fields our checks prepended (the first ones of the header block).</summary>
    public required IReadOnlyList<string> AuthenticationResults { get; init; }

    /// <summary>The text/plain body, or null.</summary>
    public string? TextBody { get; init; }

    /// <summary>The text/html body, or null.</summary>
    public string? HtmlBody { get; init; }

    /// <summary>The attachments.</summary>
    public IReadOnlyList<MessageAttachment> Attachments { get; init; } = [];

    /// <summary>Why the body is not shown (too large, not MIME-parsable), or null.</summary>
    public string? BodyProblem { get; init; }

    /// <summary>Reads a quarantined message.</summary>
    /// <param name="stores">The stores.</param>
    /// <param name="messageId">The message id.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The details, or null when it is not in quarantine.</returns>
    public static async Task<QuarantinedMessageDetails?> ReadAsync(PipelineStores stores, string messageId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stores);
        var routed = await stores.Routed.FindAsync(messageId, cancellationToken).ConfigureAwait(false);
        if (routed is not { Action: RouteAction.Quarantine })
        {
            return null;
        }

        var summary = await QuarantineInventory.DescribeAsync(stores, routed, cancellationToken).ConfigureAwait(false);
        byte[]? document = await stores.Routed.ReadVerdictDocumentAsync(messageId, RouteAction.Quarantine, cancellationToken).ConfigureAwait(false);
        var envelope = await stores.Raw.ReadEnvelopeAsync(messageId, cancellationToken).ConfigureAwait(false) ?? QuarantineInventory.RoutedEnvelope(document);
        Stream stream;
        try
        {
            stream = await stores.Routed.OpenMessageAsync(messageId, RouteAction.Quarantine, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null; // released or deleted meanwhile
        }

        await using (stream.ConfigureAwait(false))
        {
            byte[] header = await HeaderBlockReader.ReadAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            var details = new QuarantinedMessageDetails
            {
                Summary = summary,
                Envelope = envelope,
                Report = QuarantineInventory.ReadReport(document),
                Document = document,
                HeaderBlock = Encoding.UTF8.GetString(header),
                AuthenticationResults = OurAuthenticationResults(QuarantineInventory.ParseHeaders(header)),
            };
            if (routed.Size > MaxParsedSize)
            {
                return details with { BodyProblem = $"The message is {routed.Size:N0} octets: only its header block is shown." };
            }

            if (!stream.CanSeek)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                stream = await stores.Routed.OpenMessageAsync(messageId, RouteAction.Quarantine, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                stream.Position = 0;
            }

            try
            {
                using var message = await MimeMessage.LoadAsync(stream, cancellationToken).ConfigureAwait(false);
                return details with
                {
                    TextBody = message.TextBody,
                    HtmlBody = message.HtmlBody,
                    Attachments = [.. message.Attachments.Select(MessageAttachment.Of)],
                };
            }
            catch (FormatException ex)
            {
                return details with { BodyProblem = $"The body is not readable MIME: {ex.Message}" };
            }
            finally
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Our fields come first (the aggregator prepends them); the sender's own claims follow other fields.</summary>
    private static List<string> OurAuthenticationResults(HeaderList headers)
    {
        var ours = new List<string>();
        foreach (var field in headers)
        {
            if (field.Id == HeaderId.AuthenticationResults)
            {
                ours.Add(field.Value.Trim());
            }
            else if (field.Id is not (HeaderId.ReceivedSPF or HeaderId.ArcAuthenticationResults or HeaderId.ArcMessageSignature or HeaderId.ArcSeal))
            {
                break;
            }
        }

        return ours;
    }
}
