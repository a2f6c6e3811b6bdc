using MailPipeline.Cli;

return await MailPipelineCommand.RunAsync(args, Console.Out, Console.Error);
