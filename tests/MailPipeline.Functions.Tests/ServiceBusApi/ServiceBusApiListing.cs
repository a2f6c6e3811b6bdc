namespace MailPipeline.Functions.Tests.ServiceBusApi;

/// <summary>The checked-in listing of the official package's public API (TestData/servicebus/*.api.txt), by type.</summary>
internal static class ServiceBusApiListing
{
    public const string FileName = "Worker.Extensions.ServiceBus-5.24.0.api.txt";

    /// <summary>Type full name → the listed lines of that type (the "type" line first, member lines sorted).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestData", "servicebus", FileName);
        var types = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        List<string>? current = null;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.TrimEnd();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith("type ", StringComparison.Ordinal))
            {
                current = [line];
                var header = line.Split(" : ")[0];
                types.Add(header[(header.LastIndexOf(' ') + 1)..], current);
            }
            else
            {
                (current ?? throw new FormatException($"{FileName}: member line before any type line: {line}")).Add(line);
            }
        }

        return types;
    }
}
