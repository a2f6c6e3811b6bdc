using System.CommandLine;

namespace MailPipeline.Cli.Commands;

/// <summary>Every subcommand of <c>mailpipeline</c>; each lives in its own file beside this one.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return DnsCommand.Create();
        yield return SpfCommand.Create();
        yield return ReputationCommand.Create();
        yield return DkimCommand.Create();
        yield return DlqCommand.Create();
        yield return CheckCommand.Create();
        yield return ServeCommand.Create();
        yield return QuarantineCommand.Create();
        yield return TraceCommand.Create();
        yield return DmarcReportCommand.Create();
        yield return ConsoleCommand.Create();
    }
}
