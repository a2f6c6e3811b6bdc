using Amqp;
using Amqp.Framing;
using Amqp.Listener;

namespace MailPipeline.TestBroker;

/// <summary><c>$cbs</c>: accepts every put-token (the broker does not check SAS signatures; access is denied per entity instead).</summary>
internal sealed class CbsProcessor(BrokerCore core) : IRequestProcessor
{
    public int Credit => 100;

    public void Process(RequestContext requestContext)
    {
        var operation = requestContext.Message.ApplicationProperties?["operation"] as string;
        var (status, description) = operation == "put-token"
            ? (200, "OK")
            : (501, core.Refuse(BrokerErrors.NotImplemented, $"The test broker does not implement $cbs operation '{operation}'.").Description);
        requestContext.Complete(new Message
        {
            ApplicationProperties = new ApplicationProperties
            {
                ["status-code"] = status,
                ["status-description"] = description,
            },
        });
    }
}
