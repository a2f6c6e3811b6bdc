using MailPipeline.Core.Dkim;
using MailPipeline.TestSupport;
using YamlDotNet.RepresentationModel;

namespace MailPipeline.Core.Tests.Dkim;

/// <summary>RFC 8463 Appendix A: one message signed with ed25519-sha256 and rsa-sha256.</summary>
public sealed class Rfc8463Tests
{
    [Fact(Timeout = 30_000)]
    public async Task Verify_Rfc8463AppendixA_BothSignaturesPass()
    {
        // arrange
        var (checker, signed, expected) = Load();

        // act
        var result = await checker.VerifyAsync(signed);

        // assert
        Assert.Equal(2, result.Signatures.Count);
        for (var i = 0; i < 2; i++)
        {
            var e = (YamlMappingNode)expected[i];
            var s = result.Signatures[i];
            Assert.Equal(AuthResult.Pass, s.Result);
            Assert.Equal(e["a"].ToString(), s.Algorithm);
            Assert.Equal(e["d"].ToString(), s.Domain);
            Assert.Equal(e["s"].ToString(), s.Selector);
        }

        var ar = result.ToAuthMethodResults();
        Assert.Equal("ed25519-sha256", ar[0].Properties!.Single(p => p.Name == "a").Value);
        Assert.Equal("9/dsDChY", ar[0].Properties!.Single(p => p.Name == "b").Value);
        Assert.Equal("@football.example.com", ar[0].Properties!.Single(p => p.Name == "i").Value);
        Assert.Equal("icKcLSEZ", ar[1].Properties!.Single(p => p.Name == "b").Value);
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_Rfc8463WithLfLineEnds_StillPasses()
    {
        // arrange: the same message with bare LF line ends (how many MTAs store mail); canonicalization works on CRLF.
        var (checker, signed, _) = Load();
        var lf = System.Text.Encoding.UTF8.GetString(signed).Replace("\r\n", "\n", StringComparison.Ordinal);

        // act
        var result = await checker.VerifyAsync(System.Text.Encoding.UTF8.GetBytes(lf));

        // assert
        Assert.All(result.Signatures, s => Assert.Equal(AuthResult.Pass, s.Result));
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_Rfc8463BodyChanged_BothFailWithBodyHashMismatch()
    {
        // arrange
        var (checker, signed, _) = Load();
        var text = System.Text.Encoding.UTF8.GetString(signed).Replace("We lost the game.", "We won the game.", StringComparison.Ordinal);

        // act
        var result = await checker.VerifyAsync(System.Text.Encoding.UTF8.GetBytes(text));

        // assert
        Assert.All(result.Signatures, s => Assert.Equal((AuthResult.Fail, DkimFailureReason.BodyHashMismatch), (s.Result, s.Reason)));
    }

    [Fact(Timeout = 30_000)]
    public async Task Verify_Rfc8463SubjectChanged_BothFailWithSignatureMismatch()
    {
        // arrange
        var (checker, signed, _) = Load();
        var text = System.Text.Encoding.UTF8.GetString(signed).Replace("Subject: Is dinner ready?", "Subject: Is lunch ready?", StringComparison.Ordinal);

        // act
        var result = await checker.VerifyAsync(System.Text.Encoding.UTF8.GetBytes(text));

        // assert
        Assert.All(result.Signatures, s => Assert.Equal((AuthResult.Fail, DkimFailureReason.SignatureMismatch), (s.Result, s.Reason)));
    }

    private static (DkimChecker Checker, byte[] Signed, YamlSequenceNode Expected) Load()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(DkimTestData.PathOf("dkim", "rfc", "rfc8463-appendix-a.yml")))
        {
            yaml.Load(reader);
        }

        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var dns = new InMemoryDnsResolver();
        foreach (var (name, value) in (YamlMappingNode)root["txt_records"])
        {
            dns.AddTxt(name.ToString(), value.ToString());
        }

        var signed = DkimTestData.Crlf(root["signed_message"].ToString());
        return (new DkimChecker(dns, new DkimOptions()), signed, (YamlSequenceNode)root["expected"]);
    }
}
