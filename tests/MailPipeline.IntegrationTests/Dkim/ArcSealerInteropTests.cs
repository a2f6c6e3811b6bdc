using System.Security.Cryptography;
using System.Text;
using MailPipeline.Core;
using MailPipeline.Core.Arc;
using MailPipeline.Core.Dns;
using MailPipeline.IntegrationTests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.IntegrationTests.Dkim;

/// <summary>Our <see cref="ArcSealer"/> checked by a real validator (dkimpy's arc_verify) with the keys in Knot, and by our own checker.</summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ArcSealerInteropTests(DnsServerFixture dns) : IAsyncLifetime
{
    private const string Origin = "origin.seal.test";
    private const string Us = "inbound.seal.test";

    private const string Message =
        "Received: from mx.origin.seal.test by mx.inbound.seal.test; Sun, 29 Nov 2026 10:00:01 +0000\r\n" +
        "From: Alice <alice@origin.seal.test>\r\n" +
        "To: bob@inbound.seal.test,\r\n carol@inbound.seal.test\r\n" +
        "Subject:   folded\r\n   subject with  spaces \r\n" +
        "Date: Sun, 29 Nov 2026 10:00:00 +0000\r\n" +
        "Message-ID: <seal@origin.seal.test>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "\r\n" +
        "Hello  Bob. \t \r\n\r\nTrailing lines follow.\r\n\r\n\r\n";

    private const string OurResults = "Authentication-Results: mx.inbound.seal.test;\r\n\tspf=pass smtp.mailfrom=alice@origin.seal.test;\r\n\tdkim=none;\r\n\tarc=none";

    private readonly string _work = Directory.CreateTempSubdirectory("arc-seal-").FullName;
    private RSA _rsa = null!;
    private string _originKey = string.Empty;

    public async Task InitializeAsync()
    {
        _rsa = RSA.Create(2048);
        _originKey = Path.Combine(_work, "origin.pem");
        await File.WriteAllTextAsync(_originKey, _rsa.ExportRSAPrivateKeyPem());
        var p = Convert.ToBase64String(_rsa.ExportSubjectPublicKeyInfo());
        var record = $"arc._domainkey 300 IN TXT \"v=DKIM1; k=rsa; p=\" \"{p[..200]}\" \"{p[200..]}\"";
        await dns.AddZoneAsync(Origin, record);
        await dns.AddZoneAsync(Us, record);
    }

    public Task DisposeAsync()
    {
        _rsa.Dispose();
        Directory.Delete(_work, recursive: true);
        return Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task Seal_FirstInstance_DkimpyAndOurCheckerPass()
    {
        // arrange
        var message = Encoding.UTF8.GetBytes(OurResults + "\r\n" + Message);

        // act
        var sealedMessage = await SealAsync(message, AuthResult.None);

        // assert
        Assert.StartsWith("cv=pass instances=1", await DkimpyAsync(sealedMessage), StringComparison.Ordinal);
        var ours = await new ArcChecker(new CachingDnsResolver(dns.CreateResolver(), new DnsOptions()), new ArcOptions()).VerifyAsync(sealedMessage);
        Assert.True(ours.ChainResult == AuthResult.Pass, ours.Reason);
        Assert.Equal(("none", Us), (ours.Sets[0].ChainValidation, ours.Sets[0].SealerDomain));
    }

    [Fact(Timeout = 60_000)]
    public async Task Seal_ForwardedSealedMessage_KeepsChainWithOurSealOnTop()
    {
        // arrange: a forwarder (dkimpy) sealed i=1; we found the chain passing and seal i=2 on top
        var hop1 = await DkimpySealAsync(Encoding.UTF8.GetBytes(Message));
        var message = Encoding.UTF8.GetBytes(OurResults.Replace("arc=none", "arc=pass", StringComparison.Ordinal) + "\r\n").Concat(hop1).ToArray();

        // act
        var sealedMessage = await SealAsync(message, AuthResult.Pass);

        // assert
        Assert.StartsWith("cv=pass instances=2", await DkimpyAsync(sealedMessage), StringComparison.Ordinal);
        var text = Encoding.UTF8.GetString(sealedMessage);
        Assert.StartsWith("ARC-Seal: i=2; a=rsa-sha256;", text, StringComparison.Ordinal);
        Assert.Contains("cv=pass", text[..text.IndexOf("ARC-Message-Signature", StringComparison.Ordinal)], StringComparison.Ordinal);
        Assert.Contains("ARC-Authentication-Results: i=2; mx.inbound.seal.test;", text, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Seal_BrokenIncomingChain_SealsCvFailAndValidatorsFail()
    {
        // arrange: the body was changed after the forwarder sealed: the chain we received fails
        var hop1 = await DkimpySealAsync(Encoding.UTF8.GetBytes(Message));
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(hop1).Replace("Hello  Bob.", "Hello Eve.", StringComparison.Ordinal));
        var message = Encoding.UTF8.GetBytes(OurResults.Replace("arc=none", "arc=fail", StringComparison.Ordinal) + "\r\n").Concat(tampered).ToArray();

        // act
        var sealedMessage = await SealAsync(message, AuthResult.Fail);

        // assert
        Assert.Contains("cv=fail", Encoding.UTF8.GetString(sealedMessage).Split("ARC-Message-Signature")[0], StringComparison.Ordinal);
        Assert.Contains("ARC-Seal[2] reported failure", await DkimpyAsync(sealedMessage), StringComparison.Ordinal); // dkimpy: the chain is terminated
    }

    [Fact(Timeout = 60_000)]
    public async Task Seal_TempErrorChain_AddsNoSet()
    {
        // arrange
        var sealer = new ArcSealer(PemArcSigningKey.FromPem(_rsa.ExportRSAPrivateKeyPem()), Us, "arc");

        // act
        var set = await sealer.SealAsync(Encoding.UTF8.GetBytes(Message), AuthResult.TempError, OurResults);

        // assert
        Assert.Null(set);
    }

    private async Task<byte[]> SealAsync(byte[] message, AuthResult chain)
    {
        using var key = PemArcSigningKey.FromPem(_rsa.ExportPkcs8PrivateKeyPem());
        var set = await new ArcSealer(key, Us, "arc").SealAsync(message, chain, OurResults);
        Assert.NotNull(set);
        return [.. set, .. message];
    }

    private async Task<string> DkimpyAsync(byte[] message)
    {
        var file = Path.Combine(_work, Guid.NewGuid().ToString("N") + ".eml");
        await File.WriteAllBytesAsync(file, message);
        var (exitCode, text) = await ExternalProcess.RunAsync(
            "/usr/bin/python3",
            [Path.Combine(RepoPaths.TestData, "dkim", "arc_verify.py"), file, "127.0.0.1", dns.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(exitCode == 0, $"dkimpy arc_verify failed: {text} (install Debian's python3-dkim; ./test.sh does)");
        return text.Trim();
    }

    private async Task<byte[]> DkimpySealAsync(byte[] message)
    {
        var input = Path.Combine(_work, Guid.NewGuid().ToString("N") + ".eml");
        var output = input + ".sealed";
        await File.WriteAllBytesAsync(input, message);
        var (exitCode, text) = await ExternalProcess.RunAsync(
            "/usr/bin/python3",
            [Path.Combine(RepoPaths.TestData, "dkim", "arc_sign.py"), input, output, "arc", Origin, _originKey, "mx.origin.seal.test", "none"]);
        Assert.True(exitCode == 0, $"dkimpy arc_sign failed: {text}");
        return await File.ReadAllBytesAsync(output);
    }
}
