using MailPipeline.Core.Dmarc;
using MailPipeline.Core.Dmarc.Reporting;
using MailPipeline.Core.Dns;
using MailPipeline.TestSupport;

namespace MailPipeline.Core.Tests.Dmarc.Reporting;

/// <summary>RFC 9990 §4: reports leave the policy domain's organization only for destinations that authorize them.</summary>
public sealed class DmarcReportDestinationVerifierTests
{
    private static InMemoryDnsResolver World() => new InMemoryDnsResolver()
        .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject; rua=mailto:dmarc@example.com,mailto:agg@reports.vendor.test")
        .AddTxt("_dmarc.vendor.test", "v=DMARC1; p=none");

    [Fact]
    public async Task Verify_DestinationInTheSameOrganization_AllowedWithoutAuthorizationRecord()
    {
        var dns = World();
        var destination = await new DmarcReportDestinationVerifier(dns, new DmarcOptions()).VerifyAsync("news.example.com", "mailto:dmarc@mail.example.com!10m");

        Assert.Equal(DmarcDestinationStatus.Allowed, destination.Status);
        Assert.Equal("dmarc@mail.example.com", destination.Address);
    }

    [Fact]
    public async Task Verify_OtherOrganizationWithoutItsRecord_Refused()
    {
        var destination = await new DmarcReportDestinationVerifier(World(), new DmarcOptions()).VerifyAsync("example.com", "mailto:agg@reports.vendor.test");

        Assert.Equal(DmarcDestinationStatus.Refused, destination.Status);
        Assert.Contains("example.com._report._dmarc.reports.vendor.test", destination.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_OtherOrganizationWithItsRecord_Allowed()
    {
        var dns = World().AddTxt("example.com._report._dmarc.reports.vendor.test", "v=DMARC1;");

        var destination = await new DmarcReportDestinationVerifier(dns, new DmarcOptions()).VerifyAsync("example.com", "mailto:agg@reports.vendor.test");

        Assert.Equal(DmarcDestinationStatus.Allowed, destination.Status);
        Assert.Equal("agg@reports.vendor.test", destination.Address);
    }

    [Fact]
    public async Task Verify_RecordThatIsNotDmarc_Refused()
    {
        var dns = World().AddTxt("example.com._report._dmarc.reports.vendor.test", "v=spf1 -all");

        var destination = await new DmarcReportDestinationVerifier(dns, new DmarcOptions()).VerifyAsync("example.com", "mailto:agg@reports.vendor.test");

        Assert.Equal(DmarcDestinationStatus.Refused, destination.Status);
    }

    [Fact]
    public async Task Verify_OverrideAtTheSameHost_ReplacesTheAddress_OverrideElsewhere_RefusesBoth()
    {
        var same = World().AddTxt("example.com._report._dmarc.reports.vendor.test", "v=DMARC1; rua=mailto:customer-42@reports.vendor.test");
        var elsewhere = World().AddTxt("example.com._report._dmarc.reports.vendor.test", "v=DMARC1; rua=mailto:victim@other.test");

        var replaced = await new DmarcReportDestinationVerifier(same, new DmarcOptions()).VerifyAsync("example.com", "mailto:agg@reports.vendor.test");
        var refused = await new DmarcReportDestinationVerifier(elsewhere, new DmarcOptions()).VerifyAsync("example.com", "mailto:agg@reports.vendor.test");

        Assert.Equal((DmarcDestinationStatus.Allowed, "customer-42@reports.vendor.test"), (replaced.Status, replaced.Address));
        Assert.Equal(DmarcDestinationStatus.Refused, refused.Status);
        Assert.Contains("no report to either", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_AuthorizationLookupFails_TemporaryFailureToRetry()
    {
        var dns = World().Fail("example.com._report._dmarc.reports.vendor.test", DnsStatus.ServerFailure);

        var destination = await new DmarcReportDestinationVerifier(dns, new DmarcOptions()).VerifyAsync("example.com", "mailto:agg@reports.vendor.test");

        Assert.Equal(DmarcDestinationStatus.TemporaryFailure, destination.Status);
    }

    [Theory]
    [InlineData("https://reports.example.com/dmarc")]
    [InlineData("mailto:no-at-sign")]
    [InlineData("mailto:a@b.test,c@d.test")]
    [InlineData("mailto:a@")]
    public async Task Verify_UnusableUri_RefusedWithTheReason(string rua)
    {
        var destination = await new DmarcReportDestinationVerifier(World(), new DmarcOptions()).VerifyAsync("example.com", rua);

        Assert.Equal(DmarcDestinationStatus.Refused, destination.Status);
        Assert.Contains("not a mailto: URI", destination.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_AuthorizationNameBeyondDnsLimits_Refused()
    {
        string longPolicyDomain = string.Join(".", Enumerable.Repeat(new string('a', 60), 3)) + ".example.com";
        var dns = World().AddTxt("_dmarc." + longPolicyDomain, "v=DMARC1; p=none");

        var destination = await new DmarcReportDestinationVerifier(dns, new DmarcOptions()).VerifyAsync(longPolicyDomain, "mailto:agg@" + string.Join(".", Enumerable.Repeat(new string('b', 50), 2)) + ".vendor.test");

        Assert.Equal(DmarcDestinationStatus.Refused, destination.Status);
        Assert.Contains("exceeds DNS limits", destination.Reason, StringComparison.Ordinal);
    }
}
