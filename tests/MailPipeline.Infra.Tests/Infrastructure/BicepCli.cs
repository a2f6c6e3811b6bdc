using System.Diagnostics;
using System.Reflection;

namespace MailPipeline.Infra.Tests.Infrastructure;

/// <summary>Runs the Bicep CLI restored from NuGet (Azure.Bicep.CommandLine.linux-x64) by this project's build.</summary>
public static class BicepCli
{
    // Variables main.bicepparam reads: cleared so a developer's azd environment cannot change what is tested.
    private static readonly string[] ParameterVariables =
    [
        "AZURE_ENV_NAME", "AZURE_LOCATION", "AZURE_PRINCIPAL_ID", "MAILPIPELINE_EDGE_IMAGE", "MAILPIPELINE_EDGE_SSH_PUBLIC_KEY",
        "MAILPIPELINE_MX_HOST", "MAILPIPELINE_ACCEPTED_DOMAINS", "MAILPIPELINE_AUTHSERV_ID", "MAILPIPELINE_DNS_SERVERS",
        "MAILPIPELINE_SERVICEBUS_SKU", "MAILPIPELINE_TLS_CERTIFICATE", "MAILPIPELINE_DQS_KEY_SECRET",
    ];

    /// <summary>Path of the bicep binary, from the build (see the csproj).</summary>
    public static string Path { get; } = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "BicepPath").Value!;

    /// <summary>The azd environment of a deployment for example.org: the two values main.bicepparam has no default for.</summary>
    public static IReadOnlyDictionary<string, string> ExampleOrgEnvironment { get; } = new Dictionary<string, string>
    {
        ["MAILPIPELINE_MX_HOST"] = "mx.example.org",
        ["MAILPIPELINE_ACCEPTED_DOMAINS"] = "example.org",
        ["MAILPIPELINE_EDGE_SSH_PUBLIC_KEY"] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBzuV2x5o7yrxJ6X0D8PnIh3ufmVt9cE6uK1q3mRpEaD operator@example.org",
    };

    /// <summary>Runs bicep with <paramref name="arguments"/> in <paramref name="workingDirectory"/>, with no azd environment.</summary>
    public static Task<BicepRun> RunAsync(string workingDirectory, params string[] arguments) => RunAsync(workingDirectory, new Dictionary<string, string>(), arguments);

    /// <summary>Runs bicep with <paramref name="arguments"/> in <paramref name="workingDirectory"/>, with only <paramref name="environment"/> of main.bicepparam's variables set.</summary>
    public static async Task<BicepRun> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        if (!File.Exists(Path))
        {
            throw new InvalidOperationException($"The Bicep CLI is not at {Path}: restore tests/MailPipeline.Infra.Tests (dotnet build).");
        }

        var info = new ProcessStartInfo(Path)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var variable in ParameterVariables)
        {
            info.Environment.Remove(variable);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        // No ICU needed, no telemetry, no update checks.
        info.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using var process = Process.Start(info) ?? throw new InvalidOperationException("bicep did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish in 3 minutes.");
        }

        return new BicepRun(string.Join(' ', arguments), process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>One finished run of the Bicep CLI.</summary>
public sealed record BicepRun(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Every diagnostic line (errors, warnings, infos) the CLI printed.</summary>
    public IReadOnlyList<string> Diagnostics => (StandardOutput + "\n" + StandardError)
        .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Where(line => line.Contains(" : Error ", StringComparison.Ordinal)
            || line.Contains(" : Warning ", StringComparison.Ordinal)
            || line.Contains(" : Info ", StringComparison.Ordinal))
        .ToList();

    /// <inheritdoc />
    public override string ToString() => $"bicep {Command} exited {ExitCode}\n{StandardOutput}\n{StandardError}";
}
