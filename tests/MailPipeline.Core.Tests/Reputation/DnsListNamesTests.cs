using System.Net;
using MailPipeline.Core.Reputation;

namespace MailPipeline.Core.Tests.Reputation;

public sealed class DnsListNamesTests
{
    [Theory]
    [InlineData("192.0.2.99", "99.2.0.192")]
    [InlineData("127.0.0.2", "2.0.0.127")]
    [InlineData("::ffff:192.0.2.1", "1.2.0.192")]
    // RFC 5782 §2.4 example: 2001:db8:1:2:3:4:567:89ab.
    [InlineData("2001:db8:1:2:3:4:567:89ab", "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2")]
    [InlineData("::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0")]
    public void Reverse_Address_ReturnsRfc5782Labels(string address, string expected)
    {
        // act
        var reversed = DnsListNames.Reverse(IPAddress.Parse(address));

        // assert
        Assert.Equal(expected, reversed);
    }

    [Theory]
    [InlineData("Mail.Example.COM.", "mail.example.com")]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    [InlineData("[192.0.2.1]", null)]
    [InlineData("192.0.2.1", null)]
    [InlineData("localhost", null)]
    [InlineData("bad host.example", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void NormalizeDomain_Input_ReturnsQueryableNameOrNull(string? input, string? expected)
    {
        Assert.Equal(expected, DnsListNames.NormalizeDomain(input));
    }

    [Theory]
    [InlineData("<user@Example.com>", "Example.com")]
    [InlineData("user@example.com", "example.com")]
    [InlineData("example.com", "example.com")]
    [InlineData("<>", null)]
    [InlineData("user@", null)]
    public void DomainOf_Address_ReturnsDomainPart(string input, string? expected)
    {
        Assert.Equal(expected, DnsListNames.DomainOf(input));
    }
}
