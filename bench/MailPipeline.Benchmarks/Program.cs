using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/MailPipeline.Benchmarks -- --filter '*Spf*'
// (typeof a benchmark, not Program: the edge's Program is visible here through the CLI's reference to the edge)
BenchmarkSwitcher.FromAssembly(typeof(MailPipeline.Benchmarks.SpfBenchmarks).Assembly).Run(args);
