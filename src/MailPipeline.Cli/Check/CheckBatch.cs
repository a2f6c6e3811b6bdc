using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MailPipeline.Core.Authentication;

namespace MailPipeline.Cli.Check;

/// <summary>
/// <c>check --batch ENVELOPES.jsonl</c>: one envelope per input line, up to <c>parallel</c> messages authenticated at
/// once through one shared authenticator (so one warm DNS cache), one JSON output line per input line in input order.
/// Streaming with bounded memory: at most <c>2 × parallel</c> messages are read, running or waiting for their turn.
/// </summary>
internal sealed class CheckBatch(MessageAuthenticator authenticator, int parallel)
{
    /// <summary>The batch lines' JSON: the report's conventions (camelCase, nulls omitted, relaxed escaping), source-generated.</summary>
    private static readonly CheckBatchJsonContext Json = new(new JsonSerializerOptions(AuthenticationReport.JsonOptions)
    {
        TypeInfoResolver = null,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    });

    /// <summary>Counts of a finished batch.</summary>
    public readonly record struct Summary(int Messages, int Errors);

    /// <summary>Runs the batch; writes each result line as soon as every earlier line has been written.</summary>
    /// <remarks>
    /// <c>parallel</c> worker loops each take the next line, check it and hand the result to the ordered writer, which writes
    /// every result whose turn has come and flushes once per run of lines. No task, channel hop or thread wake-up per message:
    /// on a batch of small messages those cost as much CPU as the checks. A worker waits before taking a line while
    /// <c>2 × parallel</c> lines are taken but not yet written, so a slow message bounds how far the others run ahead.
    /// </remarks>
    /// <param name="input">The JSON Lines envelopes.</param>
    /// <param name="baseDirectory">Message paths are relative to it.</param>
    /// <param name="output">Where result lines go.</param>
    /// <param name="cancellationToken">Stops the batch.</param>
    /// <param name="progress">Told the counts after each written line (a terminal's progress line).</param>
    public async Task<Summary> RunAsync(TextReader input, string baseDirectory, TextWriter output, CancellationToken cancellationToken, IProgress<Summary>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallel, 1);

