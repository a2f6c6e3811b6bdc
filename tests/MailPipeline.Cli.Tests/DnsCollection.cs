using MailPipeline.TestSupport;

namespace MailPipeline.Cli.Tests;

/// <summary>Tests that share one Knot DNS server serving TestData/dns.</summary>
[CollectionDefinition(Name)]
public sealed class DnsCollection : ICollectionFixture<DnsServerFixture>
{
    public const string Name = "dns";
}
