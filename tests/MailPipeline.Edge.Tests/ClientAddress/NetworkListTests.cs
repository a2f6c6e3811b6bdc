using System.Net;

namespace MailPipeline.Edge.Tests.ClientAddress;

public sealed class NetworkListTests
{
    [Theory]
    [InlineData("127.0.0.2/32", "127.0.0.2", true)]
    [InlineData("127.0.0.2", "127.0.0.2", true)]
    [InlineData("10.0.0.0/8", "10.200.1.1", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("10.0.0.0/8", "::ffff:10.1.2.3", true)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::/32", "2001:db9::1", false)]
    [InlineData("192.0.2.0/24", "2001:db8::1", false)]
    public void Contains_MatchesByPrefix_MappedAddressesAsIPv4(string network, string address, bool expected)
    {
        // arrange
        var list = NetworkList.Parse([network], "test");

        // act / assert
        Assert.Equal(expected, list.Contains(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("10.0.0.1/8")]
    [InlineData("192.0.2.0/33")]
    [InlineData("300.0.0.1")]
    [InlineData("fe80::1%eth0")]
    [InlineData("not-a-network")]
    [InlineData("")]
    public void TryParse_HostBitsOrGarbage_IsRefused(string entry)
    {
        // act / assert
        Assert.Null(NetworkList.TryParse(entry));
    }
}
