namespace Microsoft.Azure.Functions.Worker;

/// <summary>The one message every member of the compile-time stand-in throws with.</summary>
internal static class StandIn
{
    /// <summary>Explains why a Service Bus operation cannot run in an app built with <c>ServiceBusOffline=true</c>.</summary>
    internal const string Message =
        "This is MailPipeline's offline compile-time stand-in for Microsoft.Azure.Functions.Worker.Extensions.ServiceBus " +
        "(built with -p:ServiceBusOffline=true). It cannot talk to the Functions host: build the app without ServiceBusOffline " +
        "against a NuGet feed that serves the official package to run or publish it.";

    /// <summary>Creates the exception every stand-in operation throws.</summary>
    internal static NotSupportedException Unsupported() => new(Message);
}
