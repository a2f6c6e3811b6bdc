using System.Text;
using System.Text.Json;
using MailPipeline.Cli.Check;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.TestSupport;

namespace MailPipeline.Cli.Tests.Check;

/// <summary>The batch runner reads ahead only as far as its reorder buffer allows while an early message is slow.</summary>
public sealed class CheckBatchBoundTests
{
    [Fact(Timeout = 60_000)]
    public async Task RunAsync_FirstMessageStalls_ReadsAheadOnlyABoundedNumberOfLines()
    {
        // arrange: the first message's DMARC lookup hangs until released; 200 fast messages follow it.
        const int parallel = 4;
        var folder = Directory.CreateTempSubdirectory("check-bound-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "slow.eml"), "From: a@slow.test\r\n\r\nx\r\n");
        await File.WriteAllTextAsync(Path.Combine(folder, "fast.eml"), "From: a@fast.test\r\n\r\nx\r\n");
        var lines = new StringBuilder();
        lines.AppendLine("{\"file\":\"slow.eml\",\"ip\":\"192.0.2.1\",\"helo\":\"h.test\",\"mailFrom\":\"\"}");
        for (var i = 0; i < 200; i++)
        {
            lines.AppendLine("{\"file\":\"fast.eml\",\"ip\":\"192.0.2.1\",\"helo\":\"h.test\",\"mailFrom\":\"\"}");
        }

        var zone = new InMemoryDnsResolver().AddTxt("_dmarc.fast.test", "v=DMARC1; p=none").AddTxt("_dmarc.slow.test", "v=DMARC1; p=none");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resolver = new GatedResolver(zone, "_dmarc.slow.test", gate.Task);
        var authenticator = new MessageAuthenticator(resolver, new MailAuthenticationOptions());
        var input = new CountingReader(lines.ToString());
        using var output = new StringWriter();

        // act
        var run = new CheckBatch(authenticator, parallel).RunAsync(input, folder, output, CancellationToken.None);
        await resolver.Reached.Task;
        while (input.LinesRead < parallel + 2)
        {
            await Task.Delay(10);
        }

        await Task.Delay(300); // give a runaway reader every chance to overrun
        var readWhileStalled = input.LinesRead;
        var writtenWhileStalled = output.ToString().Length;
        gate.SetResult();
        var summary = await run;

        // assert
        Assert.InRange(readWhileStalled, parallel + 1, (2 * parallel) + 2);
        Assert.Equal(0, writtenWhileStalled);
        Assert.Equal(new CheckBatch.Summary(201, 0), summary);
        var numbers = output.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n').Select(l => JsonDocument.Parse(l).RootElement.GetProperty("line").GetInt32());
        Assert.Equal(Enumerable.Range(1, 201), numbers);
        Directory.Delete(folder, recursive: true);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_OutputFails_SurfacesTheErrorAndWritesNoMore()
    {
        // arrange: the consumer of the results goes away (a closed pipe) after three lines of a long batch.
        var folder = Directory.CreateTempSubdirectory("check-broken-pipe-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "m.eml"), "From: a@fast.test\r\n\r\nx\r\n");
        var lines = string.Concat(Enumerable.Repeat("{\"file\":\"m.eml\",\"ip\":\"192.0.2.1\",\"helo\":\"h.test\",\"mailFrom\":\"\"}\n", 500));
        var authenticator = new MessageAuthenticator(new InMemoryDnsResolver().AddTxt("_dmarc.fast.test", "v=DMARC1; p=none"), new MailAuthenticationOptions());
        var output = new FailingWriter(3);

        // act
        var failure = await Record.ExceptionAsync(() => new CheckBatch(authenticator, 2).RunAsync(new StringReader(lines), folder, output, CancellationToken.None));

        // assert
        Assert.IsType<IOException>(failure);
        Assert.Equal(3, output.Written);
        Directory.Delete(folder, recursive: true);
    }

    private sealed class FailingWriter(int limit) : StringWriter
    {
        public int Written { get; private set; }

        public override void WriteLine(string? value)
        {
            if (Written == limit)
            {
                throw new IOException("Broken pipe");
            }

            Written++;
        }

        public override Task WriteLineAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default)
        {
            WriteLine(buffer.ToString());
            return Task.CompletedTask;
        }
    }

    private sealed class CountingReader(string text) : StringReader(text)
    {
        private int _lines;

        public int LinesRead => Volatile.Read(ref _lines);

        public override string? ReadLine()
        {
            var line = base.ReadLine();
            if (line is not null)
            {
                Interlocked.Increment(ref _lines);
            }

            return line;
        }

        public override ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken) => ValueTask.FromResult(ReadLine());
    }

    private sealed class GatedResolver(IDnsResolver inner, string gatedName, Task gate) : IDnsResolver
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<DnsResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            if (string.Equals(name.TrimEnd('.'), gatedName, StringComparison.OrdinalIgnoreCase))
            {
                Reached.TrySetResult();
                await gate.WaitAsync(cancellationToken);
            }

            return await inner.QueryAsync(name, type, cancellationToken);
        }
    }
}
