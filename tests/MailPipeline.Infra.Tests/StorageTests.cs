using MailPipeline.Infra.Tests.Infrastructure;

namespace MailPipeline.Infra.Tests;

/// <summary>The storage account against infra/storage.json, the one place the containers are named.</summary>
[Collection(InfraCollection.Name)]
public sealed class StorageTests(InfraFixture infra)
{
    public static TheoryData<string> Containers() =>
        [.. InfraFixture.StorageLayout["containers"]!.AsArray().Select(c => (string)c!["name"]!)];

    [Fact]
    public void Account_SecureDefaults_EntraOnlyNoPublicBlobsTls12()
    {
        // arrange / act
        var account = infra.Defaults.Single("Microsoft.Storage/storageAccounts");
        var properties = account["properties"]!;

        // assert
        Assert.Equal("StorageV2", (string)account["kind"]!);
        Assert.False((bool)properties["allowSharedKeyAccess"]!);
        Assert.False((bool)properties["allowBlobPublicAccess"]!);
        Assert.True((bool)properties["supportsHttpsTrafficOnly"]!);
        Assert.True((bool)properties["defaultToOAuthAuthentication"]!);
        Assert.Equal("TLS1_2", (string)properties["minimumTlsVersion"]!);
    }

    [Theory]
    [MemberData(nameof(Containers))]
    public void Container_InStorageFile_ExistsAndIsPrivate(string name)
    {
        // arrange / act
        var container = infra.Defaults.Find("Microsoft.Storage/storageAccounts/blobServices/containers", name);

        // assert
        Assert.NotNull(container);
        Assert.Equal("None", (string)container["properties"]!["publicAccess"]!);
    }

    [Fact]
    public void BlobService_SoftDeleteForBlobsAndContainers()
    {
        // arrange / act
        var service = infra.Defaults.Single("Microsoft.Storage/storageAccounts/blobServices")["properties"]!;

        // assert
        Assert.True((bool)service["deleteRetentionPolicy"]!["enabled"]!);
        Assert.True((bool)service["containerDeleteRetentionPolicy"]!["enabled"]!);
    }

    [Theory]
    [InlineData("raw", 30)]
    [InlineData("results", 30)]
    [InlineData("verdicts", 30)]
    [InlineData("quarantine", 90)]
    [InlineData("deliver", null)]
    public void Lifecycle_Defaults_TransientExpireQuarantineKeptLongerDeliverKept(string container, int? days)
    {
        // arrange / act
        var actual = ExpiryDays(infra.Defaults, container);

        // assert
        Assert.Equal(days, actual);
    }

    [Theory]
    [InlineData("raw", 7)]
    [InlineData("results", 7)]
    [InlineData("verdicts", 7)]
    [InlineData("quarantine", 60)]
    [InlineData("deliver", 14)]
    public void Lifecycle_RetentionParameter_SetsEachRule(string container, int days)
    {
        // arrange / act
        var actual = ExpiryDays(infra.Full, container);

        // assert
        Assert.Equal(days, actual);
    }

    [Fact]
    public void Account_SendsBlobLogsAndMetricsToTheWorkspace()
    {
        // arrange / act
        var settings = infra.Defaults.OfType("Microsoft.Insights/diagnosticSettings")
            .Select(d => (string)d["id"]!)
            .ToList();

        // assert
        Assert.Contains(settings, id => id.Contains("/storageAccounts/", StringComparison.Ordinal) && !id.Contains("/blobServices/", StringComparison.Ordinal));
        Assert.Contains(settings, id => id.Contains("/blobServices/default/", StringComparison.Ordinal));
    }

    private static int? ExpiryDays(Deployment deployment, string container)
    {
        var rules = deployment.Single("Microsoft.Storage/storageAccounts/managementPolicies")["properties"]!["policy"]!["rules"]!.AsArray();
        var rule = rules.SingleOrDefault(r => r!["definition"]!["filters"]!["prefixMatch"]!.AsArray()
            .Any(p => (string)p! == $"{container}/"));
        return rule is null ? null : (int)rule["definition"]!["actions"]!["baseBlob"]!["delete"]!["daysAfterCreationGreaterThan"]!;
    }
}
