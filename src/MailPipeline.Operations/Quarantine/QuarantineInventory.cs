using System.Text.Json;
using MailPipeline.Operations.Stores;
using MailPipeline.Core.Authentication;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Delivery;
using MailPipeline.Pipeline.Processing;
using MimeKit;

namespace MailPipeline.Operations.Quarantine;

/// <summary>
/// Reads what an operator needs to review the quarantine from the pipeline's stores: the verdict document (reasons),
/// the envelope (received time, recipients) and the quarantined copy's header block (From, Subject). Independent of
/// how it is printed (the CLI's table, the console's page), so a console can call it too.
/// </summary>
public static class QuarantineInventory
{
    private const int ParallelReads = 8;

    /// <summary>Every quarantined message, oldest id (= oldest) first.</summary>
    /// <param name="stores">The stores.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The messages.</returns>
    public static async Task<IReadOnlyList<QuarantinedMessage>> ListAsync(PipelineStores stores, CancellationToken cancellationToken)
    {
        var held = await stores.Routed.ListAsync(RouteAction.Quarantine, cancellationToken).ConfigureAwait(false);
        var summaries = new QuarantinedMessage[held.Count];
        // Blob Storage costs a round trip per read: a few messages at a time keep a long list quick.
        await Parallel.ForEachAsync(
            Enumerable.Range(0, held.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
            async (i, token) => summaries[i] = await DescribeAsync(stores, held[i], token).ConfigureAwait(false)).ConfigureAwait(false);
        return summaries;
    }

    /// <summary>Describes one quarantined message.</summary>
    /// <param name="stores">The stores.</param>
    /// <param name="message">The routed message.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The summary.</returns>
    public static async Task<QuarantinedMessage> DescribeAsync(PipelineStores stores, RoutedMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stores);
        ArgumentNullException.ThrowIfNull(message);
        byte[]? document = await stores.Routed.ReadVerdictDocumentAsync(message.MessageId, RouteAction.Quarantine, cancellationToken).ConfigureAwait(false);
        var report = ReadReport(document);
        var envelope = await stores.Raw.ReadEnvelopeAsync(message.MessageId, cancellationToken).ConfigureAwait(false);
        HeaderList headers;
        try
        {
            var stream = await stores.Routed.OpenMessageAsync(message.MessageId, RouteAction.Quarantine, cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                headers = ParseHeaders(await HeaderBlockReader.ReadAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false));
            }
        }
        catch (FileNotFoundException)
        {
            headers = []; // released or deleted while we listed
        }

        var to = envelope?.Recipients is { Count: > 0 } recipients ? recipients : Addresses(headers, HeaderId.To);
        return new QuarantinedMessage(
            message.MessageId,
            envelope?.ReceivedAt ?? report?.ReceivedAt ?? message.RoutedAt,
            Addresses(headers, HeaderId.From).FirstOrDefault(),
            report?.Dmarc?.Domain,
            to,
            headers[HeaderId.Subject],
            message.Size,
            report?.Reasons ?? [])
        {
            MailFrom = envelope?.MailFrom ?? RoutedEnvelope(document)?.MailFrom,
        };
    }

    /// <summary>The envelope stored in the routed document (the spool copy is retired once routed), or null.</summary>
    /// <param name="document">The routed document.</param>
    /// <returns>The envelope, or null when absent or unreadable.</returns>
    public static MailEnvelope? RoutedEnvelope(byte[]? document)
    {
        if (document is null)
        {
            return null;
        }

        try
        {
            return RoutedDocument.ReadEnvelope(document);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Reads the verdict of a routed document, or null when absent or damaged.</summary>
    /// <param name="json">The document.</param>
    /// <returns>The report.</returns>
    public static AuthenticationReport? ReadReport(byte[]? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<AuthenticationReport>(json, AuthenticationReport.JsonOptions);
        }
        catch (JsonException)
        {
            return null; // a damaged document: list the message anyway, without reasons
        }
    }

    /// <summary>Parses a header block (damaged: empty).</summary>
    /// <param name="headerBlock">The header block.</param>
    /// <returns>The fields.</returns>
    public static HeaderList ParseHeaders(byte[] headerBlock)
    {
        using var stream = new MemoryStream(headerBlock, writable: false);
        try
        {
            return HeaderList.Load(stream);
        }
        catch (FormatException)
        {
            return [];
        }
    }

    private static IReadOnlyList<string> Addresses(HeaderList headers, HeaderId field) =>
        headers[field] is { } value && InternetAddressList.TryParse(value, out var list)
            ? list.Mailboxes.Select(m => m.Address).ToList()
            : [];
}
