namespace MailPipeline.Core.Arc;

/// <summary>
/// How we seal delivered mail (section <c>Arc:Sealing</c>): the sealing domain and selector whose public key is
/// published at <c>Selector._domainkey.Domain</c>, and the private key — a PEM file, or (in Azure) a Key Vault key
/// used through its sign operation.
/// </summary>
public sealed class ArcSealingOptions
{
    /// <summary>The sealing domain (<c>d=</c>).</summary>
    public string? Domain { get; set; }

    /// <summary>The selector (<c>s=</c>).</summary>
    public string? Selector { get; set; }

    /// <summary>A PEM file with the private key (RSA 2048 bits, or Ed25519).</summary>
    public string? PrivateKeyPath { get; set; }

    /// <summary>
    /// An Azure Key Vault key id with its version (<c>https://VAULT.vault.azure.net/keys/NAME/VERSION</c>), used through
    /// Key Vault's sign operation so the private key never leaves the vault (the Functions app; serve uses a PEM file).
    /// </summary>
    public string? KeyVaultKeyId { get; set; }

    /// <summary>True when domain, selector and a key (a file or a Key Vault key) are set.</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(Domain) && !string.IsNullOrWhiteSpace(Selector)
        && (!string.IsNullOrWhiteSpace(PrivateKeyPath) || !string.IsNullOrWhiteSpace(KeyVaultKeyId));
}
