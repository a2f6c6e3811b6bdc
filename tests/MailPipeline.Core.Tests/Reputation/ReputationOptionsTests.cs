using MailPipeline.Core.Reputation;

namespace MailPipeline.Core.Tests.Reputation;

public sealed class ReputationOptionsTests
{
    [Fact]
    public void Defaults_NoZoneConfigured_NothingIsQueried()
    {
        // arrange
        var options = new ReputationOptions();

        // act
        var checker = new ReputationChecker(new MailPipeline.TestSupport.InMemoryDnsResolver(), options);

        // assert
        Assert.Empty(options.Zones);
        Assert.False(checker.IsEnabled);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("127.0.0.0-127.0.0.5", "127.0.0.1")]
    [InlineData("127.255.255.252", "127.255.255")]
    [InlineData("127.0.0.0/8", "127.255.255")]
    [InlineData("10.0.0.2", "outside 127.0.0.0/8")]
    [InlineData("127.0.0.11-127.0.0.2", "not a range")]
    [InlineData("127.0.0", "not an IPv4 address")]
    public void Validate_BadCode_ReportsIt(string code, string expected)
    {
        // arrange
        var options = new ReputationOptions();
        var zone = new DnsListOptions { Zone = "bl.example" };
        zone.Codes.Add(new DnsListCodeOptions { Address = code });
        options.Zones.Add(zone);

        // act
        var error = Assert.Throws<ArgumentException>(options.EnsureValid);

        // assert
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KeyTemplateWithoutKey_IsRejected()
    {
        var options = new ReputationOptions();
        options.Zones.Add(new DnsListOptions { Zone = "{key}.zen.dq.spamhaus.net" });

        var error = Assert.Throws<ArgumentException>(options.EnsureValid);

        Assert.Contains("AccessKey is not set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KeyWithoutTemplate_IsRejected()
    {
        var options = new ReputationOptions();
        options.Zones.Add(new DnsListOptions { Zone = "zen.spamhaus.org", AccessKey = "abc" });

        var error = Assert.Throws<ArgumentException>(options.EnsureValid);

        Assert.Contains("no {key} placeholder", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bad zone.example")]
    [InlineData("bl..example")]
    [InlineData("")]
    public void Validate_BadZoneName_IsRejected(string zone)
    {
        var options = new ReputationOptions();
        options.Zones.Add(new DnsListOptions { Zone = zone });

        Assert.Throws<ArgumentException>(options.EnsureValid);
    }

    [Fact]
    public void Validate_BlockingAllowList_IsRejected()
    {
        var options = new ReputationOptions();
        options.Zones.Add(new DnsListOptions { Zone = "wl.example", Kind = DnsListKind.Allow, Blocks = true });

        var error = Assert.Throws<ArgumentException>(options.EnsureValid);

        Assert.Contains("allow list cannot block", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DuplicateZoneOrBadNumbers_AreRejected()
    {
        var options = new ReputationOptions { MaxConcurrentQueries = 0 };
        options.Zones.Add(new DnsListOptions { Zone = "bl.example" });
        options.Zones.Add(new DnsListOptions { Zone = "BL.example." });
        options.Zones.Add(new DnsListOptions { Zone = "w.example", Weight = -1 });

        var error = Assert.Throws<ArgumentException>(options.EnsureValid);

        Assert.Contains("MaxConcurrentQueries", error.Message, StringComparison.Ordinal);
        options.MaxConcurrentQueries = 4;
        error = Assert.Throws<ArgumentException>(options.EnsureValid);
        Assert.Contains("configured twice", error.Message, StringComparison.Ordinal);
        Assert.Contains("Weight", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DisplayName_KeyedZone_NeverShowsTheKey()
    {
        var zone = new DnsListOptions { Zone = "{key}.zen.dq.spamhaus.net", AccessKey = "secretkey123" };

        Assert.Equal("zen.dq.spamhaus.net", zone.DisplayName);
        Assert.Equal("My ZEN", new DnsListOptions { Zone = "{key}.zen.dq.spamhaus.net", Name = "My ZEN" }.DisplayName);
    }
}
