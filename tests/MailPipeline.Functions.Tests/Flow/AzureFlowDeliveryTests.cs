using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using MailPipeline.Core.Arc;
using MailPipeline.Functions.Delivery;
using MailPipeline.Pipeline.Azure.KeyVault;
using MailPipeline.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace MailPipeline.Functions.Tests.Flow;

/// <summary>
/// <see cref="DeliverFunction"/> in the Azure flow (<see cref="AzureFlowHost"/>: real edge, Azurite, the test broker)
/// against a real next hop (Debian's aiosmtpd), sealing through the Key Vault <c>sign</c> REST contract served by a
/// local HTTPS stand-in: a 4xx schedules a retry that delivers once, ARC-sealed so dkimpy verifies the chain; a 5xx moves
/// the message to quarantine with the reply and announces it; poison is dead-lettered.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AzureFlowDeliveryTests : IAsyncLifetime
{
    private readonly List<IDisposable> _processes = [];
    private readonly string _work = Directory.CreateTempSubdirectory("mp-deliver-").FullName;
    private KeyVaultSignStandIn _vault = null!;
    private AzureFlowHost? _host;

    public Task InitializeAsync()
    {
        _vault = new KeyVaultSignStandIn();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _processes.ForEach(p => p.Dispose());
        await _vault.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Fact(Timeout = 180_000)]
    public async Task Deliver_DeferredThenAccepted_RetryScheduledThenDeliveredOnceSealedByKeyVault()
    {
        // arrange: the next hop answers the first DATA with 451
        var (port, sink) = await StartNextHopAsync("--defer-data", "1");
        _host = await StartHostAsync(port);
        string id = await RouteOneMessageAsync();
        await using var deliver = _host.Client.CreateReceiver("mail-routed", "deliver");

        // act: the routing notice, then the scheduled retry
        string first = await AzureFlowHost.InvokeOnceAsync(deliver, _host.Deliver);
        var stateAfterFirst = await ReadStateAsync(id);
        string second = await AzureFlowHost.InvokeOnceAsync(deliver, _host.Deliver);

        // assert
        Assert.Equal(("Complete", "Complete"), (first, second));
        Assert.StartsWith("451", stateAfterFirst.GetProperty("attempts")[0].GetProperty("reply").GetString(), StringComparison.Ordinal);
        Assert.Equal("delivered", (await ReadStateAsync(id)).GetProperty("outcome").GetString());
        string arrived = Assert.Single(Directory.GetFiles(sink, "*.eml"));
        byte[] bytes = await File.ReadAllBytesAsync(arrived);
        Assert.StartsWith("ARC-Seal: i=1; a=rsa-sha256;", Encoding.ASCII.GetString(bytes), StringComparison.Ordinal);
        Assert.Contains($"\r\nAuthentication-Results: {AzureFlowHost.AuthServId};", Encoding.ASCII.GetString(bytes), StringComparison.Ordinal);
        Assert.StartsWith("cv=pass", await DkimpyArcAsync(bytes), StringComparison.Ordinal);
        Assert.True(_vault.SignCalls >= 4, $"{_vault.SignCalls} sign calls"); // AMS and AS per attempt
        Assert.Single(_host.Broker.GetMessages("mail-routed/Subscriptions/audit")); // retries are not routing decisions
        Assert.Empty(_host.Broker.GetMessages("mail-routed/Subscriptions/deliver/$deadletterqueue"));
    }

    [Fact(Timeout = 180_000)]
    public async Task Deliver_RecipientRefused_QuarantinedWithTheReplyAndAnnounced()
    {
        // arrange
        var (port, sink) = await StartNextHopAsync("--reject-rcpt", "bob");
        _host = await StartHostAsync(port);
        string id = await RouteOneMessageAsync();
        await using var deliver = _host.Client.CreateReceiver("mail-routed", "deliver");

        // act
        string settled = await AzureFlowHost.InvokeOnceAsync(deliver, _host.Deliver);

        // assert: no bounce; the operator sees the reply in quarantine; the quarantine consumers are told
        Assert.Equal("Complete", settled);
        Assert.Empty(Directory.GetFiles(sink, "*.eml"));
        var quarantine = _host.Blobs.GetBlobContainerClient("quarantine");
        Assert.True((await quarantine.GetBlobClient(id + ".eml").ExistsAsync()).Value);
        string document = (await quarantine.GetBlobClient(id + ".json").DownloadContentAsync()).Value.Content.ToString();
        Assert.Contains("550 5.1.1 <bob@ours.test>: Recipient address rejected", document, StringComparison.Ordinal);
        Assert.False((await _host.Blobs.GetBlobContainerClient("deliver").GetBlobClient(id + ".eml").ExistsAsync()).Value);
        var announced = _host.Broker.GetMessages("mail-routed/Subscriptions/quarantine");
        Assert.Contains(announced, m => m.MessageId == id + "-delivery-quarantined");
        Assert.Equal("quarantined", (await ReadStateAsync(id)).GetProperty("outcome").GetString());
    }

    [Fact(Timeout = 120_000)]
    public async Task Deliver_PoisonAndStaleNotices_DeadLetterOnlyThePoison()
    {
        // arrange: a routed copy whose document has no envelope (and no spool copy), and a notice of a mail not in deliver
        var (port, _) = await StartNextHopAsync();
        _host = await StartHostAsync(port);
        var deliverContainer = _host.Blobs.GetBlobContainerClient("deliver");
        await deliverContainer.CreateIfNotExistsAsync();
        await deliverContainer.GetBlobClient("01POISON0000000000000000AA.json").UploadAsync(BinaryData.FromString("{}"));
        await deliverContainer.GetBlobClient("01POISON0000000000000000AA.eml").UploadAsync(BinaryData.FromString("Subject: x\r\n\r\nx\r\n"));
        await using var sender = _host.Client.CreateSender("mail-routed");
        await sender.SendMessageAsync(new Azure.Messaging.ServiceBus.ServiceBusMessage("{}") { MessageId = "01POISON0000000000000000AA", ApplicationProperties = { ["action"] = "deliver" } });
        await sender.SendMessageAsync(new Azure.Messaging.ServiceBus.ServiceBusMessage("{}") { MessageId = "01GONE000000000000000000AA", ApplicationProperties = { ["action"] = "deliver-retry" } });
        await using var deliver = _host.Client.CreateReceiver("mail-routed", "deliver");

        // act
        string poison = await AzureFlowHost.InvokeOnceAsync(deliver, _host.Deliver);
        string stale = await AzureFlowHost.InvokeOnceAsync(deliver, _host.Deliver);

        // assert: retrying cannot fix a document without an envelope; a notice of a mail that is gone is just done
        Assert.Equal("DeadLetter:" + DeliverFunction.UnreadableRoutedMessageReason, poison);
        Assert.Equal("Complete", stale);
    }

    private async Task<AzureFlowHost> StartHostAsync(int nextHopPort) => await AzureFlowHost.StartAsync(
        settings =>
        {
            settings["Delivery:DefaultNextHop"] = $"smtp://127.0.0.1:{nextHopPort}";
            settings["Delivery:HeloName"] = AzureFlowHost.AuthServId;
            settings["Delivery:RetryBaseDelay"] = "00:00:01";
            settings["Delivery:ConnectTimeout"] = "00:00:05";
            settings["Arc:Sealing:Domain"] = "ours.test";
            settings["Arc:Sealing:Selector"] = "arc";
            settings["Arc:Sealing:KeyVaultKeyId"] = _vault.KeyId.ToString();
        },
        services =>
        {
            // The real Key Vault client, pointed at the stand-in: its TLS certificate trusted, its token accepted.
            var options = new KeyVaultArcSigningKey.SigningClientOptions { Transport = new HttpClientTransport(_vault.CreateTrustingHandler()) };
            services.AddSingleton<IArcSigningKey>(new KeyVaultArcSigningKey(_vault.KeyId, new StandInCredential(), options));
        });

    private async Task<string> RouteOneMessageAsync()
    {
        await _host!.SendWithMailKitAsync("alice@example.com", "Delivery", withForgedResults: false);
        await _host.RunChecksAsync(perSubscription: 1);
        await _host.RunAggregatorAsync(4);
        string eml = Assert.Single(await _host.ListAsync("deliver"), n => n.EndsWith(".eml", StringComparison.Ordinal));
        return eml[..^4];
    }

    private async Task<JsonElement> ReadStateAsync(string id)
    {
        var content = await _host!.Blobs.GetBlobContainerClient("deliver").GetBlobClient(id + ".delivery.json").DownloadContentAsync();
        return JsonDocument.Parse(content.Value.Content.ToMemory()).RootElement;
    }

    private async Task<(int Port, string Folder)> StartNextHopAsync(params string[] options)
    {
        string folder = Path.Combine(_work, "next-hop-" + Guid.NewGuid().ToString("N"));
        _processes.Add(await TestNextHops.StartAiosmtpdAsync(folder, [.. TestNextHops.OnFreePort(out int port), .. options]));
        return (port, folder);
    }

    private Task<string> DkimpyArcAsync(byte[] message) =>
        TestNextHops.DkimpyArcVerifyAsync(message, "arc._domainkey.ours.test", _vault.Key.ExportSubjectPublicKeyInfo());

    private sealed class StandInCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(KeyVaultSignStandIn.Token, DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
