using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using MailPipeline.Cli.DeadLetters;

namespace MailPipeline.Cli.Commands;

/// <summary>
/// <c>mailpipeline dlq peek|show|resubmit|purge|summary</c>: dead-letter review against any Service Bus namespace.
/// The Service Bus work is in <see cref="DeadLetterService"/>; this file parses, prints and maps failures to exit codes.
/// </summary>
internal static class DlqCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Where <c>purge</c> reads its confirmation (the console unless a test sets it).</summary>
    internal static Func<TextReader> ConfirmationInput { get; set; } = () => Console.In;

    public static Command Create()
    {
        var command = new Command("dlq", "Review dead-letter queues: peek, show, resubmit, purge, summary.");
        command.Subcommands.Add(CreatePeek());
        command.Subcommands.Add(CreateShow());
        command.Subcommands.Add(CreateResubmit());
        command.Subcommands.Add(CreatePurge());
        command.Subcommands.Add(CreateSummary());
        return command;
    }

    private static Command CreatePeek()
    {
        var connection = new ConnectionOptions();
        var entity = EntityOption();
        var max = new Option<int>("--max") { Description = "How many messages to list.", DefaultValueFactory = _ => 100 };
        max.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() <= 0)
            {
                r.AddError("--max must be positive.");
            }
        });
        var json = CommonOptions.Json();
        var command = new Command("peek", "List dead-lettered messages without locking them.") { entity, max, json };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, connection, async (service, output) =>
        {
            var address = EntityAddress.Parse(parse.GetValue(entity)!);
            var messages = await service.PeekAsync(address, parse.GetValue(max), cancellationToken);
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(messages, JsonOptions));
            }
            else
            {
                await output.WriteLineAsync($"{messages.Count} dead-lettered message(s) in {address}{(messages.Count == parse.GetValue(max) ? " (first " + messages.Count + ")" : string.Empty)}");
                if (messages.Count > 0)
                {
                    await WriteTableAsync(output, messages);
                }
            }

            return MailPipelineCommand.Success;
        }));
        return command;
    }

    private static Command CreateShow()
    {
        var connection = new ConnectionOptions();
        var entity = EntityOption();
        var sequence = new Option<long>("--seq") { Description = "The message's sequence number (from peek).", Required = true, HelpName = "N" };
        var json = CommonOptions.Json();
        var command = new Command("show", "Show one dead-lettered message: every property and the body.") { entity, sequence, json };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, connection, async (service, output) =>
        {
            var address = EntityAddress.Parse(parse.GetValue(entity)!);
            var message = await service.ShowAsync(address, parse.GetValue(sequence), cancellationToken);
            await output.WriteLineAsync(parse.GetValue(json) ? JsonSerializer.Serialize(Describe(address, message), JsonOptions) : FormatMessage(address, message));
            return MailPipelineCommand.Success;
        }));
        return command;
    }

    private static Command CreateResubmit()
    {
        var connection = new ConnectionOptions();
        var entity = EntityOption();
        var selection = new SelectionOptions(allowOlderThan: false);
        var dryRun = new Option<bool>("--dry-run") { Description = "List what would be resubmitted; change nothing." };
        var command = new Command(
            "resubmit",
            "Send a copy of dead-lettered messages back to their entity (a subscription's copy goes to its topic, addressed to that subscription alone), then remove them from the dead-letter queue.")
        { entity, dryRun };
        selection.AddTo(command);
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, connection, async (service, output) =>
        {
            var address = EntityAddress.Parse(parse.GetValue(entity)!);
            var selected = selection.Read(parse);
            var route = connection.Topology(parse).RouteFor(address);
            var destination = route.EntityPath + (route.Properties.Count > 0 ? " with " + string.Join(", ", route.Properties.Select(p => $"{p.Key}={p.Value}")) : string.Empty);
            var error = parse.InvocationConfiguration.Error;
            var result = await service.ResubmitAsync(address, selected, parse.GetValue(dryRun), ProgressPrinter.For(error, "resubmit"), cancellationToken);
            if (parse.GetValue(dryRun))
            {
                await output.WriteLineAsync($"Dry run: would resubmit {result.Selected} message(s) ({selected}) from {address} to {destination}.");
                if (result.Matches.Count > 0)
                {
                    await WriteTableAsync(output, result.Matches);
                }
            }
            else
            {
                await output.WriteLineAsync($"Resubmitted {result.Processed} of {result.Selected} selected message(s) ({selected}) from {address} to {destination}.");
            }

            return await ReportGapsAsync(output, selected, result);
        }));
        return command;
    }

    private static Command CreatePurge()
    {
        var connection = new ConnectionOptions();
        var entity = EntityOption();
        var selection = new SelectionOptions(allowOlderThan: true);
        var yes = new Option<bool>("--yes") { Description = "Do not ask for confirmation." };
        var command = new Command("purge", "Delete dead-lettered messages for good.") { entity, yes };
        selection.AddTo(command);
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, connection, async (service, output) =>
        {
            var address = EntityAddress.Parse(parse.GetValue(entity)!);
            var selected = selection.Read(parse);
            if (!parse.GetValue(yes))
            {
                var matches = await service.SelectAsync(address, selected, cancellationToken);
                if (matches.Count == 0)
                {
                    await output.WriteLineAsync($"Nothing to purge: no dead-lettered message in {address} matches ({selected}).");
                    return MailPipelineCommand.Success;
                }

                await output.WriteAsync($"Delete {matches.Count} dead-lettered message(s) ({selected}) from {address} for good? [y/N] ");
                var answer = await ConfirmationInput().ReadLineAsync(cancellationToken);
                await output.WriteLineAsync();
                if (answer is null || !answer.Trim().StartsWith('y'))
                {
                    await output.WriteLineAsync("Not confirmed: nothing was deleted (pass --yes to skip the question).");
                    return MailPipelineCommand.Failure;
                }
            }

            var result = await service.PurgeAsync(address, selected, ProgressPrinter.For(parse.InvocationConfiguration.Error, "purge"), cancellationToken);
            await output.WriteLineAsync($"Purged {result.Processed} of {result.Selected} selected message(s) ({selected}) from {address}.");
            return await ReportGapsAsync(output, selected, result);
        }));
        return command;
    }

    private static Command CreateSummary()
    {
        var connection = new ConnectionOptions();
        var json = CommonOptions.Json();
        var command = new Command("summary", "Every queue and subscription of the topology with its dead-letter count by reason.") { json };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, connection, async (service, output) =>
        {
            var rows = new List<SummaryRow>();
            foreach (var address in connection.Topology(parse).Entities)
            {
                try
                {
                    var counts = await service.CountByReasonAsync(address, cancellationToken);
                    rows.Add(new SummaryRow(address.ToString(), counts.Values.Sum(), counts, null));
                }
                catch (DeadLetterException ex) when (ex.Failure is DeadLetterFailure.EntityNotFound or DeadLetterFailure.AccessDenied)
                {
                    rows.Add(new SummaryRow(address.ToString(), null, new Dictionary<string, int>(), ex.Message));
                }
            }

            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(rows, JsonOptions));
            }
            else
            {
                var width = Math.Max("ENTITY".Length, rows.Max(r => r.Entity.Length)) + 2;
                await output.WriteLineAsync("ENTITY".PadRight(width) + "DEAD-LETTERED  BY REASON");
                foreach (var row in rows)
                {
                    var detail = row.Error ?? string.Join(", ", row.ByReason.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value}"));
                    var count = row.Count?.ToString(CultureInfo.InvariantCulture) ?? "error";
                    await output.WriteLineAsync((row.Entity.PadRight(width) + count.PadRight(15) + detail).TrimEnd());
                }
            }

            return rows.Any(r => r.Error is not null) ? MailPipelineCommand.Failure : MailPipelineCommand.Success;
        }));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, ConnectionOptions connection, Func<DeadLetterService, TextWriter, Task<int>> action)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        ServiceBusClient client;
        ServiceBusTopology topology;
        try
        {
            topology = connection.Topology(parse);
            client = connection.CreateClient(parse);
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or JsonException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"mailpipeline dlq: {ex.Message}");
            return MailPipelineCommand.BadArguments;
        }

        await using (client)
        {
            try
            {
                return await action(new DeadLetterService(client, topology), output);
            }
            catch (DeadLetterException ex)
            {
                await error.WriteLineAsync($"mailpipeline dlq: {ex.Message}");
                return MailPipelineCommand.Failure;
            }
            catch (ServiceBusException ex)
            {
                await error.WriteLineAsync($"mailpipeline dlq: Service Bus refused the operation ({ex.Reason}): {ex.Message}");
                return MailPipelineCommand.Failure;
            }
            catch (OperationCanceledException)
            {
                await error.WriteLineAsync("mailpipeline dlq: interrupted. Messages already handled are done; run the command again to finish (a resubmitted message is not sent twice).");
                return MailPipelineCommand.Failure;
            }
        }
    }

    private static async Task<int> ReportGapsAsync(TextWriter output, DeadLetterSelection selection, DeadLetterRunResult result)
    {
        var exit = MailPipelineCommand.Success;
        if (selection.SequenceNumbers is { } requested)
        {
            var absent = requested.Except(result.Matches.Select(m => m.SequenceNumber)).Order().ToList();
            if (absent.Count > 0)
            {
                await output.WriteLineAsync($"Not in the dead-letter queue: sequence number(s) {string.Join(", ", absent)}.");
                exit = MailPipelineCommand.Failure;
            }
        }

        if (result.Missing.Count > 0)
        {
            await output.WriteLineAsync($"{result.Missing.Count} selected message(s) were not handled (removed meanwhile, or locked by another receiver): {string.Join(", ", result.Missing)}.");
            exit = MailPipelineCommand.Failure;
        }

        return exit;
    }

    private static async Task WriteTableAsync(TextWriter output, IReadOnlyList<DeadLetterMessageInfo> messages)
    {
        var rows = messages.Select(m => new[]
        {
            m.SequenceNumber.ToString(CultureInfo.InvariantCulture),
            m.EnqueuedTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            m.DeliveryCount.ToString(CultureInfo.InvariantCulture),
            m.Reason ?? "-",
            Truncate(m.Description ?? "-", 64),
            m.MailId ?? "-",
            m.Size.ToString(CultureInfo.InvariantCulture),
        }).ToList();
        string[] header = ["SEQ", "ENQUEUED (UTC)", "DELIVERIES", "REASON", "DESCRIPTION", "MAIL ID", "SIZE"];
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        await output.WriteLineAsync(FormatRow(header, widths));
        foreach (var row in rows)
        {
            await output.WriteLineAsync(FormatRow(row, widths));
        }
    }

    private static string FormatRow(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static Dictionary<string, object?> Describe(EntityAddress address, ServiceBusReceivedMessage message)
    {
        var body = message.Body.ToArray();
        var text = TryDecodeText(body);
        return new Dictionary<string, object?>
        {
            ["entity"] = address.ToString(),
            ["sequenceNumber"] = message.SequenceNumber,
            ["messageId"] = message.MessageId,
            ["enqueuedTime"] = message.EnqueuedTime,
            ["deliveryCount"] = message.DeliveryCount,
            ["deadLetterReason"] = message.DeadLetterReason,
            ["deadLetterErrorDescription"] = message.DeadLetterErrorDescription,
            ["deadLetterSource"] = message.DeadLetterSource,
            ["correlationId"] = message.CorrelationId,
            ["subject"] = message.Subject,
            ["contentType"] = message.ContentType,
            ["timeToLive"] = message.TimeToLive == TimeSpan.MaxValue ? null : message.TimeToLive,
            ["expiresAt"] = message.ExpiresAt == DateTimeOffset.MaxValue ? null : message.ExpiresAt,
            ["applicationProperties"] = message.ApplicationProperties.ToDictionary(p => p.Key, p => p.Value?.ToString(), StringComparer.Ordinal),
            ["size"] = body.Length,
            ["body"] = text,
            ["bodyBase64"] = text is null ? Convert.ToBase64String(body) : null,
        };
    }

    private static string FormatMessage(EntityAddress address, ServiceBusReceivedMessage message)
    {
        var builder = new StringBuilder();
        void Line(string name, object? value)
        {
            if (value is not null && (value is not string s || s.Length > 0))
            {
                builder.Append(CultureInfo.InvariantCulture, $"{name + ":",-28}{value}").AppendLine();
            }
        }

        Line("Entity", $"{address} (dead-letter queue)");
        Line("Sequence number", message.SequenceNumber);
        Line("Message id", message.MessageId);
        Line("Enqueued (UTC)", message.EnqueuedTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        Line("Delivery count", message.DeliveryCount);
        Line("Dead-letter reason", message.DeadLetterReason);
        Line("Dead-letter description", message.DeadLetterErrorDescription);
        Line("Dead-letter source", message.DeadLetterSource);
        Line("Correlation id", message.CorrelationId);
        Line("Subject", message.Subject);
        Line("Content type", message.ContentType);
        if (message.ExpiresAt != DateTimeOffset.MaxValue)
        {
            Line("Expires (UTC)", message.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        }

        builder.AppendLine("Application properties:");
        foreach (var (key, value) in message.ApplicationProperties.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            builder.Append(CultureInfo.InvariantCulture, $"  {key} = {value}").AppendLine();
        }

        var body = message.Body.ToArray();
        var text = TryDecodeText(body);
        builder.Append(CultureInfo.InvariantCulture, $"Body ({body.Length} bytes{(text is null ? ", base64" : string.Empty)}):").AppendLine();
        builder.Append(text ?? Convert.ToBase64String(body));
        return builder.ToString();
    }

    private static string? TryDecodeText(byte[] body)
    {
        try
        {
            var text = new UTF8Encoding(false, true).GetString(body);
            return text.Any(c => char.IsControl(c) && c is not ('\r' or '\n' or '\t')) ? null : text;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static Option<string> EntityOption()
    {
        var option = new Option<string>("--entity")
        {
            Description = "The queue or subscription whose dead-letter queue to use: QUEUE or TOPIC/SUBSCRIPTION (e.g. mail-received/spf).",
            HelpName = "ENTITY",
            Required = true,
        };
        option.Validators.Add(r =>
        {
            try
            {
                EntityAddress.Parse(r.GetValueOrDefault<string>() ?? string.Empty);
            }
            catch (FormatException ex)
            {
                r.AddError(ex.Message);
            }
        });
        return option;
    }

    private sealed record SummaryRow(string Entity, int? Count, IReadOnlyDictionary<string, int> ByReason, string? Error);

    /// <summary>How to reach the namespace, and which topology to use.</summary>
    private sealed class ConnectionOptions
    {
        private readonly Option<string?> connectionString = new("--connection-string")
        {
            Description = $"Service Bus connection string (default: ${ServiceBusConnection.EnvironmentVariable}).",
            HelpName = "CONNECTION",
        };

        private readonly Option<string?> serviceBusNamespace = new("--namespace")
        {
            Description = "Namespace name or host; signs in with DefaultAzureCredential (az login, managed identity, environment).",
            HelpName = "NAMESPACE",
        };

        private readonly Option<FileInfo?> topology = new("--topology")
        {
            Description = "Topology JSON naming the entities (default: the pipeline's infra/topology.json, built in).",
            HelpName = "FILE",
        };

        public void AddTo(Command command)
        {
            command.Options.Add(connectionString);
            command.Options.Add(serviceBusNamespace);
            command.Options.Add(topology);
            command.Validators.Add(result =>
            {
                if (result.GetValue(connectionString) is not null && result.GetValue(serviceBusNamespace) is not null)
                {
                    result.AddError("Pass either --connection-string or --namespace, not both.");
                }
            });
        }

        public ServiceBusClient CreateClient(ParseResult parse) =>
            ServiceBusConnection.CreateClient(parse.GetValue(connectionString), parse.GetValue(serviceBusNamespace));

        public ServiceBusTopology Topology(ParseResult parse) =>
            parse.GetValue(topology) is { } file ? ServiceBusTopology.Load(file.FullName) : ServiceBusTopology.Embedded();
    }

    /// <summary>Exactly one of --seq, --all, --reason (and for purge --older-than).</summary>
    private sealed class SelectionOptions(bool allowOlderThan)
    {
        private readonly Option<long[]> sequenceNumbers = new("--seq")
        {
            Description = "Sequence number(s) of the messages (from peek).",
            HelpName = "N",
            AllowMultipleArgumentsPerToken = true,
        };

        private readonly Option<bool> all = new("--all") { Description = "Every dead-lettered message." };

        private readonly Option<string?> reason = new("--reason") { Description = "Messages with this dead-letter reason (e.g. MaxDeliveryCountExceeded).", HelpName = "REASON" };

        private readonly Option<string?> olderThan = new("--older-than") { Description = "Messages enqueued longer ago than this (7d, 12h, 30m, P7D).", HelpName = "DURATION" };

        public void AddTo(Command command)
        {
            command.Options.Add(sequenceNumbers);
            command.Options.Add(all);
            command.Options.Add(reason);
            if (allowOlderThan)
            {
                command.Options.Add(olderThan);
                olderThan.Validators.Add(r =>
                {
                    try
                    {
                        DurationParser.Parse(r.GetValueOrDefault<string?>() ?? string.Empty);
                    }
                    catch (FormatException ex)
                    {
                        r.AddError(ex.Message);
                    }
                });
            }

            command.Validators.Add(result =>
            {
                var chosen = (result.GetValue(sequenceNumbers) is { Length: > 0 } ? 1 : 0)
                    + (result.GetValue(all) ? 1 : 0)
                    + (result.GetValue(reason) is not null ? 1 : 0)
                    + (allowOlderThan && result.GetValue(olderThan) is not null ? 1 : 0);
                if (chosen != 1)
                {
                    result.AddError(allowOlderThan
                        ? "Choose the messages with exactly one of --seq N..., --all, --reason REASON, --older-than DURATION."
                        : "Choose the messages with exactly one of --seq N..., --all, --reason REASON.");
                }
            });
        }

        public DeadLetterSelection Read(ParseResult parse)
        {
            if (parse.GetValue(sequenceNumbers) is { Length: > 0 } numbers)
            {
                return DeadLetterSelection.Numbers(numbers);
            }

            if (parse.GetValue(all))
            {
                return DeadLetterSelection.Everything();
            }

            if (parse.GetValue(reason) is { } text)
            {
                return DeadLetterSelection.WithReason(text);
            }

            return DeadLetterSelection.OlderThan(DateTimeOffset.UtcNow - DurationParser.Parse(parse.GetValue(olderThan)!));
        }
    }
}
