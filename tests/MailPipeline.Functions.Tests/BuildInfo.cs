using System.Reflection;

namespace MailPipeline.Functions.Tests;

/// <summary>Facts about how this test assembly and the Functions app were built (from the test csproj).</summary>
internal static class BuildInfo
{
    /// <summary>The Functions app's output folder (functions.metadata, extensions.json, .azurefunctions/).</summary>
    public static string FunctionsOutputDirectory => Metadata("FunctionsOutputDirectory");

    /// <summary>True when built with -p:ServiceBusOffline=true (the compile-time stand-in instead of the official package).</summary>
    public static bool ServiceBusOffline => string.Equals(Metadata("ServiceBusOffline"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The file name of the stand-in assembly copied beside the tests.</summary>
    public const string StandInAssemblyFile = "MailPipeline.Functions.ServiceBusStandIn.dll";

    private static string Metadata(string key) =>
        typeof(BuildInfo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value ?? "";
}
