using MailPipeline.Pipeline.Delivery;

namespace MailPipeline.Pipeline.Tests.Delivery;

public sealed class MemoryBudgetTests
{
    [Fact]
    public async Task Acquire_WithinLimit_GrantedAtOnceAndGivenBack()
    {
        // arrange
        var budget = new MemoryBudget(100);

        // act
        var a = await budget.AcquireAsync(60, CancellationToken.None);
        var b = await budget.AcquireAsync(40, CancellationToken.None);
        long held = budget.Held;
        a.Dispose();
        b.Dispose();
        a.Dispose(); // a second dispose gives nothing back twice

        // assert
        Assert.Equal(100, held);
        Assert.Equal(0, budget.Held);
    }

    [Fact]
    public async Task Acquire_OverLimit_WaitsInOrderUntilFreed()
    {
        // arrange
        var budget = new MemoryBudget(100);
        var first = await budget.AcquireAsync(70, CancellationToken.None);

        // act: a big request waits; a small one behind it waits too (no starvation of the big one)
        var big = budget.AcquireAsync(50, CancellationToken.None);
        var small = budget.AcquireAsync(10, CancellationToken.None);
        bool waited = !big.IsCompleted && !small.IsCompleted;
        first.Dispose();
        using var bigGrant = await big;
        using var smallGrant = await small;

        // assert
        Assert.True(waited);
        Assert.Equal(60, budget.Held);
    }

    [Fact]
    public async Task Acquire_LargerThanTheLimit_GrantedWhenAlone()
    {
        // arrange
        var budget = new MemoryBudget(100);
        var other = await budget.AcquireAsync(1, CancellationToken.None);

        // act
        var huge = budget.AcquireAsync(5000, CancellationToken.None);
        bool waited = !huge.IsCompleted;
        other.Dispose();
        using var grant = await huge;

        // assert: counted as the whole limit, never refused
        Assert.True(waited);
        Assert.Equal(100, budget.Held);
    }

    [Fact]
    public async Task Acquire_CancelledWhileWaiting_LeavesTheQueue()
    {
        // arrange
        var budget = new MemoryBudget(100);
        var first = await budget.AcquireAsync(100, CancellationToken.None);
        using var cancel = new CancellationTokenSource();

        // act
        var waiting = budget.AcquireAsync(10, cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        first.Dispose();
        using var next = await budget.AcquireAsync(100, CancellationToken.None);

        // assert
        Assert.Equal(100, budget.Held);
    }
}
