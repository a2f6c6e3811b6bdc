using MailPipeline.TestSupport;

namespace MailPipeline.Delivery.Tests.Infrastructure;

/// <summary>Tests that share one Knot DNS server.</summary>
[CollectionDefinition(Name)]
public sealed class DnsCollection : ICollectionFixture<DnsServerFixture>
{
    public const string Name = "delivery-dns";
}
