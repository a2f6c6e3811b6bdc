using System.CommandLine;
using System.Net;
using System.Text;
using MailPipeline.Cli.Check;
using MailPipeline.Core;
using MailPipeline.Core.Authentication;

namespace MailPipeline.Cli.Commands;

/// <summary>
/// <c>mailpipeline check --ip ADDR --helo NAME --mail-from ADDR [--rcpt ADDR]... [--resolver HOST:PORT] [--dnsbl ZONE]...
/// [--config FILE] [--json] FILE|-</c>: the whole authentication of one message (SPF, DKIM, ARC, iprev, DNS lists,
/// DMARC, the verdict and the Authentication-Results header), as the pipeline would do it.
/// <c>mailpipeline check --batch ENVELOPES.jsonl [--parallel N] ...</c>: the same for many messages, one JSON line each,
/// in input order. Exit code 0 whatever the verdicts; 1 when a message (or a batch line) could not be read;
/// 2 for bad arguments or configuration.
/// </summary>
internal static class CheckCommand
{
    /// <summary>Where <c>-</c> reads the message from; tests replace it.</summary>
    internal static Func<Stream> StandardInput { get; set; } = Console.OpenStandardInput;

    public static Command Create()
    {
        var ip = new Option<string?>("--ip")
        {
            Description = "The SMTP client's address (IPv4 or IPv6).",
            HelpName = "ADDR",
            Validators = { result => ValidateIp(result.GetValueOrDefault<string?>(), result.AddError) },
        };
        var helo = new Option<string?>("--helo") { Description = "The HELO/EHLO name the client gave.", HelpName = "NAME" };
        var mailFrom = new Option<string?>("--mail-from")
        {
            Description = "The MAIL FROM reverse-path; \"\" or \"<>\" is the null sender (a bounce; SPF checks the HELO name).",
            HelpName = "ADDR",
        };
        var rcpt = new Option<string[]>("--rcpt") { Description = "A RCPT TO address (repeatable).", HelpName = "ADDR", Arity = ArgumentArity.ZeroOrMore };
        var dnsbl = ReputationCommand.DnsblOption();
        var config = new Option<string?>("--config")
        {
            Description = "A JSON file with the application's configuration sections (Dns, Spf, Dkim, Arc, Reputation, Iprev, Dmarc, AuthenticationResults, Verdict).",
            HelpName = "FILE",
        };
        var batch = new Option<string?>("--batch")
        {
            Description = "Check every envelope of a JSON Lines file ({\"file\",\"ip\",\"helo\",\"mailFrom\",\"rcptTo\"} per line; paths relative to it); prints one JSON line per input line, in order.",
            HelpName = "ENVELOPES.jsonl",
        };
        var parallel = new Option<int>("--parallel")
        {
            Description = "Batch: messages checked at once (default: the processor count).",
            HelpName = "N",
            DefaultValueFactory = _ => Environment.ProcessorCount,
            Validators =
            {
                result =>
                {
                    if (result.GetValueOrDefault<int>() is < 1 or > 1024)
                    {
                        result.AddError("--parallel must be between 1 and 1024.");
                    }
                },
            },
        };
        var resolver = CommonOptions.Resolver();
        var json = CommonOptions.Json();
        var hostName = CommonOptions.HostName();
        var file = new Argument<string?>("FILE") { Description = "The message file, or - for standard input.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("check", "Authenticate a message (SPF, DKIM, ARC, iprev, DNS lists, DMARC) and print the verdict and the Authentication-Results header.")
        {
            ip, helo, mailFrom, rcpt, dnsbl, config, json, batch, parallel, resolver, hostName, file,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(batch) is not null)
            {
                foreach (var single in new Option[] { ip, helo, mailFrom, rcpt, json })
                {
                    if (result.GetResult(single) is not null)
                    {
                        result.AddError($"{single.Name} describes one message: with --batch, each envelope line gives it (and the output is always JSON lines).");
                    }
                }

                if (result.GetValue(file) is not null)
                {
                    result.AddError("Give either --batch ENVELOPES.jsonl or a message FILE, not both.");
                }

                return;
            }

            if (result.GetResult(parallel) is not null)
            {
                result.AddError("--parallel applies to --batch only.");
            }

            if (result.GetValue(file) is null)
            {
                result.AddError("Give the message FILE (or - for standard input), or --batch ENVELOPES.jsonl.");
            }

            if (result.GetResult(ip) is null)
            {
                result.AddError("--ip is required: the SMTP client's address.");
            }

            if (result.GetResult(mailFrom) is null)
            {
                result.AddError("--mail-from is required (\"\" for the null sender).");
            }

            if (string.IsNullOrWhiteSpace(result.GetValue(helo)))
            {
                result.AddError("--helo is required: the HELO/EHLO name.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var output = parse.InvocationConfiguration.Output;
            MailAuthenticationOptions options;
            MessageAuthenticator authenticator;
            try
            {
                // Validated once, after --dnsbl is added: validation walks every option by reflection, a visible part
                // of a short command's start-up.
                var configFile = parse.GetValue(config);
                var extraZones = parse.GetValue(dnsbl) ?? [];
                options = CheckConfiguration.Load(configFile, parse.GetValue(hostName), validate: extraZones.Length == 0);
                ReputationCommand.AddZones(options.Reputation, extraZones); // lists from --config keep their own settings
                if (extraZones.Length > 0)
                {
                    CheckConfiguration.Validate(options, configFile is null ? "the configuration with --dnsbl" : $"'{configFile}' with --dnsbl");
                }

                authenticator = new MessageAuthenticator(CommonOptions.CreateResolver(parse.GetValue(resolver), options.Dns), options);
            }
            catch (Exception ex) when (ex is CheckConfigurationException or ArgumentException)
            {
                await error.WriteLineAsync($"mailpipeline: {ex.Message}");
                return MailPipelineCommand.BadArguments;
            }

            if (parse.GetValue(batch) is { } batchFile)
            {
                return await RunBatchAsync(authenticator, batchFile, parse.GetValue(parallel), output, error, cancellationToken);
            }

            var path = parse.GetValue(file)!;
            byte[] message;
            try
            {
                message = await ReadMessageAsync(path, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"mailpipeline: cannot read the message '{path}': {ex.Message}");
                return MailPipelineCommand.Failure;
            }

            var envelope = new AuthenticationEnvelope(
                IPAddress.Parse(parse.GetValue(ip)!.Trim()),
                parse.GetValue(helo)!.Trim(),
                CheckEnvelope.NormalizeMailFrom(parse.GetValue(mailFrom)),
                parse.GetValue(rcpt) ?? []);
            var report = await authenticator.AuthenticateAsync(envelope, message, cancellationToken: cancellationToken);
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(report.ToJson());
            }
            else
            {
                await CheckTextOutput.WriteAsync(output, report);
            }

            return MailPipelineCommand.Success;
        });
        return command;
    }

