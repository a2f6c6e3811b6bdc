using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/MailPipeline.Benchmarks -- --filter '*Spf*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
