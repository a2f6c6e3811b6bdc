namespace MailPipeline.Fuzz.Targets;

/// <summary>
/// A whole received message through every check with a fixed zone (the mail-dkim corpus keys, SPF and DMARC records):
/// the header block, From extraction, DKIM-Signature and ARC set parsing and verification, forged
/// Authentication-Results removal, DMARC and the composed header fields.
/// </summary>
internal sealed class MessageTarget : FuzzTarget
{
    private static readonly Lazy<Core.Authentication.MessageAuthenticator> Authenticator = new(() =>
        CheckHarness.Create(FuzzZone.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "message.zone")))));

    public override string Name => "message";

    public override string Covers => "MessageAuthenticator.AuthenticateAsync: RawMessage, DKIM/ARC signatures, From, DMARC, Authentication-Results";

    public override void Run(ReadOnlySpan<byte> input) => CheckHarness.Check(Authenticator.Value, CheckHarness.Envelope, input.ToArray());
}
