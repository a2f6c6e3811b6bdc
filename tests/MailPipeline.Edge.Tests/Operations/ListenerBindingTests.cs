using System.Net;
using MailPipeline.TestSupport;

namespace MailPipeline.Edge.Tests.Operations;

/// <summary>
/// The edge as shipped (<c>mailpipeline-edge</c>, a child process) binds its listeners where configured, checked with what
/// the kernel says the process listens on: <c>Edge:ListenAddress=127.0.0.1</c> leaves nothing on other interfaces.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ListenerBindingTests : IDisposable
{
    private readonly string _spool = Directory.CreateTempSubdirectory("mp-edge-bind-").FullName;

    [Fact(Timeout = 120_000)]
    public async Task Edge_ListenAddressLoopback_SmtpAndHttpOnLoopbackOnly()
    {
        // arrange
        int smtp = FreePort.Next();
        int http = FreePort.Next();

        // act
        using var edge = await StartAsync(smtp, http, new Dictionary<string, string> { ["Edge__ListenAddress"] = "127.0.0.1" });
        var listening = ListeningSockets.Of(edge.Id);

        // assert
        Assert.Equal(2, listening.Count);
        Assert.DoesNotContain(listening, ListeningSockets.IsWildcard);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, smtp), listening);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, http), listening);
    }

    [Fact(Timeout = 120_000)]
    public async Task Edge_HealthAddressSet_HttpThereSmtpWhereListenAddressSays()
    {
        // arrange
        int smtp = FreePort.Next();
        int http = FreePort.Next();

        // act
        using var edge = await StartAsync(smtp, http, new Dictionary<string, string>
        {
            ["Edge__ListenAddress"] = "127.0.0.1",
            ["Edge__HealthAddress"] = "127.0.0.2",
        });
        var listening = ListeningSockets.Of(edge.Id);

        // assert
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, smtp), listening);
        Assert.Contains(new IPEndPoint(IPAddress.Parse("127.0.0.2"), http), listening);
        Assert.DoesNotContain(listening, ListeningSockets.IsWildcard);
    }

    public void Dispose() => Directory.Delete(_spool, recursive: true);

    private async Task<ExternalProcess> StartAsync(int smtp, int http, Dictionary<string, string> environment)
    {
        environment["Edge__Port"] = smtp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["Edge__HealthPort"] = http.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["Edge__AcceptedDomains__0"] = "bind.test";
        environment["Edge__HostName"] = "mx.bind.test";
        environment["Spool__Path"] = _spool;
        var process = ExternalProcess.Start("dotnet", [EdgePath], environment: environment);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                string address = environment.GetValueOrDefault("Edge__HealthAddress") ?? "127.0.0.1";
                if ((await client.GetAsync(new Uri($"http://{address}:{http}/readyz"))).IsSuccessStatusCode)
                {
                    return process;
                }
            }
            catch (HttpRequestException)
            {
                // not up yet
            }
            catch (TaskCanceledException)
            {
                // not up yet
            }

            if (!process.IsRunning || DateTime.UtcNow > deadline)
            {
                string output = process.Output;
                process.Dispose();
                throw new InvalidOperationException($"the edge did not become ready:\n{output}");
            }

            await Task.Delay(100);
        }
    }

    private static string EdgePath => RepoPaths.BuiltOutput("MailPipeline.Edge", "mailpipeline-edge.dll");
}
