using System.Text;
using System.Text.Json;
using MailPipeline.Core.Authentication;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Delivery;
using MailPipeline.Pipeline.Ports;

namespace MailPipeline.Operations.Tests.Quarantine;

/// <summary>
/// Puts messages in quarantine through a real routed store, with the document the aggregator writes (verdict +
/// envelope) and a message whose header block starts with our Authentication-Results.
/// </summary>
public static class QuarantineSeeder
{
    public static Task RouteAsync(IRoutedMailStore store, string id, string from, string to, string subject, IReadOnlyList<string> reasons, DateTimeOffset receivedAt, string mailFrom = "bounce@envelope.example", string body = "Hello.")
    {
        string fromDomain = from[(from.LastIndexOf('@') + 1)..];
        var report = new AuthenticationReport
        {
            MessageId = id,
            Action = "quarantine",
            Reasons = reasons,
            ReceivedAt = receivedAt,
            DecidedAt = receivedAt.AddSeconds(1),
            AuthenticationResults = $"mx.test; dmarc=fail header.from={fromDomain}",
            Dmarc = new DmarcReport(MailPipeline.Core.AuthResult.Fail, fromDomain, "reject", "quarantine", "not aligned"),
        };
        var envelope = new MailEnvelope
        {
            MessageId = id,
            RawMessageReference = id,
            ClientAddress = "192.0.2.25",
            Helo = "client.example",
            MailFrom = mailFrom,
            Recipients = [to],
            ReceivedAt = receivedAt,
            ReceivedBy = "mx.test",
        };
        byte[] document = RoutedDocument.Compose(Encoding.UTF8.GetBytes(report.ToJson()), envelope);
        string message = $"Authentication-Results: mx.test; dmarc=fail header.from={fromDomain}\r\nReceived: from client.example\r\nFrom: Sender <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n{body}\r\n";
        return store.RouteAsync(id, RouteAction.Quarantine, new MemoryStream(Encoding.UTF8.GetBytes(message)), document);
    }
}
