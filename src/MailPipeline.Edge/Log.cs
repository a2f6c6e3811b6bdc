using Microsoft.Extensions.Logging;

namespace MailPipeline.Edge;

/// <summary>The edge's log messages (named fields; never bodies, subjects or recipient local parts).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "SMTP edge listening on {Endpoint}")]
    public static partial void Listening(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Refused connection from {ClientIp}: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, string clientIp, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Session {SessionId} from {ClientIp} helo {Helo} ended: {Accepted} accepted, {Rejected} rejected, last {Result}, tls {Tls}")]
    public static partial void SessionEnded(ILogger logger, string sessionId, string clientIp, string? helo, int accepted, int rejected, string result, string? tls);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Accepted {MessageId} in session {SessionId} from {ClientIp}: {Size} octets, mail from domain {MailFromDomain}, {RecipientCount} recipients")]
    public static partial void Accepted(ILogger logger, string messageId, string sessionId, string clientIp, long size, string mailFromDomain, int recipientCount);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Rejected message in session {SessionId} from {ClientIp}: {Reason}")]
    public static partial void MessageRejected(ILogger logger, string sessionId, string clientIp, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "Storing message {MessageId} from {ClientIp} failed; replied 451")]
    public static partial void StoreFailed(ILogger logger, Exception exception, string messageId, string clientIp);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "Publishing message {MessageId} from {ClientIp} failed; replied 451")]
    public static partial void PublishFailed(ILogger logger, Exception exception, string messageId, string clientIp);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "Rolling back unpublished message {MessageId} failed; the spool keeps it for reconciliation")]
    public static partial void RollbackFailed(ILogger logger, Exception exception, string messageId);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Session {SessionId} faulted")]
    public static partial void SessionFaulted(ILogger logger, Exception exception, string sessionId);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "SMTP edge stopping: {ActiveSessions} sessions in flight, grace period {GracePeriod}")]
    public static partial void Stopping(ILogger logger, int activeSessions, TimeSpan gracePeriod);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "TLS certificate {Path} could not be loaded; keeping the previous one")]
    public static partial void CertificateReloadFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "TLS certificate loaded from {Path}, subject {Subject}, expires {NotAfter}")]
    public static partial void CertificateLoaded(ILogger logger, string path, string subject, DateTime notAfter);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "DATA refused in session {SessionId} from {ClientIp}: {Reason}")]
    public static partial void DataRefused(ILogger logger, string sessionId, string clientIp, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "Recipient refused in session {SessionId} from {ClientIp}: {Reason} (domain {Domain})")]
    public static partial void RecipientRefused(ILogger logger, string sessionId, string clientIp, string reason, string domain);

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Recipient in session {SessionId} from {ClientIp} not verified by the next hop ({Domain}): {Status}, {Action}: {Reply}")]
    public static partial void RecipientUnverified(ILogger logger, string sessionId, string clientIp, string domain, Delivery.RecipientProbeStatus status, string action, string reply);

    [LoggerMessage(EventId = 31, Level = LogLevel.Information, Message = "In-session checks in session {SessionId} from {ClientIp}: {Outcome} ({Detail}) in {DurationMs} ms")]
    public static partial void InSessionDecision(ILogger logger, string sessionId, string clientIp, string outcome, string detail, double durationMs);

    [LoggerMessage(EventId = 32, Level = LogLevel.Information, Message = "In-session checks warmed up: {Outcome} in {DurationMs} ms")]
    public static partial void InSessionWarmedUp(ILogger logger, string outcome, double durationMs);

    [LoggerMessage(EventId = 33, Level = LogLevel.Warning, Message = "In-session results of message {MessageId} not stored for the pipeline; it runs the checks again")]
    public static partial void InSessionShareFailed(ILogger logger, Exception exception, string messageId);

    [LoggerMessage(EventId = 34, Level = LogLevel.Warning, Message = "In-session check faulted; the message is left to the pipeline")]
    public static partial void InSessionFaulted(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "Closed connection from trusted proxy {ProxyIp}: {Reason}")]
    public static partial void ProxyHeaderInvalid(ILogger logger, string proxyIp, string reason);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "Session {SessionId}: refused a PROXY {Version} header from {PeerIp} ({Reason}); closed")]
    public static partial void ProxyHeaderRefused(ILogger logger, string sessionId, string peerIp, string version, string reason);

    [LoggerMessage(EventId = 16, Level = LogLevel.Information, Message = "Session {SessionId} from {ClientIp} via {PeerIp} ({ClientSource})")]
    public static partial void SessionVia(ILogger logger, string sessionId, string clientIp, string peerIp, string clientSource);

    [LoggerMessage(EventId = 17, Level = LogLevel.Warning, Message = "Session {SessionId}: XCLIENT refused for {PeerIp} (client {ClientIp} not in Edge:XclientHosts)")]
    public static partial void XclientRefused(ILogger logger, string sessionId, string peerIp, string clientIp);

    [LoggerMessage(EventId = 18, Level = LogLevel.Information, Message = "Session {SessionId}: XCLIENT from {PeerIp} set client {ClientIp} name {ClientName} helo {Helo}")]
    public static partial void Xclient(ILogger logger, string sessionId, string peerIp, string clientIp, string? clientName, string? helo);

    [LoggerMessage(EventId = 19, Level = LogLevel.Warning, Message = "Session {SessionId}: XFORWARD refused for {PeerIp} (not in Edge:XforwardHosts)")]
    public static partial void XforwardRefused(ILogger logger, string sessionId, string peerIp);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Session {SessionId}: XFORWARD from {PeerIp}: client {ClientIp} name {ClientName} helo {Helo} upstream id {UpstreamId}")]
    public static partial void Xforward(ILogger logger, string sessionId, string peerIp, string clientIp, string? clientName, string? helo, string? upstreamId);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Session {SessionId} from {ClientIp} closed with 421: {Reason} after waiting {Waited} for a command")]
    public static partial void IdleSessionClosed(ILogger logger, string sessionId, string clientIp, string reason, TimeSpan waited);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "SMTP edge stress mode {Stressed}: {ActiveSessions} sessions open, command timeout now {CommandTimeout}")]
    public static partial void StressMode(ILogger logger, bool stressed, int activeSessions, TimeSpan commandTimeout);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "Open file limit {SoftLimit} (hard {HardLimit}) is below what Edge:MaxSessions needs ({Needed}); limit now {NewLimit}")]
    public static partial void FileLimit(ILogger logger, ulong softLimit, ulong hardLimit, ulong needed, ulong newLimit);
}
