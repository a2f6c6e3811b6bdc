using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Pipeline.Azure.ServiceBus;

/// <summary>
/// The routed-mail store of the Azure deployment: writes the copy (deliver/quarantine container), and once it is
/// durable tells downstream consumers on <c>mail-routed</c>. Every path that routes a message (the aggregator,
/// reconciliation after a crash, an operator's release) goes through here, so no routing goes unannounced; a
/// repeat is absorbed by the topic's duplicate detection (broker message id = mail id).
/// </summary>
public sealed class NotifyingRoutedMailStore : IRoutedMailStore
{
    private readonly IRoutedMailStore _inner;
    private readonly ServiceBusRoutedMailPublisher _publisher;
    private readonly PipelineContainerNames _containers;

    /// <summary>Creates the store.</summary>
    /// <param name="inner">The store that holds the copies.</param>
    /// <param name="publisher">The <c>mail-routed</c> publisher.</param>
    /// <param name="containers">The container names (named in the routed messages).</param>
    public NotifyingRoutedMailStore(IRoutedMailStore inner, ServiceBusRoutedMailPublisher publisher, PipelineContainerNames containers)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(publisher);
        ArgumentNullException.ThrowIfNull(containers);
        _inner = inner;
        _publisher = publisher;
        _containers = containers;
    }

    /// <inheritdoc />
    public async Task RouteAsync(string messageId, RouteAction action, Stream finalMessage, ReadOnlyMemory<byte> verdictDocument, CancellationToken cancellationToken = default)
    {
        await _inner.RouteAsync(messageId, action, finalMessage, verdictDocument, cancellationToken).ConfigureAwait(false);
        await _publisher.PublishAsync(messageId, action, ContainerOf(action), verdictDocument, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<RoutedMessage?> FindAsync(string messageId, CancellationToken cancellationToken = default) => _inner.FindAsync(messageId, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<RoutedMessage>> ListAsync(RouteAction action, CancellationToken cancellationToken = default) => _inner.ListAsync(action, cancellationToken);

    /// <inheritdoc />
    public Task<Stream> OpenMessageAsync(string messageId, RouteAction action, CancellationToken cancellationToken = default) => _inner.OpenMessageAsync(messageId, action, cancellationToken);

    /// <inheritdoc />
    public Task<byte[]?> ReadVerdictDocumentAsync(string messageId, RouteAction action, CancellationToken cancellationToken = default) => _inner.ReadVerdictDocumentAsync(messageId, action, cancellationToken);

    /// <inheritdoc />
    public async Task<bool> ReleaseAsync(string messageId, OperatorStamp stamp, CancellationToken cancellationToken = default)
    {
        if (!await _inner.ReleaseAsync(messageId, stamp, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        byte[] document = await _inner.ReadVerdictDocumentAsync(messageId, RouteAction.Deliver, cancellationToken).ConfigureAwait(false) ?? [];
        await _publisher.PublishAsync(messageId, RouteAction.Deliver, _containers.Deliver, document, messageId + "-released", cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string messageId, OperatorStamp stamp, CancellationToken cancellationToken = default) =>
        _inner.DeleteAsync(messageId, stamp, cancellationToken); // nothing is routed: nothing to announce

    /// <summary>Moves a message delivery could not hand over to quarantine, then announces the quarantine decision.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="reasons">The next hop's replies.</param>
    /// <param name="cancellationToken">Cancels the move.</param>
    /// <returns>True when it moved.</returns>
    public async Task<bool> QuarantineAsync(string messageId, IEnumerable<string> reasons, CancellationToken cancellationToken = default)
    {
        if (!await _inner.QuarantineAsync(messageId, reasons, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        byte[] document = await _inner.ReadVerdictDocumentAsync(messageId, RouteAction.Quarantine, cancellationToken).ConfigureAwait(false) ?? [];
        await _publisher.PublishAsync(messageId, RouteAction.Quarantine, _containers.Quarantine, document, messageId + "-delivery-quarantined", cancellationToken).ConfigureAwait(false);
        return true;
    }

    private string ContainerOf(RouteAction action) => action == RouteAction.Deliver ? _containers.Deliver : _containers.Quarantine;
}
