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
/// DKIM verification of one message (2 KB, 20 KB, 200 KB; one or two rsa-sha256 2048-bit relaxed/relaxed signatures,
/// signed by MimeKit's signer) through <see cref="DkimChecker.VerifyAsync(ReadOnlyMemory{byte}, CancellationToken)"/>:
/// header index, tag checks, body hash, header hash and RSA verification, keys from memory (already parsed, as the
/// DNS key cache serves them). The baseline is the hardware floor for the same message: SHA-256 over all its bytes plus
/// one RSA-2048 verification per signature, so the ratio column is "how far from raw hash + RSA".
/// </summary>
[MemoryDiagnoser]
public class DkimBenchmarks
{
    private DkimChecker _checker = null!;
    private byte[] _message = [];
    private RSA[] _keys = [];
    private byte[][] _signatures = [];
    private readonly byte[] _digest = new byte[32];

    /// <summary>Approximate message size in bytes.</summary>
    [Params(2_000, 20_000, 200_000)]
    public int Size { get; set; }

    /// <summary>DKIM-Signature fields on the message (two: an ESP's and the author domain's, as forwarded mail has).</summary>
    [Params(1, 2)]
    public int Signatures { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var pairs = new AsymmetricCipherKeyPair[Signatures];
        var keys = new Dictionary<string, DkimKeyLookupResult>();
        _keys = new RSA[Signatures];
        for (var i = 0; i < Signatures; i++)
        {
            var generator = new RsaKeyPairGenerator();
            generator.Init(new KeyGenerationParameters(new SecureRandom(), 2048));
            pairs[i] = generator.GenerateKeyPair();
            var spki = SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(pairs[i].Public).GetEncoded();
            keys[$"sel{i}"] = DkimPublicKey.Parse($"v=DKIM1; k=rsa; p={Convert.ToBase64String(spki)}");
            _keys[i] = RSA.Create();
            _keys[i].ImportSubjectPublicKeyInfo(spki, out _);
        }

        _checker = new DkimChecker(new FixedKeyLocator(keys), new DkimOptions());
        _message = SignedMessage(pairs, Size);
        var check = _checker.VerifyAsync(_message).GetAwaiter().GetResult();
        if (check.Signatures.Count != Signatures || check.Signatures.Any(s => s.Result != Core.AuthResult.Pass))
        {
            throw new InvalidOperationException("benchmark message does not verify");
        }

        // Real signatures over the message's SHA-256 (BouncyCastle signs, .NET verifies): the baseline does the RSA work a
        // verification does.
        _signatures = new byte[Signatures][];
        for (var i = 0; i < Signatures; i++)
        {
            var signer = new RsaDigestSigner(new Sha256Digest());
            signer.Init(true, pairs[i].Private);
            signer.BlockUpdate(_message, 0, _message.Length);
            _signatures[i] = signer.GenerateSignature();
        }

        if (!RawSha256AndRsaVerify())
        {
            throw new InvalidOperationException("baseline signatures do not verify");
        }
    }

    /// <summary>The floor: SHA-256 over every byte of the message, then one RSA-2048 verification per signature.</summary>
    [Benchmark(Baseline = true)]
    public bool RawSha256AndRsaVerify()
    {
        SHA256.HashData(_message, _digest);
        var ok = true;
        for (var i = 0; i < _signatures.Length; i++)
        {
            ok &= _keys[i].VerifyHash(_digest, _signatures[i], HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }

        return ok;
    }

    /// <summary>Our verification of the same message.</summary>
    [Benchmark]
    public Task<DkimCheckResult> Verify() => _checker.VerifyAsync(_message);

    /// <summary>
    /// A message of about <paramref name="size"/> bytes: a text body like the rig's corpus (prose lines, a few with tabs or
    /// double spaces that relaxed canonicalization folds), signed by each key in turn with MimeKit (rsa-sha256, relaxed/relaxed).
    /// </summary>
    internal static byte[] SignedMessage(IReadOnlyList<AsymmetricCipherKeyPair> pairs, int size)
    {
        var body = new StringBuilder();
        var line = 0;
        while (body.Length < size)
        {
            body.Append(line % 10 == 9
                ? "Totals:\tQ3 2026  up four percent on the year, see the attached sheet.\r\n"
                : $"Line {line} of the quarterly report: revenue, costs and the outlook for the next quarter.\r\n");
            line++;
        }

        var text = "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\nSubject: Quarterly numbers\r\n" +
            "Date: Sun, 29 Nov 2026 10:00:00 +0000\r\nMessage-ID: <q4@example.com>\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body;
        var message = MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(text)));
        for (var i = 0; i < pairs.Count; i++)
        {
            var signer = new DkimSigner(pairs[i].Private, i == 0 ? "example.com" : "esp.example", $"sel{i}")
            {
                HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
                BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            };
            signer.Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId]);
        }

        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        using var output = new MemoryStream();
        message.WriteTo(format, output);
        return output.ToArray();
    }

    private sealed class FixedKeyLocator(Dictionary<string, DkimKeyLookupResult> keys) : IDkimKeyLocator
    {
        public Task<DkimKeyLookupResult> LocateAsync(string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(keys[selector]);
    }
}

/// <summary>The raw cost underneath: RSA-2048 verify (BouncyCastle, as MimeKit's verifier used, and .NET's OpenSSL) and SHA-256 per MB.</summary>
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
}
