using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MailPipeline.Core.Dmarc.Reporting;
using MailPipeline.Delivery;
using MailPipeline.Pipeline.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;

namespace MailPipeline.Pipeline.Reporting;

/// <summary>What happened to one report for one <c>rua</c> URI.</summary>
/// <param name="File">The report.</param>
/// <param name="Rua">The URI as published.</param>
/// <param name="Address">The mailbox (after verification), if any.</param>
/// <param name="Status"><c>sent</c>, <c>already-sent</c>, <c>would-send</c> (dry run), <c>deferred</c>, <c>waiting</c> (deferred, not due), <c>refused</c>, <c>rejected</c>, <c>given-up</c>.</param>
/// <param name="Detail">The relay's reply or the reason.</param>
public sealed record DmarcSendOutcome(DmarcReportFile File, string Rua, string? Address, string Status, string Detail);

/// <summary>
/// Sends aggregate reports (RFC 9990 §3 "Email") through the submission relay with <see cref="NextHopClient"/>: one
/// message per report and destination — our reporting address as sender, subject
/// <c>Report Domain: … Submitter: … Report-ID: &lt;…&gt;</c>, a text part and the <c>.xml.gz</c> as
/// <c>application/gzip</c> — after RFC 9990 §4 external destination verification. What was sent is recorded in
/// <c>dmarc/sent/</c> (one small JSON file per report and destination), so a report goes out once; a deferred one is
/// retried by a later run (backoff from 5 min to 2 h) until its day is more than <see cref="DmarcReportingOptions.SendDays"/> old.
/// </summary>
public sealed partial class DmarcReportSender
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly string _folder;
    private readonly DmarcReporterIdentity _identity;
    private readonly DmarcReportingOptions _options;
    private readonly DmarcReportDestinationVerifier _verifier;
    private readonly NextHopClient? _client;
    private readonly DeliveryRoute? _relay;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>Creates the sender.</summary>
    /// <param name="store">The counters' store (the record of what was sent lives beside them).</param>
    /// <param name="identity">Who we are.</param>
    /// <param name="options">The reporting options.</param>
    /// <param name="verifier">External destination verification.</param>
    /// <param name="client">The SMTP client (null: dry runs only).</param>
    /// <param name="relay">The submission relay (null: dry runs only).</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock.</param>
    public DmarcReportSender(LocalDiskDmarcReportStore store, DmarcReporterIdentity identity, DmarcReportingOptions options, DmarcReportDestinationVerifier verifier, NextHopClient? client, DeliveryRoute? relay, ILogger<DmarcReportSender>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(verifier);
        _folder = Path.Combine(store.Folder, "sent");
        _identity = identity;
        _options = options;
        _verifier = verifier;
        _client = client;
        _relay = relay;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Sends every report to every <c>rua</c> URI it has not yet gone to.</summary>
    /// <param name="files">The reports.</param>
    /// <param name="dryRun">Verify and say what would be sent; send and record nothing.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>One outcome per report and URI.</returns>
    public async Task<IReadOnlyList<DmarcSendOutcome>> SendAsync(IEnumerable<DmarcReportFile> files, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (!dryRun && (_client is null || _relay is null))
        {
            throw new InvalidOperationException("No submission relay is configured (DmarcReporting:RelayNextHop).");
        }

        var outcomes = new List<DmarcSendOutcome>();
        foreach (var file in files)
        {
            foreach (string rua in file.Rua)
            {
                var outcome = await SendOneAsync(file, rua, dryRun, cancellationToken).ConfigureAwait(false);
                Log.Outcome(_logger, file.FileName, rua, outcome.Address, outcome.Status, outcome.Detail);
                outcomes.Add(outcome);
            }
        }

        return outcomes;
    }

    /// <summary>The report message (RFC 9990 §3): MIME, the gzipped report attached as application/gzip.</summary>
    /// <param name="identity">Who we are.</param>
    /// <param name="file">The report.</param>
    /// <param name="address">The destination mailbox.</param>
    /// <param name="date">The Date field.</param>
    /// <returns>The message.</returns>
    public static MimeMessage Compose(DmarcReporterIdentity identity, DmarcReportFile file, string address, DateTimeOffset date)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(file);
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(identity.OrgName, identity.Email));
        message.To.Add(MailboxAddress.Parse(address));
        message.Subject = $"Report Domain: {file.PolicyDomain} Submitter: {identity.Receiver} Report-ID: <{file.ReportId}>";
        message.Date = date;
        // The Report-ID in the Message-ID (RFC 9990 §3 allows it) with the destination, so each copy's is unique.
        message.MessageId = Hash(address)[..8] + "." + file.ReportId;
        var text = new TextPart("plain")
        {
            Text = string.Create(CultureInfo.InvariantCulture, $"""
                This is a DMARC aggregate report (RFC 9990) from {identity.OrgName} ({identity.Receiver}).
                Policy domain: {file.PolicyDomain}
                Period: {file.Day:yyyy-MM-dd} 00:00:00 to 23:59:59 UTC
                Messages: {file.Messages} in {file.Records} record(s){(file.Parts > 1 ? $", part {file.Part} of {file.Parts}" : string.Empty)}
                Report-ID: <{file.ReportId}>
                Contact: {identity.Email}{(identity.ExtraContactInfo is null ? string.Empty : ", " + identity.ExtraContactInfo)}

                """),
        };
        var attachment = new MimePart("application", "gzip")
        {
            Content = new MimeContent(new MemoryStream(file.Content, writable: false)),
            ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
            ContentTransferEncoding = ContentEncoding.Base64,
            FileName = file.FileName,
        };
        message.Body = new Multipart("mixed") { text, attachment };
        return message;
    }

    private async Task<DmarcSendOutcome> SendOneAsync(DmarcReportFile file, string rua, bool dryRun, CancellationToken cancellationToken)
    {
        string path = Path.Combine(_folder, file.FileName + "!" + Hash(rua)[..16] + ".json");
        var state = Read(path);
        var now = _time.GetUtcNow();
        if (state is { Status: "sent" })
        {
            return new DmarcSendOutcome(file, rua, state.Address, "already-sent", $"sent {state.LastAttempt:u}: {state.Reply}");
        }

        if (state is { Status: "rejected" or "given-up" })
        {
            return new DmarcSendOutcome(file, rua, state.Address, state.Status, state.Reply ?? string.Empty);
        }

        if (state is { NextAttempt: { } due } && due > now && !dryRun)
        {
            return new DmarcSendOutcome(file, rua, state.Address, "waiting", $"deferred ({state.Reply}); next attempt {due:u}");
        }

        var destination = await _verifier.VerifyAsync(file.PolicyDomain, rua, cancellationToken).ConfigureAwait(false);
        if (destination.Status == DmarcDestinationStatus.Refused)
        {
            return new DmarcSendOutcome(file, rua, null, "refused", destination.Reason);
        }

        if (dryRun)
        {
            return destination.Status == DmarcDestinationStatus.Allowed
                ? new DmarcSendOutcome(file, rua, destination.Address, "would-send", $"{destination.Reason}; via {_relay?.ToString() ?? "(no relay configured)"}")
                : new DmarcSendOutcome(file, rua, null, "deferred", destination.Reason);
        }

        string status;
        string reply;
        if (destination.Status == DmarcDestinationStatus.TemporaryFailure)
        {
            (status, reply) = ("deferred", destination.Reason);
        }
        else
        {
            var message = Compose(_identity, file, destination.Address!, now);
            using var buffer = new MemoryStream();
            await message.WriteToAsync(FormatOptions.Default, buffer, cancellationToken).ConfigureAwait(false);
            var result = await _client!.SendAsync(_relay!, _identity.Email, [destination.Address!], buffer.ToArray(), new MessageTraits(), cancellationToken: cancellationToken).ConfigureAwait(false);
            var outcome = result.Outcomes.Count > 0 ? result.Outcomes[0] : new RecipientOutcome(destination.Address!, RecipientStatus.Deferred, result.Summary);
            (status, reply) = outcome.Status switch
            {
                RecipientStatus.Accepted => ("sent", outcome.Reply),
                RecipientStatus.Rejected => ("rejected", outcome.Reply),
                _ => ("deferred", string.IsNullOrEmpty(outcome.Reply) ? "relay not reached" : outcome.Reply),
            };
        }

        int attempts = (state?.Attempts ?? 0) + 1;
        DateTimeOffset? next = null;
        if (status == "deferred")
        {
            var dayEnd = new DateTimeOffset(file.Day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            if (now - dayEnd > TimeSpan.FromDays(_options.SendDays))
            {
                status = "given-up";
            }
            else
            {
                next = now + TimeSpan.FromMinutes(Math.Min(5 * Math.Pow(2, attempts - 1), 120));
            }
        }

        var record = new SentRecord(file.FileName, file.ReportId, rua, destination.Address, status, attempts, now, next, reply);
        await WriteAsync(path, record, cancellationToken).ConfigureAwait(false);
        return new DmarcSendOutcome(file, rua, destination.Address, status, next is null ? reply : $"{reply}; next attempt {next:u}");
    }

    private static SentRecord? Read(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<SentRecord>(File.ReadAllBytes(path), Json) : null;
        }
        catch (JsonException)
        {
            return null; // a torn record: the report is sent again, never lost
        }
    }

    private async Task WriteAsync(string path, SentRecord record, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_folder);
        await DurableFile.WriteAsync(path, JsonSerializer.SerializeToUtf8Bytes(record, Json), _folder, cancellationToken).ConfigureAwait(false);
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>The record of one report and destination (<c>dmarc/sent/&lt;file&gt;!&lt;hash&gt;.json</c>).</summary>
    private sealed record SentRecord(string File, string ReportId, string Rua, string? Address, string Status, int Attempts, DateTimeOffset LastAttempt, DateTimeOffset? NextAttempt, string? Reply);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2410, Level = LogLevel.Information, Message = "DMARC report {File} for {Rua} ({Address}): {Status}: {Detail}")]
        public static partial void Outcome(ILogger logger, string file, string rua, string? address, string status, string detail);
    }
}
