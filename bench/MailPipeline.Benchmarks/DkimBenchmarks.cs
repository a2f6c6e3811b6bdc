using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using MailPipeline.Core.Dkim;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace MailPipeline.Benchmarks;

/// <summary>
/// DKIM verification throughput (one rsa-sha256 2048-bit relaxed/relaxed signature) for 2 KB, 20 KB and
/// 200 KB messages, with the key served from memory: parsing, body hash, header hash and RSA verify.
/// </summary>
[MemoryDiagnoser]
public class DkimBenchmarks
{
    private DkimChecker _checker = null!;
    private byte[] _message = [];

    /// <summary>Approximate message size in bytes.</summary>
    [Params(2_000, 20_000, 200_000)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var generator = new RsaKeyPairGenerator();
        generator.Init(new KeyGenerationParameters(new SecureRandom(), 2048));
        var pair = generator.GenerateKeyPair();
        var record = $"v=DKIM1; k=rsa; p={Convert.ToBase64String(SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(pair.Public).GetEncoded())}";
        _checker = new DkimChecker(new FixedKeyLocator(DkimPublicKey.Parse(record)), new DkimOptions());
        _message = DkimCryptoBenchmarks.Sign(pair, Size);
        var check = _checker.VerifyAsync(_message).GetAwaiter().GetResult();
        if (check.Signatures.Single().Result != Core.AuthResult.Pass)
        {
            throw new InvalidOperationException("benchmark message does not verify");
        }
    }

    [Benchmark]
    public Task<DkimCheckResult> Verify() => _checker.VerifyAsync(_message);

    private sealed class FixedKeyLocator(DkimKeyLookupResult key) : IDkimKeyLocator
    {
        public Task<DkimKeyLookupResult> LocateAsync(string domain, string selector, CancellationToken cancellationToken = default) => Task.FromResult(key);
    }
}

/// <summary>The raw cost underneath: RSA-2048 verify (BouncyCastle, as MimeKit uses, and .NET's OpenSSL) and SHA-256 per MB.</summary>
public class DkimCryptoBenchmarks
{
    private readonly byte[] _megabyte = new byte[1 << 20];
    private readonly byte[] _data = Encoding.ASCII.GetBytes("from:Alice <alice@example.com>\r\nsubject:Quarterly numbers\r\ndkim-signature:v=1; a=rsa-sha256; b=");
    private RSA _rsa = null!;
    private byte[] _signature = [];
    private RsaKeyParameters _bcKey = null!;

    [GlobalSetup]
    public void Setup()
    {
        new Random(1).NextBytes(_megabyte);
        _rsa = RSA.Create(2048);
        _signature = _rsa.SignData(_data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var parameters = _rsa.ExportParameters(false);
        _bcKey = new RsaKeyParameters(false, new Org.BouncyCastle.Math.BigInteger(1, parameters.Modulus), new Org.BouncyCastle.Math.BigInteger(1, parameters.Exponent));
    }

    [Benchmark]
    public bool Rsa2048VerifyDotNet() => _rsa.VerifyData(_data, _signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    [Benchmark]
    public bool Rsa2048VerifyBouncyCastle()
    {
        var signer = new RsaDigestSigner(new Sha256Digest());
        signer.Init(false, _bcKey);
        signer.BlockUpdate(_data, 0, _data.Length);
        return signer.VerifySignature(_signature);
    }

    [Benchmark]
    public byte[] Sha256OneMegabyte() => SHA256.HashData(_megabyte);

    /// <summary>A message of about <paramref name="size"/> bytes signed with MimeKit (rsa-sha256, relaxed/relaxed).</summary>
    internal static byte[] Sign(AsymmetricCipherKeyPair pair, int size)
    {
        var body = new StringBuilder();
        var line = 0;
        while (body.Length < size)
        {
            body.Append("Line ").Append(line++).Append(" of the quarterly report, with some\ttabs and  spaces.\r\n");
        }

        var text = "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\nSubject: Quarterly numbers\r\n" +
            "Date: Sun, 29 Nov 2026 10:00:00 +0000\r\nMessage-ID: <q4@example.com>\r\n\r\n" + body;
        var message = MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(text)));
        var signer = new DkimSigner(pair.Private, "example.com", "sel")
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
        signer.Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId]);
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        using var output = new MemoryStream();
        message.WriteTo(format, output);
        return output.ToArray();
    }
}
