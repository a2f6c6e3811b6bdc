using System.Text;
using MailPipeline.Core.Dmarc;

namespace MailPipeline.Fuzz.Targets;

/// <summary>The DMARC record parser (RFC 7489 §6.3, RFC 9989 tags): a TXT record from the sender's DNS.</summary>
internal sealed class DmarcRecordTarget : FuzzTarget
{
    public override string Name => "dmarc-record";

    public override string Covers => "DmarcRecord.Parse (tags, policy, rua/ruf URIs, pct/np/psd/t)";

    public override void Run(ReadOnlySpan<byte> input)
    {
        string text = Encoding.UTF8.GetString(input);
        var record = DmarcRecord.Parse(text);
        if (record is null)
        {
            return;
        }

        // Reading every property is what the evaluator and the report writer do with a parsed record.
        _ = record.Policy;
        _ = record.SubdomainPolicy;
        _ = record.NonExistentSubdomainPolicy;
        _ = record.ToString();
        if (DmarcRecord.Parse(record.Text) is null)
        {
            throw new FuzzFindingException("a parsed record's text no longer parses");
        }
    }
}
