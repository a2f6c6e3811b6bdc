using System.Text.Json.Nodes;
using MailPipeline.TestSupport;

namespace MailPipeline.Infra.Tests.Infrastructure;

/// <summary>
/// Copies infra/ to a temporary folder (so nothing is written into the repository) and runs the Bicep CLI on it once
/// for all tests: build, lint, build-params, and two snapshots: main.bicepparam as committed, and a deployment with
/// every option set (<see cref="FullParameters"/>).
/// </summary>
public sealed class InfraFixture : IAsyncLifetime
{
    /// <summary>Parameters of the deployment with every option set.</summary>
    public const string FullParameters = """
        using 'main.bicep'

        param environmentName = 'mailtest'
        param location = 'northeurope'
        param mxHostName = 'mx.mail.test'
        param acceptedDomains = ['mail.test', 'example.test']
        param authServId = 'mx.mail.test'
        param dnsServers = ['192.0.2.53:53', '192.0.2.54:53']
        param serviceBusSku = 'Premium'
        param retention = { transientDays: 7, quarantineDays: 60, deliverDays: 14 }
        param edgeImage = 'crmailtest.azurecr.io/mailpipeline/edge:1.0.0'
        param edgeExposedPort = 25
        param edgeTargetPort = 2526
        param edgeHealthPort = 8081
        param edgeScale = { minReplicas: 3, maxReplicas: 12, scaleOutCpuPercentage: 60 }
        param edgeVmSize = 'Standard_D4as_v5'
        param edgeZoneRedundant = true
        param edgeAdminSshPublicKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBzuV2x5o7yrxJ6X0D8PnIh3ufmVt9cE6uK1q3mRpEaD operator@example.test'
        param edgeTlsCertificateName = 'mx-mail-test'
        param edgeInSessionChecks = true
        param edgeInSessionTimeBudgetSeconds = 8
        param edgeVerifyRecipients = true
        param dqsKeySecretName = 'spamhaus-dqs'
        param operatorPrincipalId = '11111111-2222-3333-4444-555555555555'
        param deliveryNextHop = 'smtp://smtp.relay.test:587'
        param deliveryTls = 'Required'
        param deliveryUsername = 'relay-user'
        param deliveryPasswordSecretName = 'relay-password'
        param arcSealingDomain = 'mail.test'
        param arcSealingSelector = 'arc2026'
        param alertEmailAddress = 'oncall@example.test'
        """;

    private string _folder = string.Empty;

    /// <summary>The repository's infra folder.</summary>
    public static string InfraFolder => System.IO.Path.Combine(RepoPaths.Root, "infra");

    /// <summary>`bicep build main.bicep`.</summary>
    public BicepRun Build { get; private set; } = null!;

    /// <summary>`bicep lint main.bicep`.</summary>
    public BicepRun Lint { get; private set; } = null!;

    /// <summary>`bicep build-params main.bicepparam`.</summary>
    public BicepRun BuildParams { get; private set; } = null!;

    /// <summary>The compiled ARM template (main.json).</summary>
    public JsonObject Template { get; private set; } = null!;

    /// <summary>The compiled template as text.</summary>
    public string TemplateText { get; private set; } = string.Empty;

    /// <summary>The parameters file compiled from main.bicepparam.</summary>
    public JsonObject Parameters { get; private set; } = null!;

    /// <summary>main.bicepparam as committed, with an azd environment that sets only the required MX host and domains.</summary>
    public Deployment Defaults { get; private set; } = null!;

    /// <summary>Every option set (<see cref="FullParameters"/>).</summary>
    public Deployment Full { get; private set; } = null!;

    /// <summary>infra/topology.json.</summary>
    public static JsonObject Topology => ReadJson("topology.json");

    /// <summary>infra/storage.json.</summary>
    public static JsonObject StorageLayout => ReadJson("storage.json");

    /// <summary>infra/workbook.json (the operations workbook, with resource id placeholders).</summary>
    public static JsonObject Workbook => ReadJson("workbook.json");

    /// <summary>infra/app-settings.json.</summary>
    public static JsonObject AppSettingsCatalog => ReadJson("app-settings.json");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _folder = Directory.CreateTempSubdirectory("mailpipeline-infra-").FullName;
        CopyFolder(InfraFolder, _folder);

        Build = await BicepCli.RunAsync(_folder, "build", "main.bicep", "--outfile", "main.json");
        Lint = await BicepCli.RunAsync(_folder, "lint", "main.bicep");
        BuildParams = await BicepCli.RunAsync(_folder, BicepCli.ExampleOrgEnvironment, "build-params", "main.bicepparam", "--outfile", "main.parameters.json");
        Assert.True(Build.ExitCode == 0, Build.ToString());
        Assert.True(BuildParams.ExitCode == 0, BuildParams.ToString());
        TemplateText = await File.ReadAllTextAsync(System.IO.Path.Combine(_folder, "main.json"));
        Template = JsonNode.Parse(TemplateText)!.AsObject();
        Parameters = JsonNode.Parse(await File.ReadAllTextAsync(System.IO.Path.Combine(_folder, "main.parameters.json")))!.AsObject();

        Defaults = await SnapshotAsync("main.bicepparam", BicepCli.ExampleOrgEnvironment);
        await File.WriteAllTextAsync(System.IO.Path.Combine(_folder, "full.bicepparam"), FullParameters);
        Full = await SnapshotAsync("full.bicepparam", new Dictionary<string, string>());
    }

    /// <inheritdoc />
    public Task DisposeAsync()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }

        return Task.CompletedTask;
    }

    /// <summary>Runs `bicep snapshot` of a parameters file in the fixture's copy of infra/ (for tests of failing deployments).</summary>
    public Task<BicepRun> TrySnapshotAsync(string parametersFile, IReadOnlyDictionary<string, string> environment) => BicepCli.RunAsync(
        _folder,
        environment,
        "snapshot", parametersFile, "--mode", "overwrite",
        "--subscription-id", "00000000-0000-0000-0000-00000000aaaa",
        "--tenant-id", "00000000-0000-0000-0000-00000000bbbb",
        "--resource-group", "rg-mailpipeline",
        "--location", "northeurope");

    /// <summary>Runs `bicep build-params` of main.bicepparam in the fixture's copy of infra/.</summary>
    public Task<BicepRun> TryBuildParamsAsync(IReadOnlyDictionary<string, string> environment) =>
        BicepCli.RunAsync(_folder, environment, "build-params", "main.bicepparam", "--outfile", "try.parameters.json");

    private async Task<Deployment> SnapshotAsync(string parametersFile, IReadOnlyDictionary<string, string> environment)
    {
        var run = await TrySnapshotAsync(parametersFile, environment);
        Assert.True(run.ExitCode == 0, run.ToString());
        var file = System.IO.Path.Combine(_folder, System.IO.Path.ChangeExtension(parametersFile, ".snapshot.json"));
        Assert.True(File.Exists(file), $"no snapshot written: {run}");
        return new Deployment(JsonNode.Parse(await File.ReadAllTextAsync(file))!.AsObject());
    }

    private static JsonObject ReadJson(string name) =>
        JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(InfraFolder, name)))!.AsObject();

    private static void CopyFolder(string source, string target)
    {
        foreach (var directory in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(source, target, StringComparison.Ordinal));
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(source, target, StringComparison.Ordinal));
        }
    }
}

/// <summary>Shares one <see cref="InfraFixture"/> among the test classes.</summary>
[CollectionDefinition(Name)]
public sealed class InfraCollection : ICollectionFixture<InfraFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "Infra";
}
