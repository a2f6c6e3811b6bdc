using Microsoft.Azure.Functions.Worker.Converters;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>Binds <see cref="ServiceBusSessionMessageActions"/> parameters; an offline build has no settlement channel, so it fails.</summary>
[SupportsDeferredBinding]
[SupportedTargetType(typeof(ServiceBusSessionMessageActions))]
internal sealed class ServiceBusSessionMessageActionsConverter : IInputConverter
{
    /// <inheritdoc/>
    public ValueTask<ConversionResult> ConvertAsync(ConverterContext context) =>
        new(ConversionResult.Failed(StandIn.Unsupported()));
}
