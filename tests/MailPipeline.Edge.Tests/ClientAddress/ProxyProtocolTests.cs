using MailPipeline.Edge.Tests.Infrastructure;

namespace MailPipeline.Edge.Tests.ClientAddress;

/// <summary>
/// PROXY protocol end to end on a real edge: raw sockets bound to loopback aliases, so 127.0.0.2 is the
/// trusted balancer and 127.0.0.3 an ordinary client that tries the same headers.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ProxyProtocolTests
{
    private const string Proxy = "127.0.0.2";
    private const string Stranger = "127.0.0.3";

    private static Task<TestEdge> StartAsync(Action<EdgeOptions>? configure = null) => TestEdge.StartAsync(o =>
    {
        o.TrustedProxies.Add("127.0.0.2/32");
        o.ProxyHeaderTimeout = TimeSpan.FromSeconds(3);
        configure?.Invoke(o);
    });

    /// <summary>Sends one message after the greeting and returns the 250 reply.</summary>
    private static async Task<string> SendMessageAsync(RawSmtpClient client, string helo = "client.example")
    {
        Assert.StartsWith("220 mx.ours.test ESMTP", await client.ReadReplyAsync(), StringComparison.Ordinal);
        await client.CommandAsync($"EHLO {helo}");
        Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<bob@sender.test>"));
        Assert.Equal("250 2.1.5 Ok", await client.CommandAsync("RCPT TO:<alice@ours.test>"));
        await client.CommandAsync("DATA");
        await client.SendAsync("Subject: proxied\r\n\r\nhello\r\n.\r\n");
        return await client.ReadReplyAsync();
    }

    [Fact(Timeout = 30000)]
    public async Task V1FromTrustedProxy_HeaderSourceIsTheClientEverywhere()
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);

        // act
        await client.SendAsync(ProxyHeaders.V1("198.51.100.23", 41234));
        string reply = await SendMessageAsync(client);

        // assert
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
        var envelope = await edge.EnvelopeAsync(Assert.Single(edge.StoredIds()));
        Assert.Equal("198.51.100.23", envelope.ClientAddress);
        Assert.Equal(41234, envelope.ClientPort);
        Assert.Contains("(unknown [198.51.100.23])", await edge.MessageTextAsync(envelope.MessageId), StringComparison.Ordinal);
        Assert.Equal(1, edge.Metrics.ClientAddressCount("proxy-v1"));
    }

    [Fact(Timeout = 30000)]
    public async Task V2WithTlvsAndCrc_IPv6Source_IsTheClient()
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);
        byte[] header = ProxyHeaders.V2("2001:db8:5::17", 50001, "2001:db8::25", tlvs: [(0x05, "conn-42"u8.ToArray()), (0x02, "mx.ours.test"u8.ToArray())], crc: true);

        // act
        await client.SendAsync(header);
        string reply = await SendMessageAsync(client);

        // assert
        Assert.StartsWith("250 2.0.0 ", reply, StringComparison.Ordinal);
        var envelope = await edge.EnvelopeAsync(Assert.Single(edge.StoredIds()));
        Assert.Equal("2001:db8:5::17", envelope.ClientAddress);
        Assert.Contains("[IPv6:2001:db8:5::17]", await edge.MessageTextAsync(envelope.MessageId), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task V2MappedIPv4_IsStoredAsIPv4()
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);

        // act
        await client.SendAsync(ProxyHeaders.V2("::ffff:203.0.113.77"));
        await SendMessageAsync(client);

        // assert
        Assert.Equal("203.0.113.77", (await edge.EnvelopeAsync(Assert.Single(edge.StoredIds()))).ClientAddress);
    }

    [Theory(Timeout = 30000)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task HeaderSplitAcrossPackets_OneOctetAtATime_Works(int version)
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);
        byte[] header = version == 1 ? ProxyHeaders.V1("192.0.2.200") : ProxyHeaders.V2("192.0.2.200", tlvs: [(0x04, new byte[7])]);

        // act: TCP_NODELAY and a pause per octet, so each goes out in its own segment
        foreach (byte b in header)
        {
            await client.SendAsync([b]);
            await Task.Delay(5);
        }

        await SendMessageAsync(client);

        // assert
        Assert.Equal("192.0.2.200", (await edge.EnvelopeAsync(Assert.Single(edge.StoredIds()))).ClientAddress);
    }

    [Fact(Timeout = 30000)]
    public async Task HeaderAndClientBytesInOnePacket_NothingIsLost()
    {
        // arrange: a proxy that forwards the client's early EHLO in the same segment as the header
        await using var edge = await StartAsync();
        await using var client = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);

        // act
        await client.SendAsync([.. ProxyHeaders.V2("192.0.2.201"), .. "EHLO early.example\r\n"u8]);
        string greeting = await client.ReadReplyAsync();
        string ehlo = await client.ReadReplyAsync();

        // assert
        Assert.StartsWith("220 ", greeting, StringComparison.Ordinal);
        Assert.StartsWith("250-mx.ours.test Hello early.example", ehlo, StringComparison.Ordinal);
    }

    [Theory(Timeout = 30000)]
    [InlineData("local")]
    [InlineData("unknown")]
    public async Task LocalOrUnknown_UsesTheConnectionsOwnAddress(string kind)
    {
        // arrange: the balancer's health check
        await using var edge = await StartAsync();
        await using var client = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);

        // act
        await client.SendAsync(kind == "local" ? ProxyHeaders.V2(null, command: 0) : "PROXY UNKNOWN\r\n"u8.ToArray());
        await SendMessageAsync(client);

        // assert
        Assert.Equal(Proxy, (await edge.EnvelopeAsync(Assert.Single(edge.StoredIds()))).ClientAddress);
        Assert.Equal(1, edge.Metrics.ClientAddressCount("proxy-local"));
    }

    [Theory(Timeout = 30000)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task HeaderFromUntrustedSource_Refused554AndClosed_NeverInterpreted(int version)
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Stranger);

        // act: the greeting comes at once (no header is awaited from a stranger), then the header
        string greeting = await client.ReadReplyAsync();
        await client.SendAsync(version == 1 ? ProxyHeaders.V1("192.0.2.66") : ProxyHeaders.V2("192.0.2.66"));
        string reply = await client.ReadReplyAsync();

        // assert
        Assert.StartsWith("220 ", greeting, StringComparison.Ordinal);
        Assert.Equal("554 5.7.0 mx.ours.test PROXY protocol header refused", reply);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(1, edge.Metrics.RejectedCount("proxy-header-refused"));
        Assert.Empty(edge.StoredIds());
    }

    [Fact(Timeout = 30000)]
    public async Task V2SignatureSplitFromUntrustedSource_StillRefused()
    {
        // arrange: the signature starts with CRLF CRLF, which would pass as two empty lines if read line by line
        await using var edge = await StartAsync();
        await using var client = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Stranger);
        await client.ReadReplyAsync();
        byte[] header = ProxyHeaders.V2("192.0.2.66");

        // act
        await client.SendAsync(header[..3]);
        await Task.Delay(100);
        await client.SendAsync(header[3..]);

        // assert
        Assert.Equal("554 5.7.0 mx.ours.test PROXY protocol header refused", await client.ReadReplyAsync());
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact(Timeout = 30000)]
    public async Task SecondHeaderAfterTheGreeting_FromTrustedProxy_Refused()
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);
        await client.SendAsync(ProxyHeaders.V1("192.0.2.10"));
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.example");

        // act: the client behind the proxy tries to rename itself
        string reply = await client.CommandAsync("PROXY TCP4 192.0.2.99 192.0.2.25 1 25");

        // assert
        Assert.StartsWith("554 5.7.0 ", reply, StringComparison.Ordinal);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(5)));
    }

    [Theory(Timeout = 30000)]
    [InlineData("EHLO client.example\r\n", "no header at all")]
    [InlineData("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\n", "bare LF")]
    [InlineData("PROXY TCP4 999.0.2.1 192.0.2.2 1 2\r\n", "bad address")]
    [InlineData("GET / HTTP/1.0\r\n\r\n", "another protocol")]
    public async Task GarbledHeaderFromTrustedProxy_ClosedWithoutAWord(string sent, string because)
    {
        // arrange
        await using var edge = await StartAsync();
        await using var client = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);

        // act
        await client.SendAsync(sent);

        // assert: no greeting, just the close (the proxy is at fault, not its client)
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)), because);
        Assert.Equal(1, edge.Metrics.RejectedCount("proxy-header-invalid"));
        Assert.Equal(0, edge.Metrics.SessionsTotal);
    }

    [Fact(Timeout = 30000)]
    public async Task OversizedV2Header_ClosedBeforeItIsRead()
    {
        // arrange
        await using var edge = await StartAsync(o => o.MaxProxyHeaderLength = 512);
        await using var client = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);

        // act: announces 1000 octets of TLVs
        await client.SendAsync(ProxyHeaders.V2("192.0.2.1", tlvs: [(0x04, new byte[1000])]));

        // assert
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, edge.Metrics.SessionsTotal);
    }

    [Fact(Timeout = 30000)]
    public async Task SlowHeader_ClosedAtTheTimeout_WhileOthersAreServed()
    {
        // arrange
        await using var edge = await StartAsync(o => o.ProxyHeaderTimeout = TimeSpan.FromSeconds(1));
        await using var slow = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);
        await slow.SendAsync("PROXY TCP4 192.0.2.1"u8.ToArray());

        // act: a second proxied connection is served while the first one dawdles
        await using var fast = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);
        await fast.SendAsync(ProxyHeaders.V1("192.0.2.2"));
        string greeting = await fast.ReadReplyAsync(TimeSpan.FromSeconds(5));

        // assert
        Assert.StartsWith("220 ", greeting, StringComparison.Ordinal);
        Assert.True(await slow.IsClosedAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, edge.Metrics.RejectedCount("proxy-header-invalid"));
    }

    [Fact(Timeout = 30000)]
    public async Task PerIpLimit_KeysOnTheRealClient_NotOnTheProxy()
    {
        // arrange: one session per IP; all connections come from the same proxy
        await using var edge = await StartAsync(o => { o.MaxSessionsPerIp = 1; o.EvictIdleAfter = TimeSpan.FromHours(1); });
        await using var first = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);
        await first.SendAsync(ProxyHeaders.V1("192.0.2.1"));
        await first.ReadReplyAsync();
        await using var other = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);
        await using var same = await RawSmtpClient.ConnectFromAsync(edge.Endpoint, Proxy);

        // act
        await other.SendAsync(ProxyHeaders.V2("192.0.2.2"));
        string otherGreeting = await other.ReadReplyAsync();
        await same.SendAsync(ProxyHeaders.V2("192.0.2.1"));
        string sameGreeting = await same.ReadReplyAsync();

        // assert
        Assert.StartsWith("220 ", otherGreeting, StringComparison.Ordinal);
        Assert.StartsWith("421 4.7.0 ", sameGreeting, StringComparison.Ordinal);
        Assert.Equal(1, edge.Metrics.RejectedCount("connection-ip-sessions"));
    }
}
