using System.CommandLine;
using System.Text;
using MailPipeline.WebConsole;

namespace MailPipeline.Cli.Commands;

/// <summary>
/// <c>mailpipeline console hash-password</c>: reads a password (asked twice without echo on a terminal, else the
/// first line of standard input) and prints the <c>Console:PasswordHash</c> value for serve's configuration.
/// </summary>
internal static class ConsoleCommand
{
    /// <summary>Where the password is read when standard input is not a terminal; tests replace it.</summary>
    internal static Func<TextReader> PasswordInput { get; set; } = () => System.Console.In;

    public static Command Create()
    {
        var command = new Command("console", "The operator web console that serve offers at / of its HTTP endpoint.");
        var hash = new Command("hash-password", "Hash a console password (PBKDF2-SHA256) for Console:PasswordHash; reads it from the terminal (twice, no echo) or the first line of standard input.");
        hash.SetAction(async (parse, cancellationToken) =>
        {
            var error = parse.InvocationConfiguration.Error;
            string? password;
            if (!System.Console.IsInputRedirected && ReferenceEquals(PasswordInput(), System.Console.In))
            {
                password = ReadHidden(error, "Console password: ");
                if (password != ReadHidden(error, "Again: "))
                {
                    await error.WriteLineAsync("mailpipeline: the two passwords differ; nothing printed.");
                    return MailPipelineCommand.Failure;
                }
            }
            else
            {
                password = await PasswordInput().ReadLineAsync(cancellationToken);
            }

            if (string.IsNullOrEmpty(password))
            {
                await error.WriteLineAsync("mailpipeline: no password given (an empty password is not accepted).");
                return MailPipelineCommand.BadArguments;
            }

            if (password.Length < 12)
            {
                await error.WriteLineAsync("mailpipeline: note: a console password shorter than 12 characters is easy to guess.");
            }

            await parse.InvocationConfiguration.Output.WriteLineAsync(ConsolePassword.Hash(password));
            await error.WriteLineAsync("mailpipeline: put this in serve's configuration as Console:PasswordHash (or MAILPIPELINE_Console__PasswordHash); the user name is Console:User (default admin).");
            return MailPipelineCommand.Success;
        });
        command.Subcommands.Add(hash);
        return command;
    }

    private static string ReadHidden(TextWriter prompt, string text)
    {
        prompt.Write(text);
        prompt.Flush();
        var password = new StringBuilder();
        while (true)
        {
            var key = System.Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                prompt.WriteLine();
                return password.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                password.Length = Math.Max(0, password.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                password.Append(key.KeyChar);
            }
        }
    }
}
