using MailPipeline.Pipeline.Processing;

namespace MailPipeline.Pipeline.Tests.Processing;

public sealed class MemoryBudgetTests
{
    [Fact(Timeout = 10000)]
    public async Task Lease_LargerThanWhatIsFree_WaitsUntilItIsGivenBack()
    {
        // arrange: 8 MiB, one 20 MB message holds all of it (a lease is capped at the budget)
        var budget = new MemoryBudget(8 * 1024 * 1024);
        var first = await budget.LeaseAsync(20_000_000);

        // act
        var second = budget.LeaseAsync(1024);
        await Task.Delay(100);
        bool waited = !second.IsCompleted;
        first.Dispose();
        using var granted = await second.WaitAsync(TimeSpan.FromSeconds(5));

        // assert
        Assert.True(waited);
    }

    [Fact(Timeout = 10000)]
    public async Task Lease_Cancelled_GivesBackWhatItGathered()
    {
        // arrange
        var budget = new MemoryBudget(4 * 1024 * 1024);
        var half = await budget.LeaseAsync(2 * 1024 * 1024);
        using var cancel = new CancellationTokenSource(100);

        // act: wants all four MiB, gets two, is cancelled
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => budget.LeaseAsync(4 * 1024 * 1024, cancel.Token));
        half.Dispose();
        using var all = await budget.LeaseAsync(4 * 1024 * 1024).WaitAsync(TimeSpan.FromSeconds(5));

        // assert: the whole budget could be leased again
        Assert.NotNull(all);
    }
}
