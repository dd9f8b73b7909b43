using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>The fork-join pool of the language models: every chunk runs once, parking and waking neither hang nor allocate.</summary>
public unsafe class WorkerPoolTests
{
    private static void Count(void* args, int chunk, int chunks, int thread) => Interlocked.Increment(ref ((int*)args)[chunk]);

    [Fact]
    public void Pools_of_two_to_four_threads_start_run_every_chunk_and_stop_without_hanging()
    {
        var work = Task.Run(() =>
        {
            for (int iter = 0; iter < 40; iter++)
            {
                using var pool = new WorkerPool(2 + iter % 3);
                var hits = new int[13];
                fixed (int* h = hits)
                    for (int rep = 0; rep < 3; rep++)
                    {
                        if (iter % 4 == rep) Thread.Sleep(3); // let the workers park, so the next job wakes them
                        pool.Run(&Count, h, hits.Length);
                    }
                Assert.All(hits, c => Assert.Equal(3, c));
            }
        });
        Assert.True(work.Wait(TimeSpan.FromMinutes(2)), "a worker pool hung while starting, running or stopping");
        work.GetAwaiter().GetResult();
    }

    [Fact]
    public void Consecutive_jobs_with_different_chunk_counts_run_each_chunk_exactly_once()
    {
        // A worker still claiming in the previous job (all its chunks taken) must not claim against the next job's larger
        // chunk count: that ran a chunk twice and left the caller waiting for a count it had overshot (a decode hang, seen
        // when the attention job of 12 chunks followed a product of 2).
        var work = Task.Run(() =>
        {
            using var pool = new WorkerPool(2);
            var hits = new int[12];
            fixed (int* h = hits)
                for (int iter = 0; iter < 200_000; iter++)
                {
                    int chunks = iter % 2 == 0 ? 2 : 12;
                    pool.Run(&Count, h, chunks);
                    for (int c = 0; c < chunks; c++)
                        if (h[c] != 1) Assert.Fail($"job {iter} ({chunks} chunks): chunk {c} ran {h[c]} times");
                    new Span<int>(h, chunks).Clear();
                }
        });
        Assert.True(work.Wait(TimeSpan.FromMinutes(2)), "the pool hung: a job's chunks never all reported done");
        work.GetAwaiter().GetResult();
    }

    [Fact]
    public void Waking_parked_workers_does_not_allocate_on_the_calling_thread()
    {
        using var pool = new WorkerPool(2);
        var hits = new int[8];
        fixed (int* h = hits)
        {
            pool.Run(&Count, h, hits.Length); // compiles Run and the job
            // Three windows of two wake-ups each: an allocation on the wake path shows in every window, while the JIT may
            // allocate once on this thread when it recompiles a hot method (as in LlmTests' allocation check).
            var windows = new long[3];
            for (int wi = 0; wi < windows.Length; wi++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int rep = 0; rep < 2; rep++)
                {
                    Thread.Sleep(5); // longer than the workers' spin: they park on the monitor
                    pool.Run(&Count, h, hits.Length);
                }
                windows[wi] = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            Assert.True(windows.Count(b => b != 0) <= 1, $"bytes allocated per window: {string.Join(", ", windows)}");
        }
        Assert.All(hits, c => Assert.Equal(7, c));
    }
}
