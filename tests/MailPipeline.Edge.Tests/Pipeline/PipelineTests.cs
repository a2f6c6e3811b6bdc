using System.Text;
using System.Text.Json;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Publishing;
using MailPipeline.Pipeline.Storage;
using MailPipeline.TestSupport;
using Microsoft.Extensions.Options;

namespace MailPipeline.Edge.Tests.Pipeline;

public sealed class PipelineTests
{
    private static MailEnvelope Envelope(string id) => new()
    {
        MessageId = id,
        RawMessageReference = id + ".eml",
        ClientAddress = "192.0.2.1",
        ClientPort = 40000,
        Helo = "client.example",
        MailFrom = "bob@sender.test",
        Recipients = ["alice@ours.test"],
        Tls = new EnvelopeTls("TLSv1.3", "TLS_AES_256_GCM_SHA384"),
        Size = 5,
        ReceivedAt = new DateTimeOffset(2026, 11, 29, 23, 0, 0, TimeSpan.Zero),
        ExistingAuthenticationResults = ["mx.ours.test; spf=pass"],
    };

    [Fact]
    public void NextId_ManyInOneMillisecond_AreUniqueSortedAnd26Chars()
    {
        // arrange
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 11, 29, 23, 0, 0, TimeSpan.Zero));
        var generator = new MessageIdGenerator(time);

        // act
        var ids = Enumerable.Range(0, 1000).Select(_ => generator.NextId()).ToList();
        time.Advance(TimeSpan.FromMilliseconds(1));
        string later = generator.NextId();

        // assert
        Assert.All(ids, id => Assert.Matches("^[0-9A-HJKMNP-TV-Z]{26}$", id));
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.True(string.CompareOrdinal(later, ids[^1]) > 0);
        Assert.All(ids, id => Assert.Equal(ids[0][..10], id[..10])); // same millisecond, same time prefix
    }

    [Fact]
    public void Envelope_JsonRoundTrip_KeepsEveryField()
    {
        // arrange
        var envelope = Envelope("01KB0000000000000000000000");

        // act
        byte[] json = MailEnvelopeJson.Serialize(envelope);
        var back = MailEnvelopeJson.Deserialize(json);

        // assert
        Assert.Equal(envelope with { Recipients = back.Recipients, ExistingAuthenticationResults = back.ExistingAuthenticationResults }, back);
        Assert.Equal(envelope.Recipients, back.Recipients);
        Assert.Equal(envelope.ExistingAuthenticationResults, back.ExistingAuthenticationResults);
        Assert.Contains("\"schemaVersion\":1", Encoding.UTF8.GetString(json), StringComparison.Ordinal);
    }

    [Fact]
    public void Envelope_NewerSchemaVersion_IsRefused()
    {
        // act & assert
        Assert.Throws<JsonException>(() => MailEnvelopeJson.Deserialize("""{"schemaVersion":99,"messageId":"x","rawMessageReference":"x","clientAddress":"x","helo":"x","mailFrom":"","recipients":[]}"""u8));
    }
}
