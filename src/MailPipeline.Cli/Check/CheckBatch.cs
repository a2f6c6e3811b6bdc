using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using MailPipeline.Core.Authentication;

namespace MailPipeline.Cli.Check;

/// <summary>
/// <c>check --batch ENVELOPES.jsonl</c>: one envelope per input line, up to <c>parallel</c> messages authenticated at
/// once through one shared authenticator (so one warm DNS cache), one JSON output line per input line in input order.
/// Streaming with bounded memory: at most <c>2 × parallel</c> messages are read, running or waiting for their turn.
/// </summary>
internal sealed class CheckBatch(MessageAuthenticator authenticator, int parallel)
{
    /// <summary>Counts of a finished batch.</summary>
    public readonly record struct Summary(int Messages, int Errors);

    /// <summary>Runs the batch; writes each result line as soon as every earlier line has been written.</summary>
    /// <param name="input">The JSON Lines envelopes.</param>
    /// <param name="baseDirectory">Message paths are relative to it.</param>
    /// <param name="output">Where result lines go.</param>
    /// <param name="cancellationToken">Stops the batch.</param>
    /// <param name="progress">Told the counts after each written line (a terminal's progress line).</param>
    public async Task<Summary> RunAsync(TextReader input, string baseDirectory, TextWriter output, CancellationToken cancellationToken, IProgress<Summary>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallel, 1);
        using var slots = new SemaphoreSlim(parallel);

        // Stops the reader and the running checks when writing fails (e.g. the output pipe closed).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var token = stop.Token;
        var pending = Channel.CreateBounded<Task<(string Line, bool Failed)>>(new BoundedChannelOptions(parallel)
        {
            SingleReader = true,
            SingleWriter = true,
        });

        var producer = Task.Run(
            async () =>
            {
                try
                {
                    var number = 0;
                    while (await input.ReadLineAsync(token).ConfigureAwait(false) is { } line)
                    {
                        number++;
                        if (string.IsNullOrWhiteSpace(line))
                        {
                            continue;
                        }

                        await slots.WaitAsync(token).ConfigureAwait(false);
                        var lineNumber = number;
                        var work = Task.Run(
                            async () =>
                            {
                                try
                                {
                                    return await EvaluateLineAsync(lineNumber, line, baseDirectory, token).ConfigureAwait(false);
                                }
                                finally
                                {
                                    slots.Release();
                                }
                            },
                            token);
                        await pending.Writer.WriteAsync(work, token).ConfigureAwait(false);
                    }

                    pending.Writer.Complete();
                }
                catch (Exception ex)
                {
                    pending.Writer.Complete(ex);
                    throw;
                }
            },
            token);

        var messages = 0;
        var errors = 0;
        try
        {
            await foreach (var work in pending.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var (text, failed) = await work.ConfigureAwait(false);
                await output.WriteLineAsync(text.AsMemory(), cancellationToken).ConfigureAwait(false);
                messages++;
                errors += failed ? 1 : 0;
                progress?.Report(new Summary(messages, errors));
            }
        }
        catch (Exception)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            throw;
        }

        await producer.ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new Summary(messages, errors);
    }

    private async Task<(string Line, bool Failed)> EvaluateLineAsync(int number, string line, string baseDirectory, CancellationToken cancellationToken)
    {
        BatchEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize<BatchEnvelope>(line, BatchEnvelope.JsonOptions);
        }
        catch (JsonException ex)
        {
            return (ErrorLine(number, null, $"line {number} is not a JSON envelope: {ex.Message}"), true);
        }

        if (envelope is null)
        {
            return (ErrorLine(number, null, $"line {number} is not a JSON envelope object"), true);
        }

        if (string.IsNullOrWhiteSpace(envelope.File))
        {
            return (ErrorLine(number, null, "\"file\" is missing"), true);
        }

        if (envelope.Ip is null || !IPAddress.TryParse(envelope.Ip.Trim(), out var ip))
        {
            return (ErrorLine(number, envelope.File, $"\"ip\" is not an IP address: '{envelope.Ip}'"), true);
        }

        byte[] message;
        try
        {
            message = await File.ReadAllBytesAsync(Path.Combine(baseDirectory, envelope.File), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return (ErrorLine(number, envelope.File, $"cannot read the message: {ex.Message}"), true);
        }

        var authentication = new AuthenticationEnvelope(
            ip,
            string.IsNullOrWhiteSpace(envelope.Helo) ? null : envelope.Helo.Trim(),
            CheckEnvelope.NormalizeMailFrom(envelope.MailFrom),
            envelope.RcptTo ?? []);
        AuthenticationReport report;
        try
        {
            report = await authenticator.AuthenticateAsync(authentication, message, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A defect in a check must not end the batch: the line says so and the rest still runs.
            return (ErrorLine(number, envelope.File, $"the checks failed: {ex.GetType().Name}: {ex.Message}"), true);
        }

        return (WithLine(number, (report with { File = envelope.File }).ToJson()), false);
    }

    private static string ErrorLine(int number, string? file, string error) =>
        WithLine(number, JsonSerializer.Serialize(new BatchError(file, error), AuthenticationReport.JsonOptions));

    /// <summary>Puts <c>"line":N</c> first in a serialised JSON object, so every output line names its input line.</summary>
    private static string WithLine(int number, string jsonObject) => $"{{\"line\":{number},{jsonObject[1..]}";

    private sealed record BatchError(string? File, string Error);

    /// <summary>One input line.</summary>
    private sealed record BatchEnvelope(string? File, string? Ip, string? Helo, string? MailFrom, IReadOnlyList<string>? RcptTo)
    {
        public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
        };
    }
}
