using System.Security.Cryptography;
using System.Text;
using MailPipeline.Core;
using MailPipeline.Core.Dkim;
using MailPipeline.Core.Dns;
using MailPipeline.IntegrationTests.Infrastructure;
using MailPipeline.TestSupport;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace MailPipeline.IntegrationTests.Dkim;

/// <summary>
/// Messages signed by a real signer (Debian's dkimpy), keys published in a real DNS server (Knot),
/// verified by <see cref="DkimChecker"/> through the shared DNS layer.
/// </summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DkimpyInteropTests(DnsServerFixture dns) : IAsyncLifetime
{
    private const string Zone = "interop.dkim.test";

    /// <summary>Exact bytes with traps for canonicalization: folded and oddly spaced headers, trailing
    /// whitespace, 8-bit UTF-8, a multipart body with transport padding after a boundary, no final CRLF.</summary>
    private const string TrickyMessage =
        "From: \"Ölaf Ünder\" <olaf@interop.dkim.test>\r\n" +
        "To: list@example.net,\r\n\t  other@example.net  \r\n" +
        "Subject:   Spaces \t and\ttabs   \r\n" +
        "X-Tab:\tvalue\r\n" +
        "X-Empty:\r\n" +
        "Date: Sun, 29 Nov 2026 10:00:00 +0000\r\n" +
        "Message-ID: <tricky@interop.dkim.test>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: multipart/mixed;\r\n boundary=\"b1\"\r\n" +
        "\r\n" +
        "preamble  \r\n" +
        "--b1   \r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "\r\n" +
        "Grüße,  trailing space   \r\n" +
        "\t\r\n" +
        "\r\n" +
        "--b1--\r\n" +
        "epilogue without final line end";

    private static readonly string PlainMessage =
        "From: Alice <alice@interop.dkim.test>\r\n" +
        "To: Bob <bob@example.net>\r\n" +
        "Subject: Interop\r\n" +
        "Date: Sun, 29 Nov 2026 10:00:00 +0000\r\n" +
        "Message-ID: <interop@interop.dkim.test>\r\n" +
        "\r\n" +
        "Hello Bob,\r\n\r\nsigned by dkimpy.\r\n\r\n\r\n";

    private readonly string _work = Directory.CreateTempSubdirectory("dkim-interop-").FullName;
    private string _rsaKeyFile = string.Empty;
    private string _edKeyFile = string.Empty;

    public async Task InitializeAsync()
    {
        using var rsa = RSA.Create(2048);
        _rsaKeyFile = Path.Combine(_work, "rsa.pem");
        await File.WriteAllTextAsync(_rsaKeyFile, rsa.ExportRSAPrivateKeyPem());
        using var other = RSA.Create(2048);

        var seed = new Ed25519PrivateKeyParameters(new SecureRandom());
        _edKeyFile = Path.Combine(_work, "ed25519.key");
        await File.WriteAllTextAsync(_edKeyFile, Convert.ToBase64String(seed.GetEncoded()));

        var zone = new StringBuilder();
        zone.AppendLine(Txt("rsa._domainkey", $"v=DKIM1; k=rsa; p={Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo())}"));
        zone.AppendLine(Txt("ed._domainkey", $"v=DKIM1; k=ed25519; p={Convert.ToBase64String(seed.GeneratePublicKey().GetEncoded())}"));
        zone.AppendLine(Txt("rotated._domainkey", $"v=DKIM1; k=rsa; p={Convert.ToBase64String(other.ExportSubjectPublicKeyInfo())}"));
        zone.AppendLine(Txt("revoked._domainkey", "v=DKIM1; k=rsa; p="));
        await dns.AddZoneAsync(Zone, zone.ToString());
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_work, recursive: true);
        return Task.CompletedTask;
    }

    [Theory(Timeout = 60_000)]
    [InlineData("rsa", "relaxed", "relaxed", "rsa-sha256", false)]
    [InlineData("rsa", "simple", "simple", "rsa-sha256", false)]
    [InlineData("rsa", "relaxed", "simple", "rsa-sha256", true)]
    [InlineData("ed", "relaxed", "relaxed", "ed25519-sha256", false)]
    [InlineData("ed", "simple", "simple", "ed25519-sha256", true)]
    public async Task Verify_DkimpySigned_Passes(string selector, string headerCanon, string bodyCanon, string algorithm, bool length)
    {
        foreach (var message in new[] { PlainMessage, TrickyMessage })
        {
            // arrange
            var signed = await SignAsync(Encoding.UTF8.GetBytes(message), selector, headerCanon, bodyCanon, algorithm, length);

            // act
            var result = await Checker().VerifyAsync(signed);

            // assert
            var signature = Assert.Single(result.Signatures);
            Assert.True(signature.Result == AuthResult.Pass, $"{selector} {headerCanon}/{bodyCanon}: {signature.Reason} {signature.Detail}");
            Assert.Equal((Zone, selector, algorithm), (signature.Domain, signature.Selector, signature.Algorithm));
            Assert.Equal(length, signature.BodyLengthLimit is not null);
            Assert.False(signature.CoversPartialBody);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Verify_TwoDkimpySignatures_BothPass()
    {
        // arrange
        var once = await SignAsync(Encoding.UTF8.GetBytes(TrickyMessage), "rsa", "relaxed", "relaxed", "rsa-sha256", false);
        var twice = await SignAsync(once, "ed", "simple", "simple", "ed25519-sha256", false);

        // act
        var result = await Checker().VerifyAsync(twice);

        // assert
        Assert.Equal([("ed", AuthResult.Pass), ("rsa", AuthResult.Pass)], result.Signatures.Select(s => (s.Selector!, s.Result)));
    }

    [Fact(Timeout = 60_000)]
    public async Task Verify_TextAppendedAfterLengthLimitedSignature_PassesButFlagsPartialBody()
    {
        // arrange: l= lets a forwarder (or an attacker) append content without breaking the signature
        var signed = await SignAsync(Encoding.UTF8.GetBytes(PlainMessage), "rsa", "relaxed", "relaxed", "rsa-sha256", true);
        var appended = signed.Concat(Encoding.ASCII.GetBytes("-- \r\nAppended by a list footer\r\n")).ToArray();

        // act
        var signature = Assert.Single((await Checker().VerifyAsync(appended)).Signatures);

        // assert
        Assert.Equal(AuthResult.Pass, signature.Result);
        Assert.True(signature.CoversPartialBody);
        Assert.Contains("covers part of the body", signature.ToAuthMethodResult().Comment, StringComparison.Ordinal);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("relaxed", "relaxed")]
    [InlineData("simple", "simple")]
    public async Task Verify_AlteredAfterSigning_FailsWithTheRightReason(string headerCanon, string bodyCanon)
    {
        // arrange
        var signed = await SignAsync(Encoding.UTF8.GetBytes(PlainMessage), "rsa", headerCanon, bodyCanon, "rsa-sha256", false);
        var text = Encoding.UTF8.GetString(signed);
        var bodyByte = Encoding.UTF8.GetBytes(text.Replace("signed by dkimpy", "signed by dkimpY", StringComparison.Ordinal));
        var header = Encoding.UTF8.GetBytes(text.Replace("Subject: Interop", "Subject: Interop!", StringComparison.Ordinal));
        var wrongKey = Encoding.UTF8.GetBytes(text.Replace("s=rsa;", "s=rotated;", StringComparison.Ordinal));
        var revoked = Encoding.UTF8.GetBytes(text.Replace("s=rsa;", "s=revoked;", StringComparison.Ordinal));
        var checker = Checker();

        // act
        var results = new[]
        {
            Assert.Single((await checker.VerifyAsync(bodyByte)).Signatures),
            Assert.Single((await checker.VerifyAsync(header)).Signatures),
            Assert.Single((await checker.VerifyAsync(wrongKey)).Signatures),
            Assert.Single((await checker.VerifyAsync(revoked)).Signatures),
        };

        // assert
        Assert.Equal(
            [
                (AuthResult.Fail, DkimFailureReason.BodyHashMismatch),
                (AuthResult.Fail, DkimFailureReason.SignatureMismatch),
                (AuthResult.Fail, DkimFailureReason.SignatureMismatch),
                (AuthResult.PermError, DkimFailureReason.KeyRevoked),
            ],
            results.Select(r => (r.Result, r.Reason)));
    }

    [Fact(Timeout = 60_000)]
    public async Task Verify_RelaxedBodyWhitespaceChangedInTransit_StillPasses()
    {
        // arrange: relaxed body canonicalization tolerates trailing whitespace and re-spacing
        var signed = await SignAsync(Encoding.UTF8.GetBytes(PlainMessage), "rsa", "relaxed", "relaxed", "rsa-sha256", false);
        var respaced = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(signed).Replace("signed by dkimpy.", "signed  by\tdkimpy.   ", StringComparison.Ordinal));

        // act
        var signature = Assert.Single((await Checker().VerifyAsync(respaced)).Signatures);

        // assert
        Assert.Equal(AuthResult.Pass, signature.Result);
    }

    [Fact(Timeout = 60_000)]
    public async Task Verify_SimpleBodyWhitespaceChangedInTransit_FailsBodyHash()
    {
        // arrange: simple canonicalization is byte-exact; one trailing space breaks it
        var signed = await SignAsync(Encoding.UTF8.GetBytes(PlainMessage), "rsa", "simple", "simple", "rsa-sha256", false);
        var respaced = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(signed).Replace("signed by dkimpy.", "signed by dkimpy. ", StringComparison.Ordinal));

        // act
        var signature = Assert.Single((await Checker().VerifyAsync(respaced)).Signatures);

        // assert
        Assert.Equal((AuthResult.Fail, DkimFailureReason.BodyHashMismatch), (signature.Result, signature.Reason));
    }

    [Fact(Timeout = 60_000)]
    public async Task Verify_MessageMimeKitWouldReserialiseDifferently_PassesOnReceivedBytes()
    {
        // arrange: MimeKit's own DkimVerifier hashes the body re-serialised from its MIME tree; this message's
        // transport padding after the boundary and missing final line end do not survive that round trip.
        var signed = await SignAsync(Encoding.UTF8.GetBytes(TrickyMessage), "rsa", "simple", "simple", "rsa-sha256", false);
        var parsed = MimeKit.MimeMessage.Load(new MemoryStream(signed));
        var keys = new DnsDkimKeyLocator(dns.CreateResolver());
        var mimeKit = new MimeKit.Cryptography.DkimVerifier(new MimeKitLocator(keys));

        // act
        var ours = Assert.Single((await Checker().VerifyAsync(signed)).Signatures);
        var theirs = await mimeKit.VerifyAsync(parsed, parsed.Headers.First(h => h.Id == MimeKit.HeaderId.DkimSignature));

        // assert
        Assert.Equal(AuthResult.Pass, ours.Result);
        Assert.False(theirs, "MimeKit's re-serialising verifier unexpectedly passed: this test no longer shows the difference");
    }

    private sealed class MimeKitLocator(DnsDkimKeyLocator keys) : MimeKit.Cryptography.IDkimPublicKeyLocator
    {
        public Org.BouncyCastle.Crypto.AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public async Task<Org.BouncyCastle.Crypto.AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            PublicKeyFactory.CreateKey((await keys.LocateAsync(domain, selector, cancellationToken)).Key!.ExportSubjectPublicKeyInfo());
    }

    [Fact(Timeout = 60_000)]
    public async Task DkimCommand_SignedFile_PrintsOneLinePerSignatureAndArc()
    {
        // arrange
        var signed = await SignAsync(Encoding.UTF8.GetBytes(PlainMessage), "rsa", "relaxed", "relaxed", "rsa-sha256", false);
        var twice = await SignAsync(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(signed).Replace("Hello Bob", "Hello Bob!", StringComparison.Ordinal)), "ed", "relaxed", "relaxed", "ed25519-sha256", false);
        var file = Path.Combine(_work, "cli.eml");
        await File.WriteAllBytesAsync(file, twice);
        using var output = new StringWriter();
        using var error = new StringWriter();

        // act
        var exitCode = await Cli.MailPipelineCommand.RunAsync(["dkim", "--resolver", dns.EndpointText, file], output, error);

        // assert
        Assert.Equal(Cli.MailPipelineCommand.Success, exitCode);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith($"Authentication-Results: {Core.LocalHost.FullyQualifiedName};", lines[3], StringComparison.Ordinal); // then the field this host would add
        Assert.All(lines[4..], line => Assert.StartsWith("\t", line, StringComparison.Ordinal));
        Assert.Matches(@"^dkim=pass \(256-bit key\) header\.d=interop\.dkim\.test (header\.i=\S+ )?header\.s=ed header\.a=ed25519-sha256 header\.b=\S{8,10}$", lines[0]);
        Assert.Matches(@"^dkim=fail reason=""body hash did not verify"" header\.d=interop\.dkim\.test (header\.i=\S+ )?header\.s=rsa header\.a=rsa-sha256 header\.b=\S{8,10}$", lines[1]);
        Assert.Equal("arc=none", lines[2].TrimEnd());
    }

    [Fact(Timeout = 60_000)]
    public async Task DkimCommand_Json_PrintsStructuredResults()
    {
        // arrange
        var signed = await SignAsync(Encoding.UTF8.GetBytes(PlainMessage), "rsa", "relaxed", "relaxed", "rsa-sha256", true);
        var file = Path.Combine(_work, "cli-json.eml");
        await File.WriteAllBytesAsync(file, signed);
        using var output = new StringWriter();
        using var error = new StringWriter();

        // act
        var exitCode = await Cli.MailPipelineCommand.RunAsync(["dkim", "--json", "--resolver", dns.EndpointText, file], output, error);

        // assert
        Assert.Equal(0, exitCode);
        using var json = System.Text.Json.JsonDocument.Parse(output.ToString());
        var signature = Assert.Single(json.RootElement.GetProperty("dkim").EnumerateArray());
        Assert.Equal("pass", signature.GetProperty("result").GetString());
        Assert.Equal(2048, signature.GetProperty("keyBits").GetInt32());
        Assert.True(signature.GetProperty("l").GetInt64() > 0);
        Assert.Equal("none", json.RootElement.GetProperty("arc").GetProperty("result").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task DkimCommand_MissingFile_ExitsWithFailure()
    {
        // arrange
        using var output = new StringWriter();
        using var error = new StringWriter();

        // act
        var exitCode = await Cli.MailPipelineCommand.RunAsync(["dkim", "--resolver", dns.EndpointText, Path.Combine(_work, "missing.eml")], output, error);

        // assert
        Assert.Equal(Cli.MailPipelineCommand.Failure, exitCode);
        Assert.Contains("cannot read", error.ToString(), StringComparison.Ordinal);
    }

    private DkimChecker Checker() => new(new CachingDnsResolver(dns.CreateResolver(), new DnsOptions()), new DkimOptions());

    private async Task<byte[]> SignAsync(byte[] message, string selector, string headerCanon, string bodyCanon, string algorithm, bool length)
    {
        var input = Path.Combine(_work, Guid.NewGuid().ToString("N") + ".eml");
        var output = input + ".signed";
        await File.WriteAllBytesAsync(input, message);
        var keyFile = selector == "ed" ? _edKeyFile : _rsaKeyFile;
        var (exitCode, text) = await ExternalProcess.RunAsync(
            "/usr/bin/python3",
            [Path.Combine(RepoPaths.TestData, "dkim", "sign.py"), input, output, selector, Zone, keyFile, headerCanon, bodyCanon, algorithm, length ? "1" : "0"]);
        Assert.True(exitCode == 0, $"dkimpy failed: {text} (install Debian's python3-dkim; ./test.sh does)");
        return await File.ReadAllBytesAsync(output);
    }

    private static string Txt(string owner, string value)
    {
        // TXT character-strings hold at most 255 octets: split long keys into several strings.
        var chunks = Enumerable.Range(0, (value.Length + 199) / 200).Select(i => value.Substring(i * 200, Math.Min(200, value.Length - (i * 200))));
        return $"{owner} 300 IN TXT " + string.Join(" ", chunks.Select(c => $"\"{c}\""));
    }
}
