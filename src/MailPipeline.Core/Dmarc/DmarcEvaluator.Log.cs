using Microsoft.Extensions.Logging;

namespace MailPipeline.Core.Dmarc;

/// <content>Logging (event ids 5100–5199).</content>
public sealed partial class DmarcEvaluator
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 5101, Level = LogLevel.Debug, Message = "DMARC {DmarcResult} for {FromDomain}: policy domain {PolicyDomain}, {PolicyTag}={Policy}, disposition {Disposition}, spf aligned {SpfAligned}, dkim aligned {AlignedDkimDomain}")]
        public static partial void Result(ILogger logger, string dmarcResult, string? fromDomain, string? policyDomain, string? policyTag, string? policy, string disposition, bool spfAligned, string? alignedDkimDomain);

        [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "DMARC temperror for {FromDomain}: {Reason}")]
        public static partial void TempError(ILogger logger, string? fromDomain, string? reason);

        [LoggerMessage(EventId = 5103, Level = LogLevel.Debug, Message = "DMARC permerror: {Reason}")]
        public static partial void PermError(ILogger logger, string? reason);
    }
}
