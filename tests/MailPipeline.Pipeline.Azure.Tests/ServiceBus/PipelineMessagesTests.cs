using Azure.Messaging.ServiceBus;
using MailPipeline.Pipeline.Azure.ServiceBus;
using MailPipeline.Pipeline.Azure.Tests.Infrastructure;
using MailPipeline.Pipeline.Contracts;

namespace MailPipeline.Pipeline.Azure.Tests.ServiceBus;

public sealed class PipelineMessagesTests
{
    private static ServiceBusReceivedMessage Received(ServiceBusMessage sent, Action<IDictionary<string, object>>? edit = null)
    {
        var properties = new Dictionary<string, object>(sent.ApplicationProperties);
        edit?.Invoke(properties);
        return ServiceBusModelFactory.ServiceBusReceivedMessage(body: sent.Body, messageId: sent.MessageId, correlationId: sent.CorrelationId, properties: properties);
    }

    [Theory]
    [InlineData(3L)]
    [InlineData("3")]
    public void ReadStageRequest_AttemptAsLongOrText_ReadsTheAttempt(object attempt)
    {
        // arrange
        var sent = PipelineMessages.ForStageRequest(new StageRequest(TestMail.Envelope("01JABC", "01JABC.eml"), StageNames.Dmarc, 3));

        // act
        var request = PipelineMessages.ReadStageRequest(Received(sent, p => p["attempt"] = attempt));

        // assert
        Assert.Equal((StageNames.Dmarc, 3), (request.Stage, request.Attempt));
        Assert.Equal("01JABC-dmarc-3", sent.MessageId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData("x")]
    public void ReadStageRequest_InvalidAttempt_IsPoison(object attempt)
    {
        // arrange
        var sent = PipelineMessages.ForStageRequest(new StageRequest(TestMail.Envelope("01JABC", "01JABC.eml"), StageNames.Spf));

        // act
        var error = Assert.Throws<PoisonMessageException>(() => PipelineMessages.ReadStageRequest(Received(sent, p => p["attempt"] = attempt)));

        // assert
        Assert.Equal(PoisonMessageException.UnparseableEnvelope, error.Reason);
    }

    [Fact]
    public void ReadStageRequest_UnknownTarget_IsPoison()
    {
        // arrange
        var sent = PipelineMessages.ForStageRequest(new StageRequest(TestMail.Envelope("01JABC", "01JABC.eml"), StageNames.Spf));

        // act
        var error = Assert.Throws<PoisonMessageException>(() => PipelineMessages.ReadStageRequest(Received(sent, p => p["target"] = "smtp")));

        // assert
        Assert.Equal(PoisonMessageException.UnknownTarget, error.Reason);
        Assert.Equal("01JABC-spf-1", sent.MessageId);
    }
}
