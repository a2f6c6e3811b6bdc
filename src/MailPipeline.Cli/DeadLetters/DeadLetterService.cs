using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Azure.Messaging.ServiceBus;

namespace MailPipeline.Cli.DeadLetters;

/// <summary>
/// Dead-letter review against any Service Bus namespace: peek, show, resubmit, purge, summary. The commands are thin;
/// the rules live here.
/// </summary>
/// <remarks>
/// Resubmit sends a copy and only then completes the dead-lettered message, so a run that stops half-way loses nothing.
/// The copy's MessageId is derived from the dead-lettered message (its MessageId and sequence number), so a re-run
/// after such a stop sends the same MessageId again, and the topics' duplicate detection (required by the topology)
/// drops the second copy. A queue without duplicate detection (check-completed) can then see one extra copy, which its
/// consumer (the idempotent aggregator) absorbs.
/// </remarks>
internal sealed class DeadLetterService
{
    /// <summary>Property on a resubmitted copy: the dead-letter queue it came from.</summary>
    public const string ResubmittedFromProperty = "ResubmittedFrom";

    /// <summary>Property on a resubmitted copy: its sequence number there.</summary>
    public const string ResubmittedSequenceNumberProperty = "ResubmittedSequenceNumber";

    private const int PageSize = 250;
    private const int ReceiveBatch = 100;
    private static readonly string[] DeadLetterProperties = ["DeadLetterReason", "DeadLetterErrorDescription"];

    private readonly ServiceBusClient client;
    private readonly ServiceBusTopology topology;

