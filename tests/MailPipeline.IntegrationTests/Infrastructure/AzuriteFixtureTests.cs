using Azure.Storage.Blobs;
using MailPipeline.TestSupport;

namespace MailPipeline.IntegrationTests.Infrastructure;

[Collection(AzuriteCollection.Name)]
[Trait("Category", "Integration")]
public sealed class AzuriteFixtureTests(AzuriteFixture azurite)
{
    [Fact(Timeout = 60_000)]
    public async Task Blob_RoundTrip_ReturnsExactBytes()
    {
        // arrange
        var container = new BlobContainerClient(azurite.ConnectionString, "roundtrip-" + Guid.NewGuid().ToString("N"));
        await container.CreateIfNotExistsAsync();
        var bytes = "Subject: x\r\n\r\nbody\r\n.\r\n\u00e9"u8.ToArray();

        // act
        await container.GetBlobClient("m.eml").UploadAsync(new BinaryData(bytes));
        var downloaded = await container.GetBlobClient("m.eml").DownloadContentAsync();

        // assert
        Assert.Equal(bytes, downloaded.Value.Content.ToArray());
    }
}
