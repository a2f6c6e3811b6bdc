namespace MailPipeline.Delivery.Tests;

public sealed class NextHopTests
{
    [Theory]
    [InlineData("smtp://relay.example.net:2525", NextHopProtocol.Smtp, "relay.example.net", 2525, false, "smtp://relay.example.net:2525")]
    [InlineData("smtp://relay.example.net", NextHopProtocol.Smtp, "relay.example.net", 25, false, "smtp://relay.example.net:25")]
    [InlineData("SMTPS://smtp.example.net", NextHopProtocol.Smtps, "smtp.example.net", 465, false, "smtps://smtp.example.net:465")]
    [InlineData("smtp://[2001:db8::1]:25", NextHopProtocol.Smtp, "2001:db8::1", 25, false, "smtp://[2001:db8::1]:25")]
    [InlineData("lmtp://dovecot.internal:24", NextHopProtocol.Lmtp, "dovecot.internal", 24, false, "lmtp://dovecot.internal:24")]
    [InlineData("mx:Example.ORG.", NextHopProtocol.Smtp, "example.org", 25, true, "mx:example.org")]
    [InlineData("mx:example.org:2525", NextHopProtocol.Smtp, "example.org", 2525, true, "mx:example.org:2525")]
    public void Parse_TcpForms_HostPortAndCanonicalText(string text, NextHopProtocol protocol, string host, int port, bool useMx, string canonical)
    {
        // act
        var hop = NextHop.Parse(text);

        // assert
        Assert.Equal((protocol, host, port, useMx, (string?)null), (hop.Protocol, hop.Host, hop.Port, hop.UseMx, hop.SocketPath));
        Assert.Equal(canonical, hop.ToString());
    }

    [Fact]
    public void Parse_LmtpSocket_PathKept()
    {
        // act
        var hop = NextHop.Parse("lmtp:/var/run/dovecot/lmtp");

        // assert
        Assert.Equal((NextHopProtocol.Lmtp, "/var/run/dovecot/lmtp", (string?)null), (hop.Protocol, hop.SocketPath, hop.Host));
        Assert.Equal("lmtp:/var/run/dovecot/lmtp", hop.ToString());
    }

    [Theory]
    [InlineData("relay.example.net:25", "is not a next hop")]
    [InlineData("lmtp://dovecot.internal", "a port is required")]
    [InlineData("smtp://relay.example.net:0", "is not a port")]
    [InlineData("smtp://relay.example.net:70000", "is not a port")]
    [InlineData("smtp://2001:db8::1:25", "brackets")]
    [InlineData("smtp://[2001:db8::1", "unclosed")]
    [InlineData("smtp://user@relay.example.net", "no host")]
    [InlineData("mx:192.0.2.1", "needs a domain")]
    public void Parse_Malformed_FormatExceptionSaysWhy(string text, string why)
    {
        // act
        var ex = Assert.Throws<FormatException>(() => NextHop.Parse(text));

        // assert
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
    }
}
