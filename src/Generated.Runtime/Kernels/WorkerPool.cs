using System.Diagnostics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// A small fork-join pool for the matrix products of a language model: <see cref="Run"/> hands one job (a static function
/// pointer and an argument pointer) to every thread, runs share 0 on the caller, and returns when all shares are done.
/// Allocation-free per job: no closures, tasks or delegates. Workers spin briefly on a generation counter after each job
/// (the next matrix product usually follows within microseconds), then park on a monitor, so an idle pool costs nothing.
/// </summary>
public sealed unsafe class WorkerPool : IDisposable
{
    private readonly Thread[] _workers;
    private readonly object _gate = new();
    private delegate*<void*, int, int, void> _job;
    private void* _args;
    private int _generation;
    private int _pending;
    private int _sleepers;
    private volatile bool _stop;
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000; // spin about 1 ms before parking

    /// <summary>Threads taking part in each job, the caller included.</summary>
    public int Threads { get; }

    private readonly byte* _scratch;
    private readonly long _scratchBytes;

    /// <summary>Starts <paramref name="threads"/> - 1 background workers; each thread gets <paramref name="scratchBytesPerThread"/> bytes of scratch (64-byte aligned).</summary>
    public WorkerPool(int threads, long scratchBytesPerThread = 0)
    {
        Threads = Math.Max(1, threads);
        _scratchBytes = (scratchBytesPerThread + 63) / 64 * 64;
        if (_scratchBytes > 0) _scratch = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(_scratchBytes * Threads), 64);
        _workers = new Thread[Threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(Worker, 256 * 1024) { IsBackground = true, Name = $"llmaot-worker-{i + 1}" };
            _workers[i].Start(i + 1);
        }
    }

    /// <summary>The scratch of thread <paramref name="index"/> (valid while the pool lives).</summary>
    public byte* Scratch(int index) => _scratch + index * _scratchBytes;

    /// <summary>Bytes of scratch per thread.</summary>
    public long ScratchBytes => _scratchBytes;

    /// <summary>Calls job(args, index, Threads) for index 0..Threads-1 (0 on the calling thread) and waits for all.</summary>
    public void Run(delegate*<void*, int, int, void> job, void* args)
    {
        if (Threads == 1)
        {
            job(args, 0, 1);
            return;
        }
        _job = job;
        _args = args;
        Volatile.Write(ref _pending, Threads - 1);
        Interlocked.Increment(ref _generation);
        if (Volatile.Read(ref _sleepers) > 0)
            lock (_gate) Monitor.PulseAll(_gate);
        job(args, 0, Threads);
        var spin = new SpinWait();
        while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(-1);
    }

    private void Worker(object? state)
    {
        int index = (int)state!;
        int seen = Volatile.Read(ref _generation);
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            int spins = 0;
            int g;
            while ((g = Volatile.Read(ref _generation)) == seen)
            {
                if (_stop) return;
                Thread.SpinWait(8);
                if ((++spins & 63) == 0 && Stopwatch.GetTimestamp() - start > SpinTicks)
                {
                    lock (_gate)
                    {
                        Interlocked.Increment(ref _sleepers);
                        if (Volatile.Read(ref _generation) == seen && !_stop) Monitor.Wait(_gate);
                        Interlocked.Decrement(ref _sleepers);
                    }
                    start = Stopwatch.GetTimestamp();
                }
            }
            seen = g;
            if (_stop) return;
            _job(_args, index, Threads);
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>Stops the workers.</summary>
    public void Dispose()
    {
        _stop = true;
        lock (_gate) Monitor.PulseAll(_gate);
        foreach (var t in _workers) t.Join();
        if (_scratch != null) System.Runtime.InteropServices.NativeMemory.AlignedFree(_scratch);
    }
}
