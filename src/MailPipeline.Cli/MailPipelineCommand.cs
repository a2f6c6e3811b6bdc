using System.CommandLine;
using MailPipeline.Cli.Commands;

namespace MailPipeline.Cli;

/// <summary>The <c>mailpipeline</c> root command and its exit-code conventions.</summary>
public static class MailPipelineCommand
{
    /// <summary>The command ran (whatever the authentication results were).</summary>
    public const int Success = 0;

    /// <summary>The command failed at run time (I/O, unreachable service).</summary>
    public const int Failure = 1;

    /// <summary>The arguments were wrong.</summary>
    public const int BadArguments = 2;

    /// <summary>Builds the command tree.</summary>
    /// <returns>The root command.</returns>
    public static RootCommand Build()
    {
        var root = new RootCommand("MailPipeline: inbound mail authentication (SPF, DKIM, ARC, DMARC, reputation) and routing.");
        foreach (var command in CommandCatalog.All())
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    /// <summary>Parses and runs; argument errors print a clear message and exit with <see cref="BadArguments"/>.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="output">Standard output.</param>
    /// <param name="error">Standard error.</param>
    /// <param name="errorIsTerminal">Standard error is a terminal: long runs may show a progress line there.</param>
    /// <returns>The process exit code.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, bool errorIsTerminal = false)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(error);
        if (errorIsTerminal)
        {
            error = new Output.TerminalWriter(error);
        }

        var root = Build();
        // serve drains accepted mail on Ctrl-C: give actions time to finish before the process is ended.
        var configuration = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = TimeSpan.FromSeconds(60) };
        // No response files: an argument such as "--mail-from @example.net" (RFC 7208 §4.3, no local part) is a value,
        // never "read arguments from the file example.net".
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            foreach (var parseError in parse.Errors)
            {
                await error.WriteLineAsync($"mailpipeline: {parseError.Message}");
            }

            await error.WriteLineAsync("Run 'mailpipeline --help' for usage.");
            return BadArguments;
        }

        return await parse.InvokeAsync(configuration);
    }
}
