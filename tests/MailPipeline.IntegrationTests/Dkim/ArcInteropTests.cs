using System.Security.Cryptography;
using System.Text;
using MailPipeline.Core;
using MailPipeline.Core.Arc;
using MailPipeline.Core.Dns;
using MailPipeline.IntegrationTests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.IntegrationTests.Dkim;

/// <summary>ARC chains sealed hop by hop by a real sealer (dkimpy), keys in Knot, validated by <see cref="ArcChecker"/>.</summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ArcInteropTests(DnsServerFixture dns) : IAsyncLifetime
{
    private const string Origin = "origin.arc.test";
    private const string Forwarder = "lists.arc.test";

    private const string Message =
        "From: Alice <alice@origin.arc.test>\r\n" +
        "To: list@lists.arc.test\r\n" +
        "Subject: ARC interop\r\n" +
        "Date: Sun, 29 Nov 2026 10:00:00 +0000\r\n" +
        "Message-ID: <arc@origin.arc.test>\r\n" +
        "\r\n" +
        "Hello list.\r\n";

    private readonly string _work = Directory.CreateTempSubdirectory("arc-interop-").FullName;
    private string _keyFile = string.Empty;

    public async Task InitializeAsync()
    {
        using var rsa = RSA.Create(2048);
        _keyFile = Path.Combine(_work, "rsa.pem");
        await File.WriteAllTextAsync(_keyFile, rsa.ExportRSAPrivateKeyPem());
        var p = Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
        var record = $"arc._domainkey 300 IN TXT \"v=DKIM1; k=rsa; p=\" \"{p[..200]}\" \"{p[200..]}\"";
        await dns.AddZoneAsync(Origin, record);
        await dns.AddZoneAsync(Forwarder, record);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_work, recursive: true);
        return Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task Verify_TwoHopChain_PassesWithSealersAndTrust()
    {
        // arrange
        var hop1 = await SealAsync(Encoding.ASCII.GetBytes(Message), Origin, "mx.origin.arc.test", "none");
        var hop2 = await SealAsync(hop1, Forwarder, "mx.lists.arc.test", "pass");
        var options = new ArcOptions();
        options.TrustedSealers.Add(Forwarder);

        // act
        var result = await Checker(options).VerifyAsync(hop2);

        // assert
        Assert.True(result.ChainResult == AuthResult.Pass, result.Reason);
        Assert.Equal((2, 0), (result.InstanceCount, result.OldestPass));
        Assert.Equal([(1, Origin, false, "none"), (2, Forwarder, true, "pass")], result.Sets.Select(s => (s.Instance, s.SealerDomain!, s.IsTrustedSealer, s.ChainValidation!)));
        Assert.True(result.PassesFromTrustedSealer);
    }

    [Fact(Timeout = 60_000)]
    public async Task Verify_ListAddsFooterBeforeSealing_PassesWithOldestPassTwo()
    {
        // arrange: the list changes the body (footer), then seals; the origin's AMS no longer verifies
        var hop1 = await SealAsync(Encoding.ASCII.GetBytes(Message), Origin, "mx.origin.arc.test", "none");
        var footer = hop1.Concat(Encoding.ASCII.GetBytes("-- \r\nlist footer\r\n")).ToArray();
        var hop2 = await SealAsync(footer, Forwarder, "mx.lists.arc.test", "pass");

        // act
        var result = await Checker(new ArcOptions()).VerifyAsync(hop2);

        // assert
        Assert.True(result.ChainResult == AuthResult.Pass, result.Reason);
        Assert.Equal(2, result.OldestPass);
        Assert.Equal("2", Assert.Single(result.ToAuthMethodResult().Properties!).Value);
    }

    [Fact(Timeout = 60_000)]
    public async Task Verify_BodyChangedAfterLastSeal_Fails()
    {
        // arrange
        var hop1 = await SealAsync(Encoding.ASCII.GetBytes(Message), Origin, "mx.origin.arc.test", "none");
        var hop2 = await SealAsync(hop1, Forwarder, "mx.lists.arc.test", "pass");
        var tampered = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(hop2).Replace("Hello list.", "Hello LIST.", StringComparison.Ordinal));

        // act
        var result = await Checker(new ArcOptions()).VerifyAsync(tampered);

        // assert
        Assert.Equal(AuthResult.Fail, result.ChainResult);
        Assert.Contains("ARC-Message-Signature", result.Reason, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Verify_SealerRecordedFailedChain_Fails()
    {
        // arrange: the second hop found the chain broken and sealed cv=fail
        var hop1 = await SealAsync(Encoding.ASCII.GetBytes(Message), Origin, "mx.origin.arc.test", "none");
        var hop2 = await SealAsync(hop1, Forwarder, "mx.lists.arc.test", "fail");

        // act
        var result = await Checker(new ArcOptions()).VerifyAsync(hop2);

        // assert
        Assert.Equal(AuthResult.Fail, result.ChainResult);
    }

    private ArcChecker Checker(ArcOptions options) => new(new CachingDnsResolver(dns.CreateResolver(), new DnsOptions()), options);

    private async Task<byte[]> SealAsync(byte[] message, string domain, string servId, string arcResult)
    {
        var input = Path.Combine(_work, Guid.NewGuid().ToString("N") + ".eml");
        var output = input + ".sealed";
        await File.WriteAllBytesAsync(input, message);
        var (exitCode, text) = await ExternalProcess.RunAsync(
            "/usr/bin/python3",
            [Path.Combine(RepoPaths.TestData, "dkim", "arc_sign.py"), input, output, "arc", domain, _keyFile, servId, arcResult]);
        Assert.True(exitCode == 0, $"dkimpy arc_sign failed: {text} (install Debian's python3-dkim; ./test.sh does)");
        return await File.ReadAllBytesAsync(output);
    }
}
