using System.CommandLine;
using MailPipeline.Core.Dns;

namespace MailPipeline.Cli.Commands;

/// <summary><c>mailpipeline dns NAME [--type T]</c>: what the checks' DNS layer sees for a name, for debugging a resolver.</summary>
internal static class DnsCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The name to query." };
        var type = new Option<DnsRecordType>("--type") { Description = "Record type.", DefaultValueFactory = _ => DnsRecordType.Txt };
        var resolver = CommonOptions.Resolver();
        var command = new Command("dns", "Query a name through MailPipeline's DNS layer (debugging).") { name, type, resolver };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dns = CommonOptions.CreateResolver(parse.GetValue(resolver));
            var result = await dns.QueryAsync(parse.GetValue(name)!, parse.GetValue(type), cancellationToken);
            var output = parse.InvocationConfiguration.Output;
            await output.WriteLineAsync(result.ToString());
            foreach (var record in result.Records)
            {
                await output.WriteLineAsync(record switch
                {
                    TxtRecord txt => $"TXT \"{string.Join("\" \"", txt.Strings)}\"",
                    AddressRecord address => address.Address.ToString(),
                    MxRecord mx => $"MX {mx.Preference} {mx.Exchange}",
                    PtrRecord ptr => $"PTR {ptr.Target}",
                    _ => record.ToString(),
                });
            }

            return result.IsTransientError ? MailPipelineCommand.Failure : MailPipelineCommand.Success;
        });
        return command;
    }
}
