using System.Text.Json;
using MailPipeline.DnsFaultProxy;
using MailPipeline.TestSupport;

namespace MailPipeline.Cli.Tests.Spf;

/// <summary>
/// A Knot server of its own serving one openspf scenario at a time as its root zone, behind the fault-injecting
/// proxy that turns the scenario's TIMEOUT entries into unanswered queries; a configuration file for the CLI with
/// the suite's conventions (default explanation "DEFAULT") and short DNS timeouts.
/// </summary>
public sealed class OpenSpfSuiteServer : IAsyncLifetime
{
    private readonly DnsServerFixture _knot = DnsServerFixture.Empty();
    private readonly string _work = Directory.CreateTempSubdirectory("mp-spfsuite-").FullName;
    private DnsFaultProxy.DnsFaultProxy? _proxy;
    private string? _scenario;

    public string Resolver => _proxy!.EndpointText;

    public string ConfigPath => Path.Combine(_work, "spf-suite.json");

    public async Task InitializeAsync()
    {
        await _knot.InitializeAsync();
        _proxy = new DnsFaultProxy.DnsFaultProxy(_knot.Endpoint).Start();
        await File.WriteAllTextAsync(ConfigPath, """
            {
              "Dns": { "QueryTimeout": "00:00:01", "Retries": 1, "QueryBudget": "00:00:03" },
              "Spf": { "DefaultExplanation": "DEFAULT", "ReceivingHost": "unknown" }
            }
            """);
    }

    /// <summary>Serves the scenario's zone (and its timeouts) unless it is already served.</summary>
    public async Task UseScenarioAsync(string scenario)
    {
        if (_scenario == scenario)
        {
            return;
        }

        var (zone, drops) = OpenSpfSuite.Rfc7208.KnotZone(scenario);
        _proxy!.ClearRules();
        await _knot.AddZoneAsync(".", zone);
        _proxy.SetRules(drops.Select(FaultRule.Parse));
        _scenario = scenario;
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        await _knot.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }
}

/// <summary>
/// The openspf RFC 7208 suite (203 tests) through <c>mailpipeline spf</c> against real DNS: each scenario's zone is
/// served by Knot, every test runs the command (argument parsing, configuration, resolver, output) and its JSON is
/// compared with the suite's result and explanation. One case per suite test, in scenario order.
/// </summary>
[Trait("Category", "Integration")]
public sealed class OpenSpfSuiteCliTests(OpenSpfSuiteServer server) : IClassFixture<OpenSpfSuiteServer>
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var (scenario, test) in OpenSpfSuite.Rfc7208.Names)
        {
            data.Add(scenario, test);
        }

        return data;
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Cases))]
    public async Task SpfCommand_SuiteTest_GivesTheExpectedResultAndExplanation(string scenario, string test)
    {
        // arrange
        await server.UseScenarioAsync(scenario);
        var c = OpenSpfSuite.Rfc7208.Case(scenario, test);
        using var output = new StringWriter();
        using var error = new StringWriter();

        // act
        var code = await MailPipelineCommand.RunAsync(
            ["spf", "--ip", c.Host, "--helo", c.Helo, "--mail-from", c.MailFrom, "--resolver", server.Resolver, "--config", server.ConfigPath, "--json"],
            output,
            error);

        // assert
        Assert.True(code == MailPipelineCommand.Success, $"{test}: exit {code}: {error}");
        using var json = JsonDocument.Parse(output.ToString());
        var result = json.RootElement.GetProperty("result").GetString();
        Assert.True(
            c.Results.Contains(result!),
            $"{test} ({c.Spec}): expected {string.Join(" or ", c.Results)}, got {result}: {json.RootElement.GetProperty("reason").GetString()}");
        if (c.Explanation is not null)
        {
            Assert.Equal(c.Explanation, json.RootElement.TryGetProperty("explanation", out var exp) ? exp.GetString() : null);
        }
    }

    [Fact]
    public void Suite_Loaded_Has203Tests()
    {
        Assert.Equal(203, OpenSpfSuite.Rfc7208.Names.Count());
    }
}
