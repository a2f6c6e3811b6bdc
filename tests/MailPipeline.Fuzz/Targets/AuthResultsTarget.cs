using System.Text;
using MailPipeline.Core.AuthenticationResults;

namespace MailPipeline.Fuzz.Targets;

/// <summary>
/// Authentication-Results parsing as the forged-field removal does it (RFC 8601 §5): a header block from the sender
/// with fields claiming our authserv-id. Oracles: removal is idempotent (nothing forged survives one pass), only whole
/// fields go, and our own composed field is always recognised as ours.
/// </summary>
internal sealed class AuthResultsTarget : FuzzTarget
{
    private const string AuthServId = "mx.ours.test";
    private static readonly AuthenticationResultsComposer Composer = new(new AuthenticationResultsOptions { AuthServId = AuthServId });
    private static readonly byte[] Ours = Encoding.ASCII.GetBytes(Composer.Compose([]) + "\r\n");

    public override string Name => "auth-results";

    public override string Covers => "ForgedAuthenticationResultsRemover (field walk, authserv-id with CFWS, quoted ids)";

    public override void Run(ReadOnlySpan<byte> input)
    {
        int colon = input.IndexOf((byte)':');
        _ = ForgedAuthenticationResultsRemover.ReadAuthServId(colon >= 0 ? input[(colon + 1)..] : input);
        byte[] cleaned = ForgedAuthenticationResultsRemover.Remove(input, AuthServId, out int removed);
        if (removed == 0 && !cleaned.AsSpan().SequenceEqual(input))
        {
            throw new FuzzFindingException("nothing removed but the message changed");
        }

        if (cleaned.Length > input.Length || (removed > 0 && cleaned.Length == input.Length))
        {
            throw new FuzzFindingException($"removed {removed} fields but {input.Length} -> {cleaned.Length} bytes");
        }

        _ = ForgedAuthenticationResultsRemover.Remove(cleaned, AuthServId, out int again);
        if (again != 0)
        {
            throw new FuzzFindingException($"a second pass removed {again} more forged fields");
        }

        // Our field prepended (as the router does) is the one field ours; nothing else of the sender's is touched. (A
        // message never starts with white space: the edge's Received field is its first line.)
        if (cleaned.Length > 0 && cleaned[0] is (byte)' ' or (byte)'\t')
        {
            return;
        }

        byte[] routed = [.. Ours, .. cleaned];
        byte[] ownRemoved = ForgedAuthenticationResultsRemover.Remove(routed, AuthServId, out int own);
        if (own != 1 || !ownRemoved.AsSpan().SequenceEqual(cleaned))
        {
            throw new FuzzFindingException($"our own field prepended: {own} fields removed");
        }
    }
}
