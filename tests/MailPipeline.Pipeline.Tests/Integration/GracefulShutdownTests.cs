using System.Diagnostics;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;
using MimeKit;

namespace MailPipeline.Pipeline.Tests.Integration;

/// <summary>Ctrl-C (SIGINT) right after a burst of accepted mail: serve drains it all before exiting 0, no restart needed.</summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class GracefulShutdownTests(DnsServerFixture dns) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("mp-sigint-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact(Timeout = 180_000)]
    public async Task Serve_SigintAfterABurst_EveryAcceptedMessageRoutedAndExitZero()
    {
        // arrange
        string data = Path.Combine(_work, "data");
        int port = FreePort.Next();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { ServeProcess.CliPath, "serve", "--data", data, "--smtp", $"127.0.0.1:{port}", "--http", $"127.0.0.1:{FreePort.Next()}", "--resolver", dns.EndpointText, "--config", ServeProcess.WriteConfig(_work) })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = new System.Text.StringBuilder();
        var started = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data?.Contains("SMTP on", StringComparison.Ordinal) == true)
            {
                started.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var ids = new List<string>();
            using (var client = new SmtpClient { LocalDomain = "client.test" })
            {
                await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
                for (int i = 0; i < 40; i++)
                {
                    var message = new MimeMessage();
                    message.From.Add(new MailboxAddress("Bulk", "bulk@pipeline.test"));
                    message.To.Add(new MailboxAddress("Bob", "bob@localhost"));
                    message.Subject = $"drain {i}";
                    message.Body = new TextPart("plain") { Text = "accepted just before Ctrl-C" };
                    string reply = await client.SendAsync(message);
                    ids.Add(reply[(reply.LastIndexOf(' ') + 1)..].Trim());
                }

                await client.DisconnectAsync(true);
            }

            // act: SIGINT, as Ctrl-C in a terminal
            var (killExit, killOutput) = await ExternalProcess.RunAsync("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            Assert.True(killExit == 0, killOutput);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));

            // assert
            string text;
            lock (output)
            {
                text = output.ToString();
            }

            Assert.True(process.ExitCode == 0, text);
            Assert.Contains("mailpipeline serve: stopped", text, StringComparison.Ordinal);
            foreach (string id in ids)
            {
                Assert.True(File.Exists(Path.Combine(data, "deliver", id + ".eml")) || File.Exists(Path.Combine(data, "quarantine", id + ".eml")), $"{id} not routed before exit\n{text}");
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
