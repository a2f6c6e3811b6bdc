namespace MailPipeline.Cli.Tests;

/// <summary><c>mailpipeline spf</c> argument errors: exit code 2 and a clear message, no DNS needed.</summary>
public sealed class SpfCommandArgumentTests
{
    private static async Task<(int Code, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await MailPipelineCommand.RunAsync(args, output, error);
        return (code, error.ToString());
    }

    [Theory(Timeout = 10_000)]
    [InlineData(new[] { "spf", "--helo", "a.example", "--mail-from", "x@a.example" }, "--ip")]
    [InlineData(new[] { "spf", "--ip", "300.1.1.1", "--helo", "a.example" }, "'300.1.1.1' is not an IP address")]
    [InlineData(new[] { "spf", "--ip", "192.0.2.1" }, "Give --mail-from, --helo or both")]
    [InlineData(new[] { "spf", "--ip", "192.0.2.1", "--mail-from", "<>" }, "give --helo too")]
    [InlineData(new[] { "spf", "--ip", "192.0.2.1", "--helo", "a.example", "--resolver", "no such:host:x" }, "not a resolver endpoint")]
    public async Task Spf_BadArguments_ExitsTwoWithMessage(string[] args, string message)
    {
        // act
        var (code, error) = await RunAsync(args);

        // assert
        Assert.Equal(MailPipelineCommand.BadArguments, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