        // Stops the workers when reading the batch or writing the results fails (e.g. the output pipe closed).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var batch = new OrderedBatch(input, output, 2 * parallel, progress);
        var workers = new Task[parallel];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = Task.Run(() => WorkAsync(batch, baseDirectory, stop), CancellationToken.None);
        }

        try
        {
            await Task.WhenAll(workers).ConfigureAwait(false);
        }
        catch (Exception)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            var failure = workers.Select(w => w.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException);
            if (failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }

            throw;
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new Summary(batch.Messages, batch.Errors);
    }

    private async Task WorkAsync(OrderedBatch batch, string baseDirectory, CancellationTokenSource stop)
    {
        var token = stop.Token;
        try
        {
            while (true)
            {
                await batch.WaitForTurnAsync(token).ConfigureAwait(false);
                if (!batch.TryTake(out var sequence, out var number, out var line))
                {
                    return;
                }

                var (text, failed) = await EvaluateLineAsync(number, line, baseDirectory, token).ConfigureAwait(false);
                batch.Complete(sequence, text, failed);
            }
        }
        catch (Exception)
        {
            // One worker's failure (I/O on the batch file or the output) ends the others too.
            await stop.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The shared state of one batch: the input, the reorder buffer and the read-ahead window.</summary>
    private sealed class OrderedBatch(TextReader input, TextWriter output, int window, IProgress<Summary>? progress) : IDisposable
    {
        private readonly Lock _read = new();
        private readonly Lock _write = new();
        private readonly SemaphoreSlim _window = new(window);
        private readonly Dictionary<int, (string Text, bool Failed)> _done = [];
        private int _lineNumber;
        private int _taken;
        private int _nextToWrite;
        private bool _exhausted;

        public int Messages { get; private set; }

        public int Errors { get; private set; }

        public Task WaitForTurnAsync(CancellationToken cancellationToken) => _window.WaitAsync(cancellationToken);

        /// <summary>The next non-blank line with its 1-based line number and its sequence among taken lines.</summary>
        public bool TryTake(out int sequence, out int number, out string line)
        {
            lock (_read)
            {
                while (!_exhausted)
                {
                    var next = input.ReadLine();
                    if (next is null)
                    {
                        _exhausted = true;
                        break;
                    }

                    _lineNumber++;
                    if (!string.IsNullOrWhiteSpace(next))
                    {
                        sequence = _taken++;
                        number = _lineNumber;
                        line = next;
                        return true;
                    }
                }
            }

            _window.Release(); // the turn this worker waited for is not used
            sequence = number = 0;
            line = string.Empty;
            return false;
        }

        /// <summary>Records a result and writes every result whose turn has come, then flushes once.</summary>
        public void Complete(int sequence, string text, bool failed)
        {
            lock (_write)
            {
                _done[sequence] = (text, failed);
                var wrote = false;
                while (_done.Remove(_nextToWrite, out var result))
                {
                    output.WriteLine(result.Text);
                    Messages++;
                    Errors += result.Failed ? 1 : 0;
                    _nextToWrite++;
                    _window.Release();
                    progress?.Report(new Summary(Messages, Errors));
                    wrote = true;
                }

                if (wrote)
                {
                    output.Flush();
                }
            }
        }

        public void Dispose() => _window.Dispose();
    }

    private async Task<(string Line, bool Failed)> EvaluateLineAsync(int number, string line, string baseDirectory, CancellationToken cancellationToken)
    {
        BatchEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(line, Json.BatchEnvelope);
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

        // The message goes into a pooled buffer (returned when its report is written), not a fresh array per
        // message: large messages would otherwise land on the large-object heap and force gen-2 collections.
        byte[] buffer;
        int length;
        try
        {
            (buffer, length) = ReadPooled(Path.Combine(baseDirectory, envelope.File));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return (ErrorLine(number, envelope.File, $"cannot read the message: {ex.Message}"), true);
        }

        try
        {
            var authentication = new AuthenticationEnvelope(
                ip,
                string.IsNullOrWhiteSpace(envelope.Helo) ? null : envelope.Helo.Trim(),
                CheckEnvelope.NormalizeMailFrom(envelope.MailFrom),
                envelope.RcptTo ?? []);
            AuthenticationReport report;
            try
            {
                report = await authenticator.AuthenticateAsync(authentication, buffer.AsMemory(0, length), cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A defect in a check must not end the batch: the line says so and the rest still runs.
                return (ErrorLine(number, envelope.File, $"the checks failed: {ex.GetType().Name}: {ex.Message}"), true);
            }

            // Written once: the report serialises straight to UTF-8 with "line" first.
            var json = new ArrayBufferWriter<byte>(4096);
            (report with { Line = number, File = envelope.File }).WriteJson(json);
            return (Encoding.UTF8.GetString(json.WrittenSpan), false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads a whole file into a rented array: open, one size query, reads until that size, close. Synchronously: the caller
    /// is already a pool thread, and a local read is short.
    /// </summary>
    private static (byte[] Buffer, int Length) ReadPooled(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var size = RandomAccess.GetLength(handle);
        if (size > Array.MaxLength)
        {
            throw new IOException($"the file is {size} bytes, more than a message can be");
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max((int)size, 1));
        var length = 0;
        try
        {
            int read;
            while (length < size && (read = RandomAccess.Read(handle, buffer.AsSpan(length, (int)size - length), length)) > 0)
            {
                length += read;
            }

            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static string ErrorLine(int number, string? file, string error) =>
        JsonSerializer.Serialize(new BatchError(number, file, error), Json.BatchError);
}

/// <summary>One output line for an input line that could not be checked.</summary>
/// <param name="Line">The input line number.</param>
/// <param name="File">The message file, when the line named one.</param>
/// <param name="Error">What went wrong.</param>
internal sealed record BatchError(int Line, string? File, string Error);

/// <summary>One input line.</summary>
/// <param name="File">The message file, relative to the batch file.</param>
/// <param name="Ip">The SMTP client's address.</param>
/// <param name="Helo">The HELO/EHLO name.</param>
/// <param name="MailFrom">MAIL FROM.</param>
/// <param name="RcptTo">RCPT TO addresses.</param>
internal sealed record BatchEnvelope(string? File, string? Ip, string? Helo, string? MailFrom, IReadOnlyList<string>? RcptTo);

/// <summary>Source-generated JSON for the batch lines (no reflection per line).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(BatchEnvelope))]
[JsonSerializable(typeof(BatchError))]
internal sealed partial class CheckBatchJsonContext : JsonSerializerContext;
