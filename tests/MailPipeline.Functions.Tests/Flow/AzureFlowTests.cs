namespace MailPipeline.Functions.Tests.Flow;

/// <summary>
/// The whole Azure flow in one process (<see cref="AzureFlowHost"/>): mail sent to the real edge by swaks and MailKit,
/// each function driven from its subscription as its trigger would, ending in the deliver/quarantine containers.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AzureFlowTests : IAsyncLifetime
{
    private const string AuthServId = AzureFlowHost.AuthServId;
    private AzureFlowHost _host = null!;

    public async Task InitializeAsync() => _host = await AzureFlowHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact(Timeout = 120_000)]
    public async Task Flow_AlignedSpfBySwaksAndForgedSender_DeliveredAndQuarantinedWithOurAuthenticationResults()
    {
        // arrange: the aligned message comes from swaks (with a forged Authentication-Results header), the forged one from MailKit.
        await _host.SendWithSwaksAsync("alice@example.com", "Hello", withForgedResults: true);
        await _host.SendWithMailKitAsync("mallory@forged.example", "Invoice", withForgedResults: false);

        // act: each check function takes its subscription's messages, then the aggregator its queue.
        var settlements = await _host.RunChecksAsync(perSubscription: 2);
        settlements.AddRange(await _host.RunAggregatorAsync(8));

        // assert
        Assert.Equal(16, settlements.Count);
        Assert.All(settlements, s => Assert.Equal("Complete", s));
        string delivered = await _host.SingleRoutedMessageAsync("deliver");
        string quarantined = await _host.SingleRoutedMessageAsync("quarantine");
        Assert.StartsWith($"Authentication-Results: {AuthServId};", delivered, StringComparison.Ordinal);
        Assert.Contains("spf=pass", delivered, StringComparison.Ordinal);
        Assert.Contains("dmarc=pass", delivered, StringComparison.Ordinal);
        Assert.Contains("Subject: Hello", delivered, StringComparison.Ordinal);
        Assert.Single(delivered.Split("\r\n"), l => l.StartsWith($"Authentication-Results: {AuthServId}", StringComparison.Ordinal));
        Assert.DoesNotContain("forged-by-sender", delivered, StringComparison.Ordinal);
        Assert.StartsWith($"Authentication-Results: {AuthServId};", quarantined, StringComparison.Ordinal);
        Assert.Contains("dmarc=fail", quarantined, StringComparison.Ordinal);
        Assert.Contains("Subject: Invoice", quarantined, StringComparison.Ordinal);
        var deliverEvents = _host.Broker.GetMessages("mail-routed/Subscriptions/deliver");
        var quarantineEvents = _host.Broker.GetMessages("mail-routed/Subscriptions/quarantine");
        Assert.Equal("deliver", Assert.Single(deliverEvents).ApplicationProperties["action"]);
        Assert.Equal("quarantine", Assert.Single(quarantineEvents).ApplicationProperties["action"]);
        Assert.Equal(2, _host.Broker.GetMessages("mail-routed/Subscriptions/audit").Count);
        Assert.Empty(_host.Broker.GetMessages("mail-received/Subscriptions/spf/$deadletterqueue"));
        Assert.Empty(_host.Broker.RefusedRequests);
    }

    [Fact(Timeout = 120_000)]
    public async Task Flow_DmarcTempError_AggregatorSchedulesARetryForTheDmarcSubscriptionOnly()
    {
        // arrange
        await _host.SendWithMailKitAsync("carol@flaky.example", "Later", withForgedResults: false);
        await _host.RunChecksAsync(perSubscription: 1);

        // act
        await _host.RunAggregatorAsync(4);
        await using var dmarc = _host.Client.CreateReceiver("mail-received", "dmarc");
        var retry = await dmarc.ReceiveMessageAsync(TimeSpan.FromSeconds(20));

        // assert
        Assert.NotNull(retry);
        Assert.Equal("dmarc", retry.ApplicationProperties["target"]);
        Assert.Equal(2, retry.ApplicationProperties["attempt"]);
        Assert.EndsWith("-dmarc-2", retry.MessageId, StringComparison.Ordinal);
        foreach (string other in new[] { "spf", "dkim", "reputation" })
        {
            Assert.Empty(_host.Broker.GetMessages($"mail-received/Subscriptions/{other}"));
        }

        Assert.False(await _host.Blobs.GetBlobContainerClient("verdicts").GetBlobsAsync().AnyAsync());
    }
}
