using MailPipeline.Core.Arc;
using MailPipeline.Core.Tests.Dkim;
using MailPipeline.TestSupport;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace MailPipeline.Core.Tests.Arc;

/// <summary>ValiMail's ARC validation suite (draft-ietf-dmarc-arc-protocol-18, now RFC 8617): all 171 tests.</summary>
public sealed class ArcSuiteTests
{
    private static readonly Lazy<Dictionary<string, (string Message, string Cv, Dictionary<string, string> Keys)>> Suite = new(Load);

    /// <summary>One suite test: its message (CRLF) and a resolver serving its keys.</summary>
    internal static (byte[] Message, InMemoryDnsResolver Dns) Get(string name)
    {
        var (message, _, keys) = Suite.Value[name];
        var dns = new InMemoryDnsResolver();
        foreach (var (key, value) in keys)
        {
            dns.AddTxt(key, value);
        }

        return (DkimTestData.Crlf(message), dns);
    }

    public static TheoryData<string> Tests() => new(Suite.Value.Keys.Order());

    [Fact]
    public void Suite_HasAll171Tests()
    {
        Assert.Equal(171, Suite.Value.Count);
    }

    [Theory]
    [MemberData(nameof(Tests))]
    public async Task Verify_SuiteTest_ReturnsExpectedChainResult(string name)
    {
        // arrange
        var (message, cv, keys) = Suite.Value[name];
        var dns = new InMemoryDnsResolver();
        foreach (var (key, value) in keys)
        {
            dns.AddTxt(key, value);
        }

        var checker = new ArcChecker(dns, new ArcOptions());

        // an empty expected cv (a seal that recorded cv=fail) must be a failed chain (RFC 8617 §5.2 step 2)
        var expected = cv.ToLowerInvariant() switch
        {
            "pass" => AuthResult.Pass,
            "none" => AuthResult.None,
            _ => AuthResult.Fail,
        };

        // act
        var result = await checker.VerifyAsync(DkimTestData.Crlf(message));

        // assert
        Assert.True(expected == result.ChainResult, $"{name}: expected {expected}, got {result.ChainResult} ({result.Reason})");
        if (result.ChainResult == AuthResult.Pass)
        {
            Assert.NotNull(result.OldestPass);
            Assert.Equal(result.InstanceCount, result.Sets.Count);
            Assert.All(result.Sets, s => Assert.Equal(AuthResult.Pass, s.SealResult));
        }
    }

    private static Dictionary<string, (string, string, Dictionary<string, string>)> Load()
    {
        // Three tests write the empty expected cv as a literal block holding only spaces ("cv: |" + "      "),
        // which YamlDotNet rejects; PyYAML reads it as "". Rewrite just that construct.
        var text = System.Text.RegularExpressions.Regex.Replace(
            File.ReadAllText(DkimTestData.PathOf("arc", "arc-draft-validation-tests.yml")),
            @"cv:[ ]*\|\n[ ]+\n",
            "cv: \"\"\n");
        // Four test names occur twice in one scenario (as_fields_b_*); like PyYAML, the later one wins: 171 tests.
        var deserializer = new DeserializerBuilder().Build();
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        var tests = new Dictionary<string, (string, string, Dictionary<string, string>)>();
        while (parser.Accept<DocumentStart>(out _))
        {
            var root = deserializer.Deserialize<Dictionary<string, object>>(parser);
            var keys = ((Dictionary<object, object>)root["txt-records"]).ToDictionary(p => (string)p.Key, p => (string)p.Value);
            foreach (var (name, test) in (Dictionary<object, object>)root["tests"])
            {
                var map = (Dictionary<object, object>)test;
                var cv = map.TryGetValue("cv", out var value) ? ((string?)value ?? string.Empty).Trim() : string.Empty;
                tests[(string)name] = ((string)map["message"], cv, keys);
            }
        }

        return tests;
    }
}
