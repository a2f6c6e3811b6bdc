using System.Text;
using Azure.Messaging.ServiceBus;
using MailPipeline.Cli.DeadLetters;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Azure.ServiceBus;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using Microsoft.Extensions.DependencyInjection;

namespace MailPipeline.Functions.Tests.Flow;

/// <summary>
/// Poison and missing-blob messages in the Azure flow (<see cref="AzureFlowHost"/>): published through the SDK, run by the
/// in-test trigger host, dead-lettered by the functions with their reason into the right <c>$deadletterqueue</c>, then
/// reviewed, purged and resubmitted with the dlq commands' <see cref="DeadLetterService"/>.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AzureFlowPoisonTests : IAsyncLifetime
{
    private static readonly string[] Checks = ["spf", "dkim", "reputation", "dmarc"];
    private static readonly string[] ReadingChecks = ["dkim", "reputation", "dmarc"];
    private AzureFlowHost _host = null!;
    private DeadLetterService _dlq = null!;

    public async Task InitializeAsync()
    {
        _host = await AzureFlowHost.StartAsync();
        _dlq = new DeadLetterService(_host.Client, ServiceBusTopology.Embedded()) { ReceiveWait = TimeSpan.FromSeconds(2) };
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact(Timeout = 120_000)]
    public async Task Flow_PoisonMessages_DeadLetteredWithTheFunctionsReasonThenPurgedAndResubmittedByTheDlqService()
    {
        // arrange: garbage for every check, an unknown schema version for dmarc alone, a completion for no known stage.
        await using (var sender = _host.Client.CreateSender("mail-received"))
        {
            await sender.SendMessageAsync(Targeted(new ServiceBusMessage("this is not an envelope") { MessageId = "garbage" }, StageNames.All));
            await sender.SendMessageAsync(Targeted(
                new ServiceBusMessage("{\"schemaVersion\":99,\"messageId\":\"01JFUTURE\",\"rawMessageReference\":\"01JFUTURE.eml\"}") { MessageId = "01JFUTURE" },
                StageNames.Dmarc));
        }

        await using (var sender = _host.Client.CreateSender("check-completed"))
        {
            await sender.SendMessageAsync(new ServiceBusMessage("{\"messageId\":\"01JX\",\"stage\":\"antivirus\",\"attempt\":1}") { MessageId = "01JX-antivirus-1-completed", CorrelationId = "01JX" });
        }

        // act: the triggers run the functions, which settle each message themselves.
        var settlements = new Dictionary<string, List<string>>();
        foreach (string check in Checks)
        {
            await using var receiver = _host.Client.CreateReceiver("mail-received", check);
            settlements[check] = await AzureFlowHost.DrainAsync(receiver, check == "dmarc" ? 2 : 1, _host.CheckFunction(check));
        }

        settlements["check-completed"] = await _host.RunAggregatorAsync(1);

        // assert: each message is in its entity's dead-letter queue with the function's reason and description.
        foreach (string check in new[] { "spf", "dkim", "reputation" })
        {
            Assert.Equal(["DeadLetter:" + PoisonMessageException.UnparseableEnvelope], settlements[check]);
            var dead = Assert.Single(await _dlq.PeekAsync(EntityAddress.Parse($"mail-received/{check}"), 100));
            Assert.Equal((PoisonMessageException.UnparseableEnvelope, "garbage"), (dead.Reason, dead.MessageId));
            Assert.StartsWith("The body is not a mail envelope", dead.Description, StringComparison.Ordinal);
        }

        var dmarc = EntityAddress.Parse("mail-received/dmarc");
        var dmarcDead = await _dlq.PeekAsync(dmarc, 100);
        Assert.Equal(
            [(PoisonMessageException.UnparseableEnvelope, "garbage"), (PoisonMessageException.UnsupportedSchemaVersion, "01JFUTURE")],
            dmarcDead.Select(d => (d.Reason, d.MessageId)));
        Assert.Contains("schema version 99 is not supported", dmarcDead[1].Description, StringComparison.Ordinal);
        Assert.Equal(["DeadLetter:" + PoisonMessageException.UnparseableCompletion], settlements["check-completed"]);
        var completion = Assert.Single(await _dlq.PeekAsync(EntityAddress.Parse("check-completed"), 100));
        Assert.Equal((PoisonMessageException.UnparseableCompletion, "01JX-antivirus-1-completed", "01JX"), (completion.Reason, completion.MessageId, completion.MailId));
        Assert.False(string.IsNullOrWhiteSpace(completion.Description));
        Assert.Empty(_host.Broker.GetMessages("check-completed"));

        // act: the operator purges the garbage from dmarc's dead-letter queue and resubmits the other message.
        var purged = await _dlq.PurgeAsync(dmarc, DeadLetterSelection.WithReason(PoisonMessageException.UnparseableEnvelope));
        var resubmitted = await _dlq.ResubmitAsync(dmarc, DeadLetterSelection.Numbers([dmarcDead[1].SequenceNumber]), dryRun: false);

        // assert: exactly those moved; the copy reached the dmarc subscription alone, whose function dead-letters it again.
        Assert.Equal((1, 1), (purged.Processed, resubmitted.Processed));
        Assert.Empty(await _dlq.PeekAsync(dmarc, 100));
        foreach (string other in new[] { "spf", "dkim", "reputation" })
        {
            Assert.Empty(_host.Broker.GetMessages($"mail-received/Subscriptions/{other}"));
            Assert.Single(await _dlq.PeekAsync(EntityAddress.Parse($"mail-received/{other}"), 100));
        }

        await using (var receiver = _host.Client.CreateReceiver("mail-received", "dmarc"))
        {
            Assert.Equal(
                "DeadLetter:" + PoisonMessageException.UnsupportedSchemaVersion,
                await AzureFlowHost.InvokeOnceAsync(receiver, _host.CheckFunction("dmarc")));
        }

        var again = Assert.Single(await _dlq.PeekAsync(dmarc, 100));
        Assert.Equal(PoisonMessageException.UnsupportedSchemaVersion, again.Reason);
        var shown = await _dlq.ShowAsync(dmarc, again.SequenceNumber);
        Assert.Equal(dmarc.DeadLetterPath, shown.ApplicationProperties[DeadLetterService.ResubmittedFromProperty]);
        Assert.Empty(_host.Broker.RefusedRequests);
    }

    [Fact(Timeout = 120_000)]
    public async Task Flow_RawBlobMissing_ChecksReadingItRetriedUntilTheThirdDeliveryThenDeadLetteredAndResubmittedOnceRestored()
    {
        // arrange: an envelope whose raw message was never stored.
        string id = new MessageIdGenerator().NextId();
        byte[] raw = Encoding.ASCII.GetBytes(
            "From: Alice <alice@example.com>\r\nTo: bob@ours.test\r\nSubject: Lost\r\nMessage-ID: <lost@example.com>\r\n\r\nHello Bob.\r\n");
        var envelope = new MailEnvelope
        {
            MessageId = id,
            RawMessageReference = id + BlobRawMessageStore.MessageSuffix,
            ClientAddress = "127.0.0.1",
            Helo = "mx.example.com",
            MailFrom = "alice@example.com",
            Recipients = ["bob@ours.test"],
            Size = raw.Length,
            ReceivedAt = DateTimeOffset.UtcNow,
        };
        await using (var sender = _host.Client.CreateSender("mail-received"))
        {
            await sender.SendMessageAsync(PipelineMessages.ForStageRequest(new StageRequest(envelope, StageNames.All)));
        }

        // act: every check's trigger keeps invoking its function until the message leaves the subscription.
        var settlements = new Dictionary<string, List<string>>();
        foreach (string check in Checks)
        {
            await using var receiver = _host.Client.CreateReceiver("mail-received", check);
            settlements[check] = await AzureFlowHost.DrainAsync(receiver, check == "spf" ? 1 : 3, _host.CheckFunction(check));
        }

        // assert: SPF needs only the envelope and completes; each check that reads the message fails twice (abandoned,
        // redelivered), and on the third delivery dead-letters it as RawMessageMissing.
        Assert.Equal(["Complete"], settlements["spf"]);
        foreach (string check in ReadingChecks)
        {
            Assert.Equal(
                ["Abandon(FileNotFoundException)", "Abandon(FileNotFoundException)", "DeadLetter:" + PoisonMessageException.RawMessageMissing],
                settlements[check]);
            Assert.Empty(_host.Broker.GetMessages($"mail-received/Subscriptions/{check}"));
            var dead = Assert.Single(await _dlq.PeekAsync(EntityAddress.Parse($"mail-received/{check}"), 100));
            Assert.Equal((PoisonMessageException.RawMessageMissing, id), (dead.Reason, dead.MailId));
            Assert.Contains(envelope.RawMessageReference, dead.Description, StringComparison.Ordinal);
            Assert.Contains("after 3 deliveries", dead.Description, StringComparison.Ordinal);
        }

        Assert.Empty(await _dlq.PeekAsync(EntityAddress.Parse("mail-received/spf"), 100));
        Assert.Equal(StageNames.Spf, Assert.Single(_host.Broker.GetMessages("check-completed")).ApplicationProperties[PipelineMessages.StageProperty]);

        // act: the operator restores the raw message and resubmits dkim's dead-lettered copy by reason.
        string restored = await _host.Functions.GetRequiredService<MailPipeline.Pipeline.Azure.Blobs.BlobRawMessageStore>().StoreMessageAsync(id, new MemoryStream(raw));
        var dkim = EntityAddress.Parse("mail-received/dkim");
        var resubmitted = await _dlq.ResubmitAsync(dkim, DeadLetterSelection.WithReason(PoisonMessageException.RawMessageMissing), dryRun: false);
        string settled;
        await using (var receiver = _host.Client.CreateReceiver("mail-received", "dkim"))
        {
            settled = await AzureFlowHost.InvokeOnceAsync(receiver, _host.CheckFunction("dkim"));
        }

        // assert: the dkim stage now runs and announces its result; the other checks' dead letters are untouched.
        Assert.Equal(envelope.RawMessageReference, restored);
        Assert.Equal(1, resubmitted.Processed);
        Assert.Equal("Complete", settled);
        Assert.Empty(await _dlq.PeekAsync(dkim, 100));
        Assert.Equal(
            [StageNames.Spf, StageNames.Dkim],
            _host.Broker.GetMessages("check-completed").Select(m => m.ApplicationProperties[PipelineMessages.StageProperty]));
        foreach (string other in new[] { "reputation", "dmarc" })
        {
            Assert.Single(await _dlq.PeekAsync(EntityAddress.Parse($"mail-received/{other}"), 100));
            Assert.Empty(_host.Broker.GetMessages($"mail-received/Subscriptions/{other}"));
        }

        Assert.Empty(_host.Broker.RefusedRequests);
    }

    private static ServiceBusMessage Targeted(ServiceBusMessage message, string target)
    {
        message.ApplicationProperties[ServiceBusEntityNames.TargetProperty] = target;
        return message;
    }
}
