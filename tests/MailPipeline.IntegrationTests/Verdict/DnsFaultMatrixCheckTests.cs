using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MailPipeline.Cli;
using MailPipeline.TestSupport;
using Xunit.Abstractions;

namespace MailPipeline.IntegrationTests.Verdict;

/// <summary>
/// The DNS fault matrix through <c>mailpipeline check --json</c>: for each check (SPF, each DKIM signature, ARC,
/// iprev, each DNS list, each step of the DMARC tree walk) × each fault (SERVFAIL, REFUSED, no answer, garbled
/// answer) injected by the proxy in front of Knot × whether the fault could change the action, the action on the
/// first attempt, the checks a retry waits for, and the temperror recorded. The time to a verdict is written to the
/// test output (not asserted: speed lives in bench/).
/// </summary>
[Trait("Category", "Integration")]
public sealed class DnsFaultMatrixCheckTests(DnsFaultWorld world, ITestOutputHelper output) : IClassFixture<DnsFaultWorld>
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in DnsFaultWorld.Cases())
        {
            foreach (var fault in DnsFaultWorld.Faults)
            {
                data.Add(c.Name, fault);
            }
        }

        return data;
    }

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(Cases))]
    public async Task Check_FaultOnOneCheck_WaitsOnlyWhenItCouldChangeTheAction(string name, string fault)
    {
        // arrange
        var c = DnsFaultWorld.Cases().Single(x => x.Name == name);
        var file = Path.Combine(world.Folder, c.Message + ".eml");
        await File.WriteAllBytesAsync(file, await world.MessageAsync(c.Message));
        var config = Path.Combine(world.Folder, c.Config + ".json");
        await File.WriteAllTextAsync(config, c.ConfigJson());
        world.Inject(c, fault);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        // act
        var clock = Stopwatch.StartNew();
        var code = await MailPipelineCommand.RunAsync(
            ["check", "--ip", DnsFaultWorld.ClientIp, "--helo", "mail.bank.test", "--mail-from", c.MailFrom, "--resolver", world.Proxy.EndpointText, "--config", config, "--json", file],
            stdout,
            stderr);
        clock.Stop();

        // assert
        Assert.True(code == MailPipelineCommand.Success, stderr.ToString());
        using var report = JsonDocument.Parse(stdout.ToString());
        var root = report.RootElement;
        var action = root.GetProperty("action").GetString();
        var reasons = root.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()).ToList();
        var text = root.GetProperty("authenticationResults").GetString() + "\n" + string.Join("\n", reasons);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} x {fault}: {action} after {clock.ElapsedMilliseconds} ms; rules {string.Join(",", root.GetProperty("rules").EnumerateArray())}"));
        output.WriteLine(text);
        var (type, queried) = (c.Query.Split(' ')[0], c.Query.Split(' ')[1]);
        Assert.True(world.Proxy.QueriesFor(queried, type) > 0, $"{c.Query} was never asked: the fault was not exercised");
        Assert.Equal(c.Action, action);
        Assert.Equal(1, root.GetProperty("attempt").GetInt32());
        Assert.Contains(c.Recorded, text, StringComparison.Ordinal);
        if (c.Retry is not null)
        {
            Assert.Equal(c.Retry, root.GetProperty("retry").EnumerateArray().Select(r => r.GetString()).ToArray());
        }
        else
        {
            Assert.False(root.TryGetProperty("retry", out _));
            if (c.Action == "deliver" && (c.Recorded.Contains("temperror", StringComparison.Ordinal) || c.Recorded.Contains("failed", StringComparison.Ordinal)))
            {
                Assert.Contains(reasons, r => r!.EndsWith("(cannot change the action; not waited for)", StringComparison.Ordinal));
            }
        }
    }
}
