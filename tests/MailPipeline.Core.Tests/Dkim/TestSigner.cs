using System.Text;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace MailPipeline.Core.Tests.Dkim;

/// <summary>Signs test messages with MimeKit's DkimSigner and publishes the key in an in-memory zone.</summary>
internal static class TestSigner
{
    public const string Message =
        "From: Alice <alice@example.com>\r\n" +
        "To: Bob <bob@example.net>\r\n" +
        "Subject: Quarterly numbers\r\n" +
        "Date: Sun, 29 Nov 2026 10:00:00 +0000\r\n" +
        "Message-ID: <q4@example.com>\r\n" +
        "\r\n" +
        "Hello Bob,\r\n" +
        "\r\n" +
        "the numbers are in.\r\n";

    private static readonly Lazy<AsymmetricCipherKeyPair> Rsa2048 = new(() => GenerateRsa(2048));
    private static readonly Lazy<AsymmetricCipherKeyPair> Rsa512 = new(() => GenerateRsa(512));

    public static AsymmetricCipherKeyPair RsaKey => Rsa2048.Value;

    public static AsymmetricCipherKeyPair SmallRsaKey => Rsa512.Value;

    public static AsymmetricCipherKeyPair Ed25519Key()
    {
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        return generator.GenerateKeyPair();
    }

    /// <summary>The key record text (<c>v=DKIM1; k=...; p=...</c>).</summary>
    public static string KeyRecord(AsymmetricCipherKeyPair pair) => pair.Public is Ed25519PublicKeyParameters ed
        ? $"v=DKIM1; k=ed25519; p={Convert.ToBase64String(ed.GetEncoded())}"
        : $"v=DKIM1; k=rsa; p={Convert.ToBase64String(SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(pair.Public).GetEncoded())}";

    public static byte[] Sign(
        string message,
        AsymmetricCipherKeyPair pair,
        string domain = "example.com",
        string selector = "sel",
        DkimSignatureAlgorithm? algorithm = null,
        DkimCanonicalizationAlgorithm canonicalization = DkimCanonicalizationAlgorithm.Relaxed)
    {
        var parsed = MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(message)));
        var signer = new DkimSigner(pair.Private, domain, selector, algorithm ?? (pair.Public is Ed25519PublicKeyParameters ? DkimSignatureAlgorithm.Ed25519Sha256 : DkimSignatureAlgorithm.RsaSha256))
        {
            HeaderCanonicalizationAlgorithm = canonicalization,
            BodyCanonicalizationAlgorithm = canonicalization,
            AgentOrUserIdentifier = "@" + domain,
        };
        signer.Sign(parsed, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId]);
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        using var output = new MemoryStream();
        parsed.WriteTo(format, output);
        return output.ToArray();
    }

    private static AsymmetricCipherKeyPair GenerateRsa(int bits)
    {
        var generator = new RsaKeyPairGenerator();
        generator.Init(new KeyGenerationParameters(new SecureRandom(), bits));
        return generator.GenerateKeyPair();
    }
}