    public DeadLetterService(ServiceBusClient client, ServiceBusTopology topology)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(topology);
        this.client = client;
        this.topology = topology;
    }

    /// <summary>How long a receive waits for the next batch before concluding the queue has nothing more for us.</summary>
    public TimeSpan ReceiveWait { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Called after a copy is sent and before the dead-lettered message is completed (a test seam for interruptions).</summary>
    internal Func<ServiceBusReceivedMessage, Task>? AfterCopySent { get; set; }

    /// <summary>The first <paramref name="max"/> dead-lettered messages, by sequence number, without locking them.</summary>
    public async Task<IReadOnlyList<DeadLetterMessageInfo>> PeekAsync(EntityAddress entity, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return await Translate(entity, async () =>
        {
            await using var receiver = client.CreateReceiver(entity.DeadLetterPath);
            var result = new List<DeadLetterMessageInfo>();
            long? from = null;
            while (result.Count < max)
            {
                var page = await receiver.PeekMessagesAsync(Math.Min(PageSize, max - result.Count), from, cancellationToken).ConfigureAwait(false);
                if (page.Count == 0)
                {
                    break;
                }

                result.AddRange(page.Select(DeadLetterMessageInfo.From));
                from = page[^1].SequenceNumber + 1;
            }

            return result;
        }).ConfigureAwait(false);
    }

    /// <summary>One dead-lettered message with everything it carries.</summary>
    /// <exception cref="DeadLetterException">Not in the dead-letter queue, or the entity cannot be read.</exception>
    public async Task<ServiceBusReceivedMessage> ShowAsync(EntityAddress entity, long sequenceNumber, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var message = await Translate(entity, async () =>
        {
            await using var receiver = client.CreateReceiver(entity.DeadLetterPath);
            return await receiver.PeekMessageAsync(sequenceNumber, cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        if (message is null || message.SequenceNumber != sequenceNumber)
        {
            throw new DeadLetterException(DeadLetterFailure.MessageNotFound, $"No message with sequence number {sequenceNumber} in the dead-letter queue of {entity}.");
        }

        return message;
    }

    /// <summary>The key <see cref="CountByReasonAsync"/> uses for messages dead-lettered without a reason.</summary>
    public const string NoReason = "(none)";

    /// <summary>Dead-lettered messages per reason.</summary>
    public async Task<IReadOnlyDictionary<string, int>> CountByReasonAsync(EntityAddress entity, CancellationToken cancellationToken = default)
    {
        var messages = await PeekAsync(entity, int.MaxValue, cancellationToken).ConfigureAwait(false);
        return messages.GroupBy(m => m.Reason ?? NoReason).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
    }

    /// <summary>The messages a selection matches now.</summary>
    public async Task<IReadOnlyList<DeadLetterMessageInfo>> SelectAsync(EntityAddress entity, DeadLetterSelection selection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var all = await PeekAsync(entity, int.MaxValue, cancellationToken).ConfigureAwait(false);
        return all.Where(selection.Matches).ToList();
    }

    /// <summary>
    /// Sends a copy of each selected message to where it came from (a subscription's copy goes to the topic, routed to that
    /// subscription alone), then completes the dead-lettered message.
    /// </summary>
    public async Task<DeadLetterRunResult> ResubmitAsync(
        EntityAddress entity, DeadLetterSelection selection, bool dryRun, IProgress<DeadLetterProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var route = topology.RouteFor(entity);
        var matches = await SelectAsync(entity, selection, cancellationToken).ConfigureAwait(false);
        if (dryRun || matches.Count == 0)
        {
            return new DeadLetterRunResult(matches.Count, 0, [], matches);
        }

        return await Translate(entity, async () =>
        {
            await using var sender = client.CreateSender(route.EntityPath);
            return await ProcessAsync(entity, matches, async (receiver, message) =>
            {
                await sender.SendMessageAsync(CreateCopy(entity, message, route), cancellationToken).ConfigureAwait(false);
                if (AfterCopySent is { } hook)
                {
                    await hook(message).ConfigureAwait(false);
                }

                // The copy is out: finish the move even if the operator interrupts now.
                await receiver.CompleteMessageAsync(message, CancellationToken.None).ConfigureAwait(false);
            }, progress, cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>Completes (deletes) each selected dead-lettered message.</summary>
    public async Task<DeadLetterRunResult> PurgeAsync(
        EntityAddress entity, DeadLetterSelection selection, IProgress<DeadLetterProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var matches = await SelectAsync(entity, selection, cancellationToken).ConfigureAwait(false);
        if (matches.Count == 0)
        {
            return new DeadLetterRunResult(0, 0, [], matches);
        }

        return await Translate(entity, () => ProcessAsync(
            entity,
            matches,
            (receiver, message) => receiver.CompleteMessageAsync(message, cancellationToken),
            progress,
            cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>The MessageId of the copy of a dead-lettered message: the same on every run, distinct from the original's.</summary>
    public static string CopyMessageId(ServiceBusReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var id = $"{message.MessageId}~resubmit~{message.SequenceNumber}";
        if (id.Length <= 128)
        {
            return id;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(message.MessageId ?? string.Empty)))[..32];
        return $"{hash}~resubmit~{message.SequenceNumber}";
    }

    private static ServiceBusMessage CreateCopy(EntityAddress entity, ServiceBusReceivedMessage message, ResubmitRoute route)
    {
        var copy = new ServiceBusMessage(message) { MessageId = CopyMessageId(message) };
        foreach (var name in DeadLetterProperties)
        {
            copy.ApplicationProperties.Remove(name);
        }

        foreach (var (name, value) in route.Properties)
        {
            copy.ApplicationProperties[name] = value;
        }

        copy.ApplicationProperties[ResubmittedFromProperty] = entity.DeadLetterPath;
        copy.ApplicationProperties[ResubmittedSequenceNumberProperty] = message.SequenceNumber;
        return copy;
    }

    /// <summary>
    /// Locks the dead-letter queue's messages in order, applies <paramref name="action"/> to the selected ones, and
    /// abandons the others it had to lock on the way (their delivery count goes up by one; nothing else changes).
    /// </summary>
    private async Task<DeadLetterRunResult> ProcessAsync(
        EntityAddress entity,
        IReadOnlyList<DeadLetterMessageInfo> matches,
        Func<ServiceBusReceiver, ServiceBusReceivedMessage, Task> action,
        IProgress<DeadLetterProgress>? progress,
        CancellationToken cancellationToken)
    {
        var remaining = matches.Select(m => m.SequenceNumber).ToHashSet();
        var passedOver = new List<ServiceBusReceivedMessage>();
        var passedOverNumbers = new HashSet<long>();
        var stopwatch = Stopwatch.StartNew();
        var done = 0;
        await using var receiver = client.CreateReceiver(entity.DeadLetterPath, new ServiceBusReceiverOptions { PrefetchCount = 0 });
        try
        {
            while (remaining.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Ask only for as many as are still wanted: credit left on the link would pull in (and lock) messages
                // this run has no business with, including the ones it abandons below.
                var batch = await receiver.ReceiveMessagesAsync(Math.Min(ReceiveBatch, remaining.Count), ReceiveWait, cancellationToken).ConfigureAwait(false);
                if (batch.Count == 0)
                {
                    break;
                }

                var progressed = false;
                var cycled = false;
                foreach (var message in batch)
                {
                    if (remaining.Remove(message.SequenceNumber))
                    {
                        await action(receiver, message).ConfigureAwait(false);
                        done++;
                        progressed = true;
                        progress?.Report(new DeadLetterProgress(done, matches.Count, stopwatch.Elapsed));
                    }
                    else
                    {
                        cycled |= !passedOverNumbers.Add(message.SequenceNumber);
                        passedOver.Add(message);
                    }
                }

                if (!progressed && cycled)
                {
                    // Only messages seen before came back (their locks ran out): the rest of the selection is not receivable.
                    break;
                }
            }
        }
        finally
        {
            foreach (var message in passedOver)
            {
                await AbandonQuietly(receiver, message).ConfigureAwait(false);
            }
        }

        return new DeadLetterRunResult(matches.Count, done, remaining.Order().ToList(), matches);
    }

    private static async Task AbandonQuietly(ServiceBusReceiver receiver, ServiceBusReceivedMessage message)
    {
        try
        {
            await receiver.AbandonMessageAsync(message, cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
        catch (ServiceBusException ex) when (ex.Reason == ServiceBusFailureReason.MessageLockLost)
        {
            // Its lock already ran out: it is available again, which is all abandoning would do.
        }
    }

    private static async Task<T> Translate<T>(EntityAddress entity, Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (ServiceBusException ex) when (ex.Reason == ServiceBusFailureReason.MessagingEntityNotFound)
        {
            throw new DeadLetterException(DeadLetterFailure.EntityNotFound, $"{entity} does not exist in this namespace (check the name: QUEUE or TOPIC/SUBSCRIPTION).", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new DeadLetterException(DeadLetterFailure.AccessDenied, $"Access to {entity} was denied: the credential needs the Listen right (and Send on the queue or topic for resubmit). {ex.Message}", ex);
        }
        catch (ServiceBusException ex) when (ex.Reason is ServiceBusFailureReason.ServiceCommunicationProblem or ServiceBusFailureReason.ServiceTimeout or ServiceBusFailureReason.ServiceBusy)
        {
            throw new DeadLetterException(DeadLetterFailure.Unreachable, $"The Service Bus namespace could not be reached ({ex.Reason}): check its name, the network and the firewall.", ex);
        }
        catch (Azure.Identity.AuthenticationFailedException ex)
        {
            throw new DeadLetterException(DeadLetterFailure.NoCredential, $"No Azure credential could be obtained for the namespace: sign in (az login) or set a managed identity. {ex.Message}", ex);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new DeadLetterException(DeadLetterFailure.Unreachable, $"The Service Bus namespace could not be reached: {ex.Message}.", ex);
        }
    }
}
