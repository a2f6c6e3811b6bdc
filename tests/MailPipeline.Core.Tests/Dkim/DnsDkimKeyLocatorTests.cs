using MailPipeline.Core.Dkim;
using MailPipeline.TestSupport;

namespace MailPipeline.Core.Tests.Dkim;

public sealed class DnsDkimKeyLocatorTests
{
    [Fact(Timeout = 30_000)]
    public async Task Locate_SameRecordTwice_ReusesTheParsedKey()
    {
        // arrange: building an RSA key validates the modulus (tens of ms), so parsed keys are cached by record text
        var dns = new InMemoryDnsResolver().AddTxt("sel._domainkey.example.com", TestSigner.KeyRecord(TestSigner.RsaKey));
        var locator = new DnsDkimKeyLocator(dns);

        // act
        var first = await locator.LocateAsync("example.com", "sel");
        var second = await locator.LocateAsync("EXAMPLE.com", "sel");

        // assert
        Assert.Equal(DkimKeyStatus.Found, first.Status);
        Assert.Same(first.Key, second.Key);
        Assert.Equal(2, dns.QueryCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Locate_SeveralRecords_TakesTheFirstUsableOne()
    {
        // arrange
        var dns = new InMemoryDnsResolver()
            .AddTxt("sel._domainkey.example.com", "not a key")
            .AddTxt("sel._domainkey.example.com", TestSigner.KeyRecord(TestSigner.RsaKey));
        var locator = new DnsDkimKeyLocator(dns);

        // act
        var result = await locator.LocateAsync("example.com", "sel");

        // assert
        Assert.Equal((DkimKeyStatus.Found, 2048), (result.Status, result.Key!.Bits));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("sel", "exa mple.com")]
    [InlineData("sel", "")]
    [InlineData("a;b", "example.com")]
    public async Task Locate_InvalidName_IsMalformedWithoutQuery(string selector, string domain)
    {
        // arrange
        var dns = new InMemoryDnsResolver();
        var locator = new DnsDkimKeyLocator(dns);

        // act
        var result = await locator.LocateAsync(domain, selector);

        // assert
        Assert.Equal(DkimKeyStatus.Malformed, result.Status);
        Assert.Equal(0, dns.QueryCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task Locate_UnicodeDomain_QueriesTheALabel()
    {
        // arrange: RFC 8616 allows U-labels in d=
        var dns = new InMemoryDnsResolver().AddTxt("sel._domainkey.xn--bcher-kva.example", TestSigner.KeyRecord(TestSigner.RsaKey));

        // act
        var result = await new DnsDkimKeyLocator(dns).LocateAsync("bücher.example", "sel");

        // assert
        Assert.Equal(DkimKeyStatus.Found, result.Status);
    }

    [Fact(Timeout = 30_000)]
    public async Task Locate_NoData_IsNotFound()
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddEmptyName("sel._domainkey.example.com");

        // act
        var result = await new DnsDkimKeyLocator(dns).LocateAsync("example.com", "sel");

        // assert
        Assert.Equal(DkimKeyStatus.NotFound, result.Status);
    }

    [Fact]
    public void Parse_Pkcs1RsaKey_IsAccepted()
    {
        // arrange: some signers publish a bare RSAPublicKey instead of a SubjectPublicKeyInfo
        var rsa = (Org.BouncyCastle.Crypto.Parameters.RsaKeyParameters)TestSigner.RsaKey.Public;
        var pkcs1 = new Org.BouncyCastle.Asn1.X509.RsaPublicKeyStructure(rsa.Modulus, rsa.Exponent).GetEncoded();

        // act
        var result = DkimPublicKey.Parse($"k=rsa; p={Convert.ToBase64String(pkcs1)}");

        // assert
        Assert.Equal((DkimKeyStatus.Found, 2048), (result.Status, result.Key!.Bits));
    }

    [Fact]
    public void Parse_TestingAndStrictFlags_AreExposed()
    {
        // act
        var result = DkimPublicKey.Parse($"{TestSigner.KeyRecord(TestSigner.RsaKey)}; t=y:s; h=sha256; s=email");

        // assert
        Assert.True(result.Key!.IsTesting);
        Assert.True(result.Key.RequiresExactIdentityDomain);
        Assert.Equal(["sha256"], result.Key.AllowedHashes!);
    }

    [Fact]
    public void Parse_Ed25519KeyThatIsNoCurvePoint_IsMalformedNotAnException()
    {
        // arrange: 32 bytes that decode to no Ed25519 point (found by bench/fuzz.sh, target dns-answers; the input is
        // tests/MailPipeline.Fuzz/regressions/dns-answers/ed25519-key-not-a-curve-point)
        const string record = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7YcvPapiMlrwIaaPcHURo=";

        // act
        var result = DkimPublicKey.Parse(record);

        // assert
        Assert.Equal(DkimKeyStatus.Malformed, result.Status);
        Assert.Contains("ed25519", result.Error, StringComparison.Ordinal);
    }
}
