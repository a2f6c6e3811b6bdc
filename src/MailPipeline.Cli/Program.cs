using MailPipeline.Cli;

// Progress lines only on a terminal: redirected to a file, a pipe or a log, standard error carries messages alone.
return await MailPipelineCommand.RunAsync(args, Console.Out, Console.Error, errorIsTerminal: !Console.IsErrorRedirected);
