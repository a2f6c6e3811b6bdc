using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MailPipeline.Infra.Tests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.Infra.Tests;

/// <summary>
/// The operations workbook and the alert rules (modules/observability.bicep, infra/workbook.json): every panel the
/// operators need, built on metric names the code really publishes, and the two alerts scoped where their data is.
/// </summary>
[Collection(InfraCollection.Name)]
public sealed partial class ObservabilityTelemetryTests(InfraFixture infra)
{
    private static readonly JsonObject Workbook = InfraFixture.Workbook;

    [Fact]
    public void Workbook_Deployed_SharedOnTheApplicationInsightsComponentWithTheFileAsContent()
    {
        // arrange / act
        var workbook = infra.Defaults.Single("Microsoft.Insights/workbooks");
        var properties = workbook["properties"]!.AsObject();

        // assert
        Assert.Equal("shared", (string)workbook["kind"]!);
        Assert.Equal("workbook", (string)properties["category"]!);
        Assert.Contains("applicationInsightsResourceId", (string)properties["sourceId"]!, StringComparison.Ordinal);
        Assert.True(Guid.TryParse((string)workbook["name"]!, out _), "a workbook's name must be a GUID");
        string content = (string)properties["serializedData"]!;
        Assert.Contains("__APPLICATION_INSIGHTS_RESOURCE_ID__", content, StringComparison.Ordinal); // replaced at deployment…
        Assert.Contains("applicationInsightsResourceId", content, StringComparison.Ordinal); // …by the component's id
        Assert.Contains("__SERVICE_BUS_NAMESPACE_RESOURCE_ID__", content, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("messages-by-verdict", "mailpipeline.messages", "action")]
    [InlineData("check-results", "mailpipeline.check.results", "result")]
    [InlineData("latency-mean-max", "mailpipeline.verdict.latency", null)]
    [InlineData("stage-retries", "mailpipeline.stage.retries", "stage")]
    public void Workbook_MetricPanel_QueriesThePublishedMetricByItsLabel(string panel, string metric, string? label)
    {
        // arrange / act
        string query = Query(panel);

        // assert
        Assert.Contains($"\"{metric}\"", query, StringComparison.Ordinal);
        if (label is not null)
        {
            Assert.Contains($"customDimensions[\"{label}\"]", query, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Workbook_LatencyPercentiles_FromTheEdgeSpanToTheRoutingSpan()
    {
        // arrange / act
        string query = Query("latency-percentiles");

        // assert: the span names the code starts (EdgeTelemetry, Aggregator)
        Assert.Contains("name == \"smtp message\"", query, StringComparison.Ordinal);
        Assert.Contains("name startswith \"route \"", query, StringComparison.Ordinal);
        Assert.Contains("percentiles(seconds, 50, 90, 99)", query, StringComparison.Ordinal);
        Assert.Contains("\"smtp message\"", SourceText(), StringComparison.Ordinal);
        Assert.Contains("\"route \"", SourceText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dead-lettered", "DeadletteredMessages")]
    [InlineData("queue-depth", "ActiveMessages")]
    public void Workbook_ServiceBusPanel_ChartsTheNamespaceMetricByEntity(string panel, string metric)
    {
        // arrange / act
        var content = Item(panel)["content"]!;
        var spec = Assert.Single(content["metrics"]!.AsArray())!;

        // assert
        Assert.Equal("microsoft.servicebus/namespaces", (string)content["resourceType"]!);
        Assert.Equal("__SERVICE_BUS_NAMESPACE_RESOURCE_ID__", (string)Assert.Single(content["resourceIds"]!.AsArray())!);
        Assert.Equal($"microsoft.servicebus/namespaces--{metric}", (string)spec["metric"]!);
        Assert.Equal("EntityName", (string)spec["splitBy"]!);
    }

    [Fact]
    public void WorkbookAndAlerts_EveryMetricName_IsAnInstrumentTheCodeCreates()
    {
        // arrange: every customMetrics name in the workbook's and the alerts' queries
        var queries = Workbook["items"]!.AsArray().Select(i => (string?)i!["content"]!["query"]).OfType<string>()
            .Concat(infra.Defaults.OfType("Microsoft.Insights/scheduledQueryRules").Select(AlertQuery));
        var names = queries.SelectMany(q => MetricName().Matches(q).Select(m => m.Groups[1].Value)).Distinct().ToList();

        // act
        string source = SourceText();

        // assert
        Assert.True(names.Count >= 5, string.Join(", ", names));
        Assert.All(names, name => Assert.Contains($"\"{name}\"", source, StringComparison.Ordinal));
    }

    [Fact]
    public void Alerts_DeadLettersGrowing_OnTheWorkspaceWithTheNamespaceMetrics()
    {
        // arrange / act
        var rule = Rule("dead-letters-growing");

        // assert
        Assert.Contains("workspaceResourceId", (string)rule["properties"]!["scopes"]![0]!, StringComparison.Ordinal);
        string query = AlertQuery(rule);
        Assert.Contains("MetricName == \"DeadletteredMessages\"", query, StringComparison.Ordinal);
        Assert.Contains("where now > before", query, StringComparison.Ordinal);
        Assert.True((bool)rule["properties"]!["enabled"]!);
    }

    [Fact]
    public void Alerts_PipelineStalled_AcceptedButNothingRoutedOnTheComponent()
    {
        // arrange / act
        var rule = Rule("stalled");

        // assert
        Assert.Contains("applicationInsightsResourceId", (string)rule["properties"]!["scopes"]![0]!, StringComparison.Ordinal);
        string query = AlertQuery(rule);
        Assert.Contains("\"mailpipeline.edge.messages.accepted\"", query, StringComparison.Ordinal);
        Assert.Contains("\"mailpipeline.messages\"", query, StringComparison.Ordinal);
        Assert.Contains("accepted > 0 and routed == 0", query, StringComparison.Ordinal);
        Assert.Equal("PT15M", (string)rule["properties"]!["windowSize"]!);
    }

    [Fact]
    public void Alerts_NoEmail_NoActionGroup_WithEmail_BothRulesNotifyIt()
    {
        // arrange / act
        var full = infra.Full.Single("Microsoft.Insights/actionGroups");
        var fullRules = infra.Full.OfType("Microsoft.Insights/scheduledQueryRules");

        // assert
        Assert.Empty(infra.Defaults.OfType("Microsoft.Insights/actionGroups"));
        Assert.Equal("oncall@example.test", (string)full["properties"]!["emailReceivers"]![0]!["emailAddress"]!);
        Assert.Equal(2, fullRules.Count);
        Assert.All(fullRules, r => Assert.Contains("actionGroups", (string)r["properties"]!["actions"]!["actionGroups"]![0]!, StringComparison.Ordinal));
    }

    private JsonObject Rule(string nameContains) =>
        Assert.Single(infra.Defaults.OfType("Microsoft.Insights/scheduledQueryRules"), r => ((string)r["name"]!).Contains(nameContains, StringComparison.Ordinal));

    private static string AlertQuery(JsonObject rule) => (string)rule["properties"]!["criteria"]!["allOf"]![0]!["query"]!;

    private static JsonObject Item(string name) =>
        Assert.Single(Workbook["items"]!.AsArray(), i => (string?)i!["name"] == name)!.AsObject();

    private static string Query(string panel) => (string)Item(panel)["content"]!["query"]!;

    private static string SourceText() => string.Join("\n", Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
        .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
        .Select(File.ReadAllText));

    [GeneratedRegex(@"""(mailpipeline\.[a-z_.]+)""")]
    private static partial Regex MetricName();
}
