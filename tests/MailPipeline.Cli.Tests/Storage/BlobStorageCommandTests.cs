using System.Net;
using System.Text;
using Azure.Storage.Blobs;
using MailPipeline.Cli;
using MailPipeline.Cli.Commands;
using MailPipeline.Core.Authentication;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.TestSupport;

namespace MailPipeline.Cli.Tests.Storage;

/// <summary>
/// quarantine list/show/release and trace with --storage against a real Azurite: the message is stored,
/// checked and routed through the Blob adapters, then inspected through the command line.
/// </summary>
[Trait("Category", "Integration")]
public sealed class BlobStorageCommandTests : IClassFixture<AzuriteFixture>
{
    private static readonly MessageIdGenerator Ids = new();
    private readonly AzuriteFixture _azurite;

    public BlobStorageCommandTests(AzuriteFixture azurite) => _azurite = azurite;

    [Fact(Timeout = 120_000)]
    public async Task QuarantineAndTrace_WithStorage_ListShowReleaseAndTraceTheBlobMessage()
    {
        // Arrange: a DMARC p=reject domain, mail from an address SPF does not allow → quarantine.
        string id = await RouteQuarantinedMessageAsync();

        // Act + assert: list
        var (code, output, error) = await RunAsync("quarantine", "list", "--storage", _azurite.ConnectionString);
        Assert.Equal(0, code);
        Assert.Equal($"mailpipeline: 1 message(s) in quarantine ({ServiceUri}/quarantine).", error.Trim());
        Assert.StartsWith("ID ", output, StringComparison.Ordinal);
        var line = Assert.Single(output.Split('\n'), l => l.StartsWith(id, StringComparison.Ordinal));
        Assert.Contains("example.com", line, StringComparison.Ordinal);
        Assert.Contains("dmarc=fail", line, StringComparison.Ordinal);

        // show: the verdict JSON and the header block (with our Authentication-Results)
        (code, output, error) = await RunAsync("quarantine", "show", id, "--storage", _azurite.ConnectionString);
        Assert.Equal(0, code);
        Assert.Contains("\"action\": \"quarantine\"", output.Replace("\"action\":\"", "\"action\": \"", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("Authentication-Results: mx.test.example;", output, StringComparison.Ordinal);
        Assert.Contains("Subject: Hello", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Hi Bob.", output, StringComparison.Ordinal);

        // trace before release: envelope, each stage, verdict, the quarantine blob
        (code, output, error) = await RunAsync("trace", id, "--storage", _azurite.ConnectionString);
        Assert.Equal(0, code);
        Assert.Contains($"message {id}", output, StringComparison.Ordinal);
        Assert.Contains("\"mailFrom\":\"alice@example.com\"", output.Replace(" ", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        foreach (string stage in StageNames.Checks)
        {
            Assert.Contains($"{stage}: {{", output, StringComparison.Ordinal);
        }

        Assert.Contains("verdict: quarantine {", output, StringComparison.Ordinal);
        Assert.Contains($"routed: {ServiceUri}/quarantine/{id}.eml (", output, StringComparison.Ordinal);

        // release: moved to the deliver container
        (code, output, error) = await RunAsync("quarantine", "release", id, "--storage", _azurite.ConnectionString);
        Assert.Equal(0, code);
        Assert.Equal($"{id} released to {ServiceUri}/deliver/{id}.eml by {Environment.UserName}", output.Trim());
        Assert.Contains($"released from quarantine by {Environment.UserName}", error, StringComparison.Ordinal); // the audit line
        var service = new BlobServiceClient(_azurite.ConnectionString);
        var releasedDocument = (await service.GetBlobContainerClient("deliver").GetBlobClient(id + ".json").DownloadContentAsync()).Value.Content.ToArray();
        Assert.Equal(Environment.UserName, MailPipeline.Pipeline.Contracts.OperatorStamp.ReadFrom(releasedDocument, "released")!.By);
        Assert.True((await service.GetBlobContainerClient("deliver").GetBlobClient(id + ".eml").ExistsAsync()).Value);
        Assert.False((await service.GetBlobContainerClient("quarantine").GetBlobClient(id + ".eml").ExistsAsync()).Value);

        (code, output, _) = await RunAsync("quarantine", "list", "--storage", _azurite.ConnectionString);
        Assert.Equal(0, code);
        Assert.DoesNotContain(id, output, StringComparison.Ordinal);
        (code, _, error) = await RunAsync("quarantine", "show", id, "--storage", _azurite.ConnectionString);
        Assert.Equal(MailPipelineCommand.Failure, code);
        Assert.StartsWith($"mailpipeline: message {id} is not in quarantine (looked in {ServiceUri}/quarantine): it is in deliver, released by {Environment.UserName}", error.Trim(), StringComparison.Ordinal);
        (code, output, _) = await RunAsync("trace", id, "--storage", _azurite.ConnectionString);
        Assert.Equal(0, code);
        Assert.Contains($"routed: {ServiceUri}/deliver/{id}.eml (", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Trace_UnknownIdWithStorage_FailsWithOneLine()
    {
        string id = Ids.NextId();

        var (code, _, error) = await RunAsync("trace", id, "--storage", _azurite.ConnectionString);

        Assert.Equal(MailPipelineCommand.Failure, code);
        Assert.StartsWith($"mailpipeline: no message {id}: looked for its envelope in {new BlobServiceClient(_azurite.ConnectionString).Uri} ", error.Trim(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task QuarantineList_DataAndStorage_ExitsWithBadArguments()
    {
        var (code, output, error) = await RunAsync("quarantine", "list", "--data", "data", "--storage", _azurite.ConnectionString);

        Assert.Equal(MailPipelineCommand.BadArguments, code);
        Assert.Equal("", output);
        Assert.Contains("--data and --storage are mutually exclusive", error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task QuarantineList_UnreachableAccount_FailsWithOneLineAndNoStackTrace()
    {
        string unreachable = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{FreePort.Next()}/devstoreaccount1;";

        var (code, output, error) = await RunAsync("quarantine", "list", "--storage", unreachable);

        Assert.Equal(MailPipelineCommand.Failure, code);
        Assert.Equal("", output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("mailpipeline: cannot reach http://127.0.0.1:", line, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task QuarantineList_WrongAccountKey_FailsWithOneLine()
    {
        string wrongKey = _azurite.ConnectionString.Replace(AccountKey, Convert.ToBase64String(new byte[64]), StringComparison.Ordinal);

        var (code, _, error) = await RunAsync("trace", Ids.NextId(), "--storage", wrongKey);

        Assert.Equal(MailPipelineCommand.Failure, code);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("mailpipeline: no rights on ", line, StringComparison.Ordinal);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("myaccount", "mailpipeline: --storage must be a connection string")]
    [InlineData("http://myaccount.blob.core.windows.net", "mailpipeline: --storage: a blob service URI must be https://")]
    [InlineData("AccountName=x;AccountKey=not base64!", "mailpipeline: --storage is not a usable storage connection")]
    public async Task QuarantineList_UnusableStorage_ExitsWithBadArguments(string storage, string expected)
    {
        var (code, output, error) = await RunAsync("quarantine", "list", "--storage", storage);

        Assert.Equal(MailPipelineCommand.BadArguments, code);
        Assert.Equal("", output);
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("flag", false, "env", "flag")]
    [InlineData(null, false, "env", "env")]
    [InlineData(null, true, "env", null)]
    [InlineData(null, false, null, null)]
    [InlineData(null, false, "  ", null)]
    public void ChooseStorage_FlagDataAndEnvironment_FlagThenEnvironmentUnlessDataGiven(string? flag, bool dataGiven, string? environment, string? expected)
    {
        string? chosen = StoreSelection.ChooseStorage(flag, dataGiven, environment);

        Assert.Equal(expected, chosen);
    }

    private string ServiceUri => new BlobServiceClient(_azurite.ConnectionString).Uri.ToString().TrimEnd('/');

    private string AccountKey => _azurite.ConnectionString.Split(';').Single(part => part.StartsWith("AccountKey=", StringComparison.Ordinal))["AccountKey=".Length..];

    private async Task<string> RouteQuarantinedMessageAsync()
    {
        var storage = new PipelineBlobStorage(new BlobServiceClient(_azurite.ConnectionString), createContainers: true);
        var raw = new BlobRawMessageStore(storage);
        var results = new BlobStageResultStore(storage);
        var verdicts = new BlobVerdictStore(storage);
        var routed = new BlobRoutedMailStore(storage);
        string id = Ids.NextId();
        byte[] message = Encoding.ASCII.GetBytes(
            "From: Alice <alice@example.com>\r\nTo: bob@test.example\r\nSubject: Hello\r\nMessage-ID: <1@example.com>\r\n" +
            "Date: Mon, 30 Nov 2026 00:00:00 +0000\r\n\r\nHi Bob.\r\n");
        string reference = await raw.StoreMessageAsync(id, new MemoryStream(message));
        await raw.StoreEnvelopeAsync(new MailEnvelope
        {
            MessageId = id,
            RawMessageReference = reference,
            ClientAddress = "198.51.100.7",
            Helo = "mx.example.com",
            MailFrom = "alice@example.com",
            Recipients = ["bob@test.example"],
            Size = message.Length,
            ReceivedAt = DateTimeOffset.UtcNow,
            ReceivedBy = "mx.test.example",
        });

        var dns = new InMemoryDnsResolver()
            .AddTxt("example.com", "v=spf1 ip4:192.0.2.10 -all")
            .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject");
        var options = new MailAuthenticationOptions();
        options.AuthenticationResults.AuthServId = "mx.test.example";
        var authenticator = new MessageAuthenticator(dns, options);
        var envelope = new AuthenticationEnvelope(IPAddress.Parse("198.51.100.7"), "mx.example.com", "alice@example.com", ["bob@test.example"]);
        var report = await authenticator.AuthenticateAsync(envelope, message);
        Assert.Equal("quarantine", report.Action);
        foreach (string stage in StageNames.Checks)
        {
            await results.PutAsync(id, stage, Encoding.UTF8.GetBytes($"{{\"stage\":\"{stage}\"}}"));
        }

        byte[] document = Encoding.UTF8.GetBytes(report.ToJson());
        await verdicts.TryCreateAsync(new StoredVerdict(id, RouteAction.Quarantine, document));
        byte[] final = Encoding.ASCII.GetBytes($"Authentication-Results: {report.AuthenticationResults}\r\n").Concat(message).ToArray();
        await routed.RouteAsync(id, RouteAction.Quarantine, new MemoryStream(final), document);
        return id;
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await MailPipelineCommand.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
