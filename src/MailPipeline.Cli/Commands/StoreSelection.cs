using System.CommandLine;
using System.CommandLine.Parsing;
using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using MailPipeline.Operations.Stores;
using MailPipeline.Pipeline.Azure.Configuration;
using MailPipeline.Pipeline.Storage;
using Microsoft.Extensions.Configuration;

namespace MailPipeline.Cli.Commands;

/// <summary>
/// <c>--data DIR</c> or <c>--storage CONNECTION|URI</c> (or <c>MAILPIPELINE_STORAGE</c>): which stores a command
/// works on. Each command adds one selection and writes its body once against <see cref="PipelineStores"/>.
/// </summary>
internal sealed class StoreSelection
{
    /// <summary>The environment variable read when neither <c>--storage</c> nor <c>--data</c> is given.</summary>
    public const string StorageVariable = "MAILPIPELINE_STORAGE";

    private StoreSelection()
    {
    }

    public Option<string> Data { get; } = new("--data")
    {
        Description = "The data directory of mailpipeline serve (default ./data).",
        HelpName = "DIR",
        DefaultValueFactory = _ => "data",
    };

    public Option<string?> Storage { get; } = new("--storage")
    {
        Description = $"The pipeline's Blob Storage account: a connection string (Azurite, account key) or https://ACCOUNT.blob.core.windows.net (signed in with DefaultAzureCredential). Default: ${StorageVariable}.",
        HelpName = "CONNECTION|URI",
    };

    /// <summary>Creates the options, adds them to <paramref name="command"/> with the "not both" rule.</summary>
    public static StoreSelection AddTo(Command command)
    {
        var selection = new StoreSelection();
        command.Options.Add(selection.Data);
        command.Options.Add(selection.Storage);
        command.Validators.Add(result =>
        {
            if (result.GetResult(selection.Data) is { Implicit: false } && result.GetResult(selection.Storage) is not null)
            {
                result.AddError("--data and --storage are mutually exclusive: --data is the local store of serve, --storage the Blob Storage account of the Azure deployment.");
            }
        });
        return selection;
    }

    /// <summary>
    /// The storage account to use, or null for the data directory: <c>--storage</c>, else <c>MAILPIPELINE_STORAGE</c>
    /// unless <c>--data</c> was given explicitly.
    /// </summary>
    public static string? ChooseStorage(string? storageFlag, bool dataGiven, string? environment) =>
        !string.IsNullOrWhiteSpace(storageFlag) ? storageFlag.Trim()
        : dataGiven || string.IsNullOrWhiteSpace(environment) ? null
        : environment.Trim();

    /// <summary>
    /// Creates the blob service client for a connection string or a blob service URI (identity), through the same
    /// <see cref="AzureConnections"/> the edge and the Functions app use.
    /// </summary>
    /// <returns>The client, or null with <paramref name="problem"/> set.</returns>
    public static BlobServiceClient? CreateBlobService(string storage, out string? problem) => CreateBlobService(storage, out problem, out _);

    /// <summary>As <see cref="CreateBlobService(string, out string?)"/>, also giving the credential of a blob service URI (null for a connection string).</summary>
    public static BlobServiceClient? CreateBlobService(string storage, out string? problem, out Azure.Core.TokenCredential? credential)
    {
        problem = null;
        credential = null;
        var settings = new Dictionary<string, string?>();
        if (storage.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            problem = "--storage: a blob service URI must be https:// (identity tokens are only sent over TLS); for Azurite give its connection string.";
            return null;
        }

        if (storage.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            settings[AzureConnections.StorageConnectionName + ":blobServiceUri"] = storage;
        }
        else if (storage.Contains('=', StringComparison.Ordinal))
        {
            settings[AzureConnections.StorageConnectionName] = storage;
        }
        else
        {
            problem = "--storage must be a connection string (AccountName=...;AccountKey=... or UseDevelopmentStorage=true) or a blob service URI (https://ACCOUNT.blob.core.windows.net).";
            return null;
        }

        try
        {
            var client = AzureConnections.CreateBlobServiceClient(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
            if (storage.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                credential = AzureConnections.Credential(clientId: null); // the same kind of sign-in the client does
            }

            return client;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            problem = $"--storage is not a usable storage connection: {FirstLine(ex.Message)}";
            return null;
        }
    }

    /// <summary>
    /// Opens the selected stores and runs <paramref name="body"/> on them. Storage faults (account unreachable,
    /// missing rights, no credential) end the command with one line on standard error and <see cref="MailPipelineCommand.Failure"/>.
    /// </summary>
    public async Task<int> RunAsync(ParseResult parse, Func<PipelineStores, Task<int>> body)
    {
        var error = parse.InvocationConfiguration.Error;
        string? storage = ChooseStorage(parse.GetValue(Storage), parse.GetResult(Data) is { Implicit: false }, Environment.GetEnvironmentVariable(StorageVariable));
        PipelineStores stores;
        if (storage is null)
        {
            string data = parse.GetValue(Data)!;
            if (!Directory.Exists(Path.Combine(data, "spool")))
            {
                string given = parse.GetResult(Data) is { Implicit: false } ? "--data" : "the default --data (./data)";
                await error.WriteLineAsync($"mailpipeline: looked for the local store of serve in {given}: '{Path.GetFullPath(data)}' is not a mailpipeline data directory (no spool/). Give --data DIR (serve's --data), or for the Azure deployment --storage or {StorageVariable}.");
                return MailPipelineCommand.Failure;
            }

            stores = PipelineStores.OpenLocal(new LocalDataLayout(data));
        }
        else
        {
            var service = CreateBlobService(storage, out string? problem, out var credential);
            if (service is null)
            {
                await error.WriteLineAsync($"mailpipeline: {problem}");
                return MailPipelineCommand.BadArguments;
            }

            stores = PipelineStores.OpenBlob(service, credential);
        }

        try
        {
            return await body(stores);
        }
        catch (Exception ex) when (Describe(ex, stores.Location) is { } message)
        {
            await error.WriteLineAsync($"mailpipeline: {message}");
            return MailPipelineCommand.Failure;
        }
    }

    /// <summary>One line for a storage fault, or null for anything else (a bug: let it surface).</summary>
    public static string? Describe(Exception exception, string location) => exception switch
    {
        RequestFailedException { Status: 403 } ex =>
            $"no rights on {location} ({ex.ErrorCode ?? "403"}): the identity needs 'Storage Blob Data Reader' (list, show, trace) or 'Storage Blob Data Contributor' (release, delete) on the account.",
        RequestFailedException { Status: 401 } ex =>
            $"not authorised on {location} ({ex.ErrorCode ?? "401"}): check the account key or the signed-in identity.",
        RequestFailedException { Status: 0 } ex => $"cannot reach {location}: {FirstLine(ex.Message)}",
        RequestFailedException ex => $"storage error on {location}: {ex.Status} {ex.ErrorCode} {FirstLine(ex.Message)}",
        AuthenticationFailedException ex => $"cannot sign in to {location}: {FirstLine(ex.Message)}",
        AggregateException ex when ex.InnerExceptions.Count > 0 && ex.InnerExceptions.All(inner => inner is RequestFailedException or HttpRequestException or IOException) =>
            $"cannot reach {location}: {FirstLine(ex.InnerExceptions[^1].Message)}",
        HttpRequestException ex => $"cannot reach {location}: {FirstLine(ex.Message)}",
        _ => null,
    };

    private static string FirstLine(string text)
    {
        int end = text.IndexOfAny(['\r', '\n']);
        return (end < 0 ? text : text[..end]).Trim();
    }
}