    private static async Task<int> RunBatchAsync(MessageAuthenticator authenticator, string batchFile, int parallel, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        StreamReader reader;
        try
        {
            reader = new StreamReader(batchFile, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Options = FileOptions.Asynchronous | FileOptions.SequentialScan });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"mailpipeline: cannot read the batch file '{batchFile}': {ex.Message}");
            return MailPipelineCommand.Failure;
        }

        CheckBatch.Summary summary;
        var line = Output.ProgressLine.For(error);
        using (reader)
        {
            var baseDirectory = Path.GetDirectoryName(Path.GetFullPath(batchFile))!;
            try
            {
                // Console.Out flushes through a 256-character buffer on every write: several write(2) calls per result
                // line. Standard output gets its own buffer instead, flushed by the batch after each run of lines it writes.
                var lines = ReferenceEquals(output, Console.Out)
                    ? new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16) { AutoFlush = false }
                    : output;
                try
                {
                    summary = await new CheckBatch(authenticator, parallel).RunAsync(reader, baseDirectory, lines, cancellationToken, line?.Reporting<CheckBatch.Summary>(counts => string.Create(
                        System.Globalization.CultureInfo.InvariantCulture,
                        $"check: {counts.Messages} envelopes, {counts.Errors} with errors, {counts.Messages / Math.Max(0.001, line.Elapsed.TotalSeconds):0} msg/s")));
                }
                finally
                {
                    if (!ReferenceEquals(lines, output))
                    {
                        await lines.DisposeAsync();
                    }
                }
            }
            catch (IOException ex)
            {
                line?.Finish();
                await error.WriteLineAsync($"mailpipeline: the batch '{batchFile}' stopped (reading it or writing the results failed): {ex.Message}");
                return MailPipelineCommand.Failure;
            }
        }

        line?.Finish();
        await error.WriteLineAsync($"mailpipeline: checked {summary.Messages} envelopes, {summary.Errors} with errors.");
        return summary.Errors == 0 ? MailPipelineCommand.Success : MailPipelineCommand.Failure;
    }

    private static async Task<byte[]> ReadMessageAsync(string path, CancellationToken cancellationToken)
    {
        if (path != "-")
        {
            return await File.ReadAllBytesAsync(path, cancellationToken);
        }

        await using var input = StandardInput();
        using var buffer = new MemoryStream();
        await input.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    private static void ValidateIp(string? value, Action<string> addError)
    {
        if (value is not null && !IPAddress.TryParse(value.Trim(), out _))
        {
            addError($"'{value}' is not an IP address.");
        }
    }
}
