using MailPipeline.TestSupport;

namespace MailPipeline.IntegrationTests.Infrastructure;

/// <summary>Tests that share one Knot DNS server.</summary>
[CollectionDefinition(Name)]
public sealed class DnsCollection : ICollectionFixture<DnsServerFixture>
{
    public const string Name = "dns";
}

/// <summary>Tests that share one Azurite instance.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}
