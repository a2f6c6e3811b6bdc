using System.Text.Json;
using MailPipeline.Cli.Commands;
using MailPipeline.Core.Authentication;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Processing;
using MimeKit;

namespace MailPipeline.Cli.Quarantine;

/// <summary>
/// Reads what an operator needs to review the quarantine from the pipeline's stores: the verdict document (reasons),
/// the envelope (received time, recipients) and the quarantined copy's header block (From, Subject). Independent of
/// how it is printed (<see cref="Output.QuarantineTable"/>), so a console can call it too.
/// </summary>
internal static class QuarantineInventory
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
        var report = ReadReport(await stores.Routed.ReadVerdictDocumentAsync(message.MessageId, RouteAction.Quarantine, cancellationToken).ConfigureAwait(false));
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
            envelope?.ReceivedAt ?? message.RoutedAt,
            Addresses(headers, HeaderId.From).FirstOrDefault(),
            report?.Dmarc?.Domain,
            to,
            headers[HeaderId.Subject],
            message.Size,
            report?.Reasons ?? []);
    }

    private static AuthenticationReport? ReadReport(byte[]? json)
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

    private static HeaderList ParseHeaders(byte[] headerBlock)
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
