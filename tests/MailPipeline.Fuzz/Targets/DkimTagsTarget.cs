using System.Text;
using MailPipeline.Core.Dkim;

namespace MailPipeline.Fuzz.Targets;

/// <summary>
/// DKIM/ARC tag lists (RFC 6376 §3.2) as they arrive in a DKIM-Signature, ARC-Seal or ARC-Message-Signature field,
/// and the key record (§3.6.1) as it arrives from DNS.
/// </summary>
internal sealed class DkimTagsTarget : FuzzTarget
{
    public override string Name => "dkim-tags";

    public override string Covers => "DkimTagList.TryParse, DkimPublicKey.Parse (key records)";

    public override void Run(ReadOnlySpan<byte> input)
    {
        string text = Encoding.UTF8.GetString(input);
        if (DkimTagList.TryParse(text, out var tags, out _))
        {
            foreach (string name in new[] { "v", "a", "b", "bh", "c", "d", "h", "i", "l", "q", "s", "t", "x", "z", "k", "p", "n", "cv" })
            {
                if (tags.TryGet(name, out var value))
                {
                    _ = value.Length;
                    _ = tags.GetCompact(name);
                }
            }
        }

        _ = DkimPublicKey.Parse(text);
    }
}
