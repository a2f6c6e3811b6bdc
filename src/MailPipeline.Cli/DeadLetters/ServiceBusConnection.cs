using Azure.Identity;
using Azure.Messaging.ServiceBus;

namespace MailPipeline.Cli.DeadLetters;

/// <summary>How the dlq commands reach a namespace: a connection string, or a namespace name with DefaultAzureCredential.</summary>
internal static class ServiceBusConnection
{
    /// <summary>The environment variable read when neither --connection-string nor --namespace is given.</summary>
    public const string EnvironmentVariable = "MAILPIPELINE_SERVICEBUS_CONNECTION";

    /// <summary>Creates a client; a few quick retries, so an unreachable namespace is reported in seconds.</summary>
    /// <exception cref="ArgumentException">No way to connect was given, or the connection string is malformed.</exception>
    public static ServiceBusClient CreateClient(string? connectionString, string? serviceBusNamespace)
    {
        var options = new ServiceBusClientOptions
        {
            RetryOptions = new ServiceBusRetryOptions { MaxRetries = 2, Delay = TimeSpan.FromMilliseconds(500), TryTimeout = TimeSpan.FromSeconds(20) },
        };
        if (serviceBusNamespace is not null)
        {
            var host = serviceBusNamespace.Contains('.', StringComparison.Ordinal) ? serviceBusNamespace : serviceBusNamespace + ".servicebus.windows.net";
            return new ServiceBusClient(host, new DefaultAzureCredential(), options);
        }

        connectionString ??= Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new ArgumentException($"No namespace given: pass --connection-string, set {EnvironmentVariable}, or pass --namespace NAME to sign in with DefaultAzureCredential.");
        }

        try
        {
            ServiceBusConnectionStringProperties.Parse(connectionString);
            return new ServiceBusClient(connectionString, options);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException($"The Service Bus connection string is malformed: {ex.Message}", ex);
        }
    }
}
