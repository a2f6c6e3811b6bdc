using System.Text;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;
using OpenQA.Selenium;

namespace MailPipeline.Operations.Tests.Browser;

/// <summary>
/// A running <c>mailpipeline serve</c> (child process, loopback, console open) whose DNS block list lists 127.0.0.1,
/// so every message swaks sends is quarantined; Knot answers the checks' queries; one headless chromium.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    private readonly DnsServerFixture _dns = new();

    public string Work { get; } = Directory.CreateTempSubdirectory("mp-console-").FullName;

    public string Data => Path.Combine(Work, "data");

    public ServeProcess Serve { get; private set; } = null!;

    public HeadlessChromium Browser { get; private set; } = null!;

    public CanaryServer Canary { get; } = new();

    public string BaseUrl => $"http://127.0.0.1:{Serve.HttpPort}";

    public async Task InitializeAsync()
    {
        await _dns.InitializeAsync();
        await _dns.AddZoneAsync("bl.console.test", """
            1.0.0.127 300 IN A 127.0.0.2
            1.0.0.127 300 IN TXT "listed for the console tests"
            """);
        Serve = await ServeProcess.StartAsync(Data, _dns.EndpointText, ServeProcess.WriteConfig(Work), null, "--dnsbl", "bl.console.test", "--accept-domain", "mx.test");
        Browser = new HeadlessChromium();
    }

    /// <summary>Sends a message with swaks and waits until it is quarantined; returns its id.</summary>
    public async Task<string> QuarantineAsync(string mailFrom, string message)
    {
        string file = Path.Combine(Work, Guid.NewGuid().ToString("N") + ".eml");
        await File.WriteAllBytesAsync(file, Encoding.UTF8.GetBytes(message));
        var (exitCode, output) = await ExternalProcess.RunAsync("swaks", ["--server", $"127.0.0.1:{Serve.SmtpPort}", "--from", mailFrom, "--to", "reviewer@mx.test", "--helo", "client.test", "--data", "@" + file], TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, $"swaks failed:\n{output}");
        string queued = output.Split('\n').Single(l => l.Contains("queued as", StringComparison.Ordinal));
        string id = queued[(queued.LastIndexOf(' ') + 1)..].Trim();
        string path = Path.Combine(Data, "quarantine", id + ".eml");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(path))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{id} was not quarantined:\n{Serve.Output}");
            await Task.Delay(50);
        }

        return id;
    }

    /// <summary>
    /// Opens a quarantine list page and returns the list's text, reloading until every id is listed (or 15 s pass, and
    /// the caller's assertion reports it): the console's index may be up to its freshness (1 s) behind the store.
    /// </summary>
    public string OpenList(string pathAndQuery, params string[] ids)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            Browser.Driver.Navigate().GoToUrl(BaseUrl + pathAndQuery);
            string listed = Browser.Find(By.Id("quarantine")).Text;
            if (ids.All(id => listed.Contains(id, StringComparison.Ordinal)) || DateTime.UtcNow >= deadline)
            {
                return listed;
            }

            Thread.Sleep(250);
        }
    }

    public static string Message(string from, string subject, string body, string contentType = "text/plain; charset=utf-8", string extraHeaders = "") =>
        $"From: {from}\r\nTo: Reviewer <reviewer@mx.test>\r\nSubject: {subject}\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{Guid.NewGuid():N}@console.test>\r\n{extraHeaders}MIME-Version: 1.0\r\nContent-Type: {contentType}\r\n\r\n{body}\r\n";

    public async Task DisposeAsync()
    {
        Browser?.Dispose();
        Serve?.Dispose();
        Canary.Dispose();
        await _dns.DisposeAsync();
        Directory.Delete(Work, recursive: true);
    }
}
