using System.Text;
using MailPipeline.Core.Dkim;
using MailPipeline.Core.Dns;
using MailPipeline.TestSupport;
using MimeKit.Cryptography;

namespace MailPipeline.Core.Tests.Dkim;

public sealed class DkimCheckerTests
{
    private const string KeyName = "sel._domainkey.example.com";

    [Fact(Timeout = 30_000)]
    public async Task Verify_UnsignedMessage_ReturnsDkimNone()
    {
        // arrange
        var checker = new DkimChecker(new InMemoryDnsResolver(), new DkimOptions());

        // act
        var result = await checker.VerifyAsync(Encoding.ASCII.GetBytes(TestSigner.Message));

        // assert
        Assert.Empty(result.Signatures);
        Assert.Equal(AuthResult.None, Assert.Single(result.ToAuthMethodResults()).Result);
    }

    [Theory(Timeout = 30_000)]
    [InlineData(DkimCanonicalizationAlgorithm.Relaxed)]
    [InlineData(DkimCanonicalizationAlgorithm.Simple)]
    public async Task Verify_Rsa2048Signature_PassesWithAuthResultsProperties(DkimCanonicalizationAlgorithm canonicalization)
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddTxt(KeyName, TestSigner.KeyRecord(TestSigner.RsaKey));
        var signed = TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey, canonicalization: canonicalization);
        var checker = new DkimChecker(dns, new DkimOptions());

        // act
        var result = await checker.VerifyAsync(signed);

        // assert
        var signature = Assert.Single(result.Signatures);
        Assert.Equal((AuthResult.Pass, DkimFailureReason.None), (signature.Result, signature.Reason));
        Assert.Equal(2048, signature.KeyBits);
        Assert.False(signature.CoversPartialBody);
        var ar = signature.ToAuthMethodResult();
        Assert.Equal("dkim", ar.Method);
        Assert.Equal(["d", "i", "s", "a", "b"], ar.Properties!.Select(p => p.Name));
        Assert.Equal(["example.com", "@example.com", "sel", "rsa-sha256"], ar.Properties!.Take(4).Select(p => p.Value));
        Assert.Equal(8, ar.Properties![4].Value.Length);
        Assert.Equal(["example.com"], result.PassingDomains);
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_Ed25519Signature_Passes()
    {
        // arrange
        var key = TestSigner.Ed25519Key();
        var dns = new InMemoryDnsResolver().AddTxt(KeyName, TestSigner.KeyRecord(key));
        var checker = new DkimChecker(dns, new DkimOptions());

        // act
        var result = await checker.VerifyAsync(TestSigner.Sign(TestSigner.Message, key));

        // assert
        var signature = Assert.Single(result.Signatures);
        Assert.Equal((AuthResult.Pass, "ed25519-sha256"), (signature.Result, signature.Algorithm));
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_RsaSha1Signature_ReturnsPolicyAlgorithmNotAllowed()
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddTxt(KeyName, TestSigner.KeyRecord(TestSigner.RsaKey));
        var signed = TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey, algorithm: DkimSignatureAlgorithm.RsaSha1);
        var checker = new DkimChecker(dns, new DkimOptions());

        // act
        var signature = Assert.Single((await checker.VerifyAsync(signed)).Signatures);

        // assert
        Assert.Equal((AuthResult.Policy, DkimFailureReason.AlgorithmNotAllowed), (signature.Result, signature.Reason));
        Assert.Equal(0, dns.QueryCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_Rsa512Key_ReturnsPolicyKeyTooSmall()
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddTxt(KeyName, TestSigner.KeyRecord(TestSigner.SmallRsaKey));
        var signed = TestSigner.Sign(TestSigner.Message, TestSigner.SmallRsaKey);
        var checker = new DkimChecker(dns, new DkimOptions());

        // act
        var signature = Assert.Single((await checker.VerifyAsync(signed)).Signatures);

        // assert
        Assert.Equal((AuthResult.Policy, DkimFailureReason.KeyTooSmall, 512), (signature.Result, signature.Reason, signature.KeyBits));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(DnsStatus.Timeout, AuthResult.TempError, DkimFailureReason.KeyUnavailable)]
    [InlineData(DnsStatus.ServerFailure, AuthResult.TempError, DkimFailureReason.KeyUnavailable)]
    [InlineData(DnsStatus.NameError, AuthResult.PermError, DkimFailureReason.KeyNotFound)]
    public async Task Verify_KeyLookupFails_MapsDnsStatus(DnsStatus status, AuthResult expected, DkimFailureReason reason)
    {
        // arrange
        var dns = new InMemoryDnsResolver();
        if (status != DnsStatus.NameError)
        {
            dns.Fail(KeyName, status);
        }

        var checker = new DkimChecker(dns, new DkimOptions());

        // act
        var signature = Assert.Single((await checker.VerifyAsync(TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey))).Signatures);

        // assert
        Assert.Equal((expected, reason), (signature.Result, signature.Reason));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("v=DKIM1; k=rsa; p=", DkimFailureReason.KeyRevoked)]
    [InlineData("v=DKIM1; k=rsa; p=!!!not*base64!!!", DkimFailureReason.KeyMalformed)]
    [InlineData("v=DKIM1; k=rsa; p=AAAAAAAAAAAAAAAAAAAAAAAAAAAA", DkimFailureReason.KeyMalformed)]
    [InlineData("", DkimFailureReason.KeyMalformed)]
    [InlineData("v=spf1 -all", DkimFailureReason.KeyMalformed)]
    [InlineData("k=rsa; v=DKIM1; p=AAAA", DkimFailureReason.KeyMalformed)]
    public async Task Verify_BadKeyRecord_ReturnsPermError(string record, DkimFailureReason reason)
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddTxt(KeyName, record);
        var checker = new DkimChecker(dns, new DkimOptions());

        // act
        var signature = Assert.Single((await checker.VerifyAsync(TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey))).Signatures);

        // assert
        Assert.Equal((AuthResult.PermError, reason), (signature.Result, signature.Reason));
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_KeyTypeDoesNotMatchAlgorithm_ReturnsKeyTypeMismatch()
    {
        // arrange: an rsa-sha256 signature, but the selector publishes an ed25519 key
        var dns = new InMemoryDnsResolver().AddTxt(KeyName, TestSigner.KeyRecord(TestSigner.Ed25519Key()));
        var checker = new DkimChecker(dns, new DkimOptions());

        // act
        var signature = Assert.Single((await checker.VerifyAsync(TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey))).Signatures);

        // assert
        Assert.Equal((AuthResult.PermError, DkimFailureReason.KeyTypeMismatch), (signature.Result, signature.Reason));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("v=1; a=rsa-sha256; d=example.com; s=sel; h=from:subject; bh=AAAA; b=AAAA; x=1000000000", DkimFailureReason.SignatureExpired)]
    [InlineData("v=1; a=rsa-sha256; d=example.com; s=sel; h=to:subject; bh=AAAA; b=AAAA", DkimFailureReason.FromNotSigned)]
    [InlineData("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=%%%%garbage%%%%", DkimFailureReason.MalformedSignature)]
    [InlineData("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=QUJD", DkimFailureReason.BodyHashMismatch)]
    [InlineData("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA", DkimFailureReason.MalformedSignature)]
    [InlineData("v=1; a=rsa-sha256; d=example.com; d=example.org; s=sel; h=from; bh=AAAA; b=AAAA", DkimFailureReason.MalformedSignature)]
    [InlineData("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA; i=user@example.org", DkimFailureReason.IdentityDomainMismatch)]
    [InlineData("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA; l=-5", DkimFailureReason.MalformedSignature)]
    [InlineData("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA; t=yesterday", DkimFailureReason.MalformedSignature)]
    [InlineData("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA; x=1000; t=2000", DkimFailureReason.MalformedSignature)]
    [InlineData("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA; c=fancy/simple", DkimFailureReason.UnsupportedCanonicalization)]
    [InlineData("v=1; a=rsa-sha512; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA", DkimFailureReason.UnsupportedAlgorithm)]
    [InlineData("v=2; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA", DkimFailureReason.UnsupportedVersion)]
    [InlineData("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA; q=dns/xyz", DkimFailureReason.UnsupportedQueryMethod)]
    [InlineData("v=1; a=rsa-sha256; d=exa mple..com; s=sel; h=from; bh=AAAA; b=AAAA", DkimFailureReason.KeyMalformed)]
    [InlineData("garbage", DkimFailureReason.MalformedSignature)]
    [InlineData(";;;", DkimFailureReason.MalformedSignature)]
    [InlineData("=", DkimFailureReason.MalformedSignature)]
    [InlineData("v=1; 9a=x", DkimFailureReason.MalformedSignature)]
    public async Task Verify_HandWrittenSignature_ReturnsPreciseReason(string signature, DkimFailureReason reason)
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddTxt(KeyName, TestSigner.KeyRecord(TestSigner.RsaKey));
        var checker = new DkimChecker(dns, new DkimOptions());
        var message = $"DKIM-Signature: {signature}\r\n{TestSigner.Message}";

        // act
        var result = Assert.Single((await checker.VerifyAsync(Encoding.ASCII.GetBytes(message))).Signatures);

        // assert
        Assert.Equal(reason, result.Reason);
        Assert.NotEqual(AuthResult.Pass, result.Result);
        Assert.NotNull(result.Detail);
        Assert.NotNull(result.ToAuthMethodResult().Reason);
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_FiftySignatures_VerifiesTheCapAndReportsTheRestNeutral()
    {
        // arrange: 50 signatures, each with its own selector, so 50 different keys would be needed
        var dns = new InMemoryDnsResolver();
        var builder = new StringBuilder();
        for (var i = 0; i < 50; i++)
        {
            builder.Append($"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s{i}; h=from; bh=AAAA; b=AAAA\r\n");
        }

        var checker = new DkimChecker(dns, new DkimOptions { MaxSignatures = 10 });

        // act
        var result = await checker.VerifyAsync(Encoding.ASCII.GetBytes(builder + TestSigner.Message));

        // assert
        Assert.Equal(50, result.Signatures.Count);
        Assert.All(result.Signatures.Take(10), s => Assert.Equal(DkimFailureReason.KeyNotFound, s.Reason));
        Assert.All(result.Signatures.Skip(10), s => Assert.Equal((AuthResult.Neutral, DkimFailureReason.SignatureLimit), (s.Result, s.Reason)));
        Assert.Equal(10, dns.QueryCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_HundredKilobyteHeaders_ReturnsResults()
    {
        // arrange: a 100 KB folded header field and a 100 KB DKIM-Signature
        var dns = new InMemoryDnsResolver().AddTxt(KeyName, TestSigner.KeyRecord(TestSigner.RsaKey));
        var longHeader = "X-Long: " + string.Join("\r\n ", Enumerable.Repeat(new string('x', 70), 1500)) + "\r\n";
        var longSignature = "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=" + string.Join("\r\n ", Enumerable.Repeat(new string('A', 68), 1500)) + "\r\n";
        var signed = Encoding.ASCII.GetString(TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey));
        var checker = new DkimChecker(dns, new DkimOptions());

        // act
        var result = await checker.VerifyAsync(Encoding.ASCII.GetBytes(longSignature + longHeader + signed));

        // assert
        Assert.Equal(2, result.Signatures.Count);
        Assert.Equal(AuthResult.Fail, result.Signatures[0].Result);
        Assert.Equal(AuthResult.Pass, result.Signatures[1].Result);
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_BinaryGarbage_ReturnsResultWithoutThrowing()
    {
        // arrange
        var random = new Random(4);
        var garbage = new byte[64 * 1024];
        random.NextBytes(garbage);
        var withSignature = Encoding.ASCII.GetBytes("DKIM-Signature: v=1; a=rsa-sha256; d=\u0001\u0002; s=\r\n").Concat(garbage).ToArray();
        var checker = new DkimChecker(new InMemoryDnsResolver(), new DkimOptions());

        // act
        var plain = await checker.VerifyAsync(garbage);
        var signed = await checker.VerifyAsync(withSignature);

        // assert
        Assert.All(plain.Signatures.Concat(signed.Signatures), s => Assert.NotEqual(AuthResult.Pass, s.Result));
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_KeyLookupHangsPastTimeout_ReturnsTempError()
    {
        // arrange
        var checker = new DkimChecker(new HangingResolver(), new DkimOptions { Timeout = TimeSpan.FromMilliseconds(200) });

        // act
        var signature = Assert.Single((await checker.VerifyAsync(TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey))).Signatures);

        // assert
        Assert.Equal((AuthResult.TempError, DkimFailureReason.Timeout), (signature.Result, signature.Reason));
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_CallerCancels_Throws()
    {
        // arrange
        var checker = new DkimChecker(new HangingResolver(), new DkimOptions());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        // act + assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => checker.VerifyAsync(TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey), cancellation.Token));
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_TwoSignaturesSameKey_LooksTheKeyUpOnce()
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddTxt(KeyName, TestSigner.KeyRecord(TestSigner.RsaKey));
        var once = Encoding.ASCII.GetString(TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey));
        var twice = TestSigner.Sign(once, TestSigner.RsaKey, canonicalization: MimeKit.Cryptography.DkimCanonicalizationAlgorithm.Simple);
        var checker = new DkimChecker(dns, new DkimOptions());

        // act
        var result = await checker.VerifyAsync(twice);

        // assert
        Assert.Equal([AuthResult.Pass, AuthResult.Pass], result.Signatures.Select(s => s.Result));
        Assert.Equal(1, dns.QueryCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_Stream_SameAsBytes()
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddTxt(KeyName, TestSigner.KeyRecord(TestSigner.RsaKey));
        var checker = new DkimChecker(dns, new DkimOptions());
        using var stream = new MemoryStream(TestSigner.Sign(TestSigner.Message, TestSigner.RsaKey));

        // act
        var result = await checker.VerifyAsync(stream);

        // assert
        Assert.Equal(AuthResult.Pass, Assert.Single(result.Signatures).Result);
    }

    private sealed class HangingResolver : IDnsResolver
    {
        public async Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}
