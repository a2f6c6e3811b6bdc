using System.Text;
using System.Text.Json;
using MailPipeline.TestSupport;

namespace MailPipeline.Cli.Tests.Check;

/// <summary><c>mailpipeline check --batch</c>: input order kept under parallelism, error lines, paths relative to the batch file.</summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class CheckBatchTests(DnsServerFixture dns)
{
    [Fact(Timeout = 120_000)]
    public async Task Batch_ManyMixedMessagesInParallel_OneLinePerInputInInputOrder()
    {
        // arrange: 40 envelopes alternating deliver / quarantine / broken lines, in a subfolder of their own.
        var world = await CheckWorld.GetAsync(dns);
        var folder = Directory.CreateDirectory(Path.Combine(world.Folder, "batch-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        Directory.CreateDirectory(Path.Combine(folder, "mail"));
        var signed = await world.SignAsync(CheckWorld.Message());
        var lines = new List<string>();
        var expected = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            var name = $"mail/{i:D3}.eml";
            switch (i % 4)
            {
                case 0:
                    await File.WriteAllBytesAsync(Path.Combine(folder, name), signed);
                    lines.Add(Envelope(name, CheckWorld.GoodIp, "mail.check.test", "alice@check.test"));
                    expected.Add("deliver");
                    break;
                case 1:
                    await File.WriteAllBytesAsync(Path.Combine(folder, name), Encoding.ASCII.GetBytes(CheckWorld.Message()));
                    lines.Add(Envelope(name, CheckWorld.StrangerIp, "host.stranger.check.test", "alice@check.test"));
                    expected.Add("quarantine");
                    break;
                case 2:
                    await File.WriteAllBytesAsync(Path.Combine(folder, name), signed);
                    lines.Add(Envelope(name, CheckWorld.GoodIp, "mail.check.test", string.Empty));
                    expected.Add("deliver");
                    break;
                default:
                    lines.Add(Envelope($"mail/missing-{i:D3}.eml", CheckWorld.GoodIp, "mail.check.test", "alice@check.test"));
                    expected.Add("error");
                    break;
            }
        }

        var batch = Path.Combine(folder, "envelopes.jsonl");
        await File.WriteAllLinesAsync(batch, lines);

        // act
        var (code, output, error) = await CheckCommandTests.RunAsync("check", "--batch", batch, "--resolver", dns.EndpointText, "--parallel", "8");

        // assert
        Assert.Equal(MailPipelineCommand.Failure, code); // some lines were errors
        Assert.Contains("checked 40 envelopes, 10 with errors", error, StringComparison.Ordinal);
        var results = output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n').Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
        Assert.Equal(40, results.Length);
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(i + 1, results[i].GetProperty("line").GetInt32());
            var actual = results[i].TryGetProperty("error", out var message) ? "error" : results[i].GetProperty("action").GetString();
            Assert.True(expected[i] == actual, $"line {i + 1}: expected {expected[i]}, got {results[i]}");
            Assert.Contains($"{i:D3}", results[i].GetProperty("file").GetString() ?? string.Empty, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Batch_BrokenLines_YieldErrorLinesAndTheBatchGoesOn()
    {
        // arrange
        var world = await CheckWorld.GetAsync(dns);
        var folder = Directory.CreateDirectory(Path.Combine(world.Folder, "broken-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        await File.WriteAllBytesAsync(Path.Combine(folder, "ok.eml"), await world.SignAsync(CheckWorld.Message()));
        var batch = Path.Combine(folder, "envelopes.jsonl");
        await File.WriteAllTextAsync(batch, string.Join("\n",
            "{not json",
            Envelope("ok.eml", "999.1.1.1", "mail.check.test", "alice@check.test"),
            "{\"ip\":\"192.0.2.25\"}",
            "[1,2,3]",
            string.Empty,
            Envelope("ok.eml", CheckWorld.GoodIp, "mail.check.test", "alice@check.test")) + "\n");

        // act
        var (code, output, _) = await CheckCommandTests.RunAsync("check", "--batch", batch, "--resolver", dns.EndpointText, "--parallel", "2");

        // assert
        Assert.Equal(MailPipelineCommand.Failure, code);
        var results = output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n').Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
        Assert.Equal([1, 2, 3, 4, 6], results.Select(r => r.GetProperty("line").GetInt32()));
        Assert.Contains("not a JSON envelope", results[0].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("\"ip\" is not an IP address", results[1].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("\"file\" is missing", results[2].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("not a JSON envelope", results[3].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("deliver", results[4].GetProperty("action").GetString());
        Assert.Equal("ok.eml", results[4].GetProperty("file").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Batch_AllLinesGood_ExitsZero()
    {
        // arrange
        var world = await CheckWorld.GetAsync(dns);
        var folder = Directory.CreateDirectory(Path.Combine(world.Folder, "good-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        await File.WriteAllBytesAsync(Path.Combine(folder, "m.eml"), Encoding.ASCII.GetBytes(CheckWorld.Message()));
        var batch = Path.Combine(folder, "envelopes.jsonl");
        await File.WriteAllLinesAsync(batch, [Envelope("m.eml", CheckWorld.StrangerIp, "host.stranger.check.test", "alice@check.test")]);

        // act
        var (code, output, _) = await CheckCommandTests.RunAsync("check", "--batch", batch, "--resolver", dns.EndpointText);

        // assert
        Assert.Equal(MailPipelineCommand.Success, code);
        Assert.Equal("quarantine", JsonDocument.Parse(output).RootElement.GetProperty("action").GetString());
    }

    private static string Envelope(string file, string ip, string helo, string mailFrom) =>
        JsonSerializer.Serialize(new { file, ip, helo, mailFrom, rcptTo = new[] { "bob@example.net" } });
}
