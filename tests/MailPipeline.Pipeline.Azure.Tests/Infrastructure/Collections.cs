using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Azure.Tests.Infrastructure;

/// <summary>One Azurite for every Blob adapter test class.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
