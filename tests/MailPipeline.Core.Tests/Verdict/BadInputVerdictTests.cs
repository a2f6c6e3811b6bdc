using System.Text;
using MailPipeline.Core.Dmarc;
using MailPipeline.Core.Verdict;
using MailPipeline.TestSupport;

namespace MailPipeline.Core.Tests.Verdict;

/// <summary>Raw hostile messages through From extraction, DMARC and the verdict: always a verdict with a reason.</summary>
public sealed class BadInputVerdictTests
{
    public static TheoryData<string, byte[], string> Messages()
    {
        var huge = new StringBuilder("From: a@good.test\r\n");
        while (huge.Length < 2 * 1024 * 1024)
        {
            huge.Append("X-Pad: ").Append('p', 500).Append("\r\n");
        }

        return new TheoryData<string, byte[], string>
        {
            { "two From fields", "From: a@good.test\r\nFrom: b@evil.test\r\n\r\nx"u8.ToArray(), "dmarc=permerror: 2 From header fields" },
            { "two domains", "From: a@good.test, b@evil.test\r\n\r\nx"u8.ToArray(), "dmarc=permerror: From has mailboxes in several domains" },
            { "no From", "Subject: x\r\n\r\nx"u8.ToArray(), "dmarc=permerror: no From header field" },
            { "NUL byte", "From: a@good.test\0\r\n\r\nx"u8.ToArray(), "dmarc=permerror: NUL byte" },
            { "2 MB header", Encoding.ASCII.GetBytes(huge.Append("\r\nbody").ToString()), "dmarc=permerror: header block of" },
            { "group only", "From: friends:;\r\n\r\nx"u8.ToArray(), "dmarc=permerror: no address in From" },
        };
    }

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(Messages))]
    public async Task Decide_HostileMessage_QuarantinesWithTheReason(string name, byte[] message, string reasonStart)
    {
        // arrange
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.good.test", "v=DMARC1; p=reject");
        var from = new FromHeaderExtractor(new DmarcOptions()).Extract(message);

        // act
        var dmarc = await new DmarcEvaluator(dns, new DmarcOptions()).EvaluateAsync(from, null, []);
        var verdict = new VerdictPolicy(new VerdictOptions()).Decide(new VerdictInput { Dmarc = dmarc });

        // assert
        Assert.Equal(VerdictAction.Quarantine, verdict.Action);
        Assert.True(verdict.Reasons[0].StartsWith(reasonStart, StringComparison.Ordinal), $"{name}: {verdict.Reasons[0]}");
    }

    [Fact(Timeout = 10_000)]
    public async Task Decide_DisplayNameTrickAgainstRejectPolicy_QuarantinesTheRealDomain()
    {
        // arrange: the visible text says good.test, the address is at evil.test (which publishes reject).
        var dns = new InMemoryDnsResolver().AddTxt("_dmarc.evil.test", "v=DMARC1; p=reject");
        var from = new FromHeaderExtractor(new DmarcOptions()).Extract("From: \"ceo@good.test\" <x@evil.test>\r\n\r\n"u8);

        // act
        var dmarc = await new DmarcEvaluator(dns, new DmarcOptions()).EvaluateAsync(from, "good.test", ["good.test"]);
        var verdict = new VerdictPolicy(new VerdictOptions()).Decide(new VerdictInput { Dmarc = dmarc });

        // assert
        Assert.Equal("evil.test", dmarc.FromDomain);
        Assert.Equal(VerdictAction.Quarantine, verdict.Action);
    }
}
