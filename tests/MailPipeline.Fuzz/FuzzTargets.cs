using MailPipeline.Fuzz.Targets;

namespace MailPipeline.Fuzz;

/// <summary>Every fuzz target, in the order bench/fuzz.sh runs them.</summary>
internal static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new SmtpTarget(),
        new ClientAddressTarget(),
        new HeadersTarget(),
        new MessageTarget(),
        new DkimTagsTarget(),
        new SpfTarget(),
        new DmarcRecordTarget(),
        new AuthResultsTarget(),
        new DnsAnswersTarget(),
        new ConfigTarget(),
    ];
}
