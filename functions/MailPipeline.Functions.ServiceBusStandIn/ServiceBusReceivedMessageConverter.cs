using Azure.Messaging.ServiceBus;
using Microsoft.Azure.Functions.Worker.Converters;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>
/// Declares, as the official converter does, that the trigger binds <see cref="ServiceBusReceivedMessage"/> (and arrays
/// of it) by deferred binding, so the Functions SDK writes <c>supportsDeferredBinding</c> into the metadata. Converting
/// needs the Service Bus host extension, which an offline build does not have, so conversion reports a failure.
/// </summary>
[SupportsDeferredBinding]
[SupportedTargetType(typeof(ServiceBusReceivedMessage))]
[SupportedTargetType(typeof(ServiceBusReceivedMessage[]))]
internal sealed class ServiceBusReceivedMessageConverter : IInputConverter
{
    /// <inheritdoc/>
    public ValueTask<ConversionResult> ConvertAsync(ConverterContext context) =>
        new(ConversionResult.Failed(StandIn.Unsupported()));
}
