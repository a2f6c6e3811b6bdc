using Microsoft.Azure.Functions.Worker.Converters;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>Binds <see cref="ServiceBusMessageActions"/> parameters; an offline build has no settlement channel, so it fails.</summary>
internal sealed class ServiceBusMessageActionsConverter : IInputConverter
{
    /// <inheritdoc/>
    public ValueTask<ConversionResult> ConvertAsync(ConverterContext context) =>
        new(ConversionResult.Failed(StandIn.Unsupported()));
}
