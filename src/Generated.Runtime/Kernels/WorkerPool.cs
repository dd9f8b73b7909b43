using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// A small fork-join pool for the matrix products of a language model. <see cref="Run"/> splits one job (a static function
/// pointer and an argument pointer) into chunks that the caller and the workers claim one at a time from a shared ticket,
/// and returns when every chunk is done. Dynamic claiming keeps a busy machine from stalling a product: if a worker is
/// descheduled, the others take its chunks. Allocation-free per job: no closures, tasks or delegates. Workers spin about
/// a millisecond after each job (the next product usually follows within microseconds), then park on a monitor.
/// </summary>
public sealed unsafe class WorkerPool : IDisposable
{
    private readonly Thread[] _workers;
    private readonly object _gate = new();
    private delegate*<void*, int, int, int, void> _job;
    private void* _args;
    private int _chunks;
    private int _done;
    private long _ticket;        // generation << 32 | next chunk
    private int _sleepers;
    private int _warm, _contended;   // WarmParking's handshake
    private volatile bool _stop;
    private readonly byte* _scratch;
    private readonly long _scratchBytes;
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000;

    /// <summary>Threads taking part in each job, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Starts <paramref name="threads"/> - 1 background workers; each thread gets <paramref name="scratchBytesPerThread"/> bytes of scratch (64-byte aligned).</summary>
    public WorkerPool(int threads, long scratchBytesPerThread = 0)
    {
        Threads = Math.Max(1, threads);
        _scratchBytes = (scratchBytesPerThread + 63) / 64 * 64;
        if (_scratchBytes > 0) _scratch = (byte*)NativeMemory.AlignedAlloc((nuint)(_scratchBytes * Threads), 64);
        _workers = new Thread[Threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(Worker, 256 * 1024) { IsBackground = true, Name = $"llmaot-worker-{i + 1}" };
            _workers[i].Start(i + 1);
        }
        if (_workers.Length > 0) WarmParking();
    }

    /// <summary>
    /// Runs the park/wake path once, with contention both ways, before any job. The runtime allocates the first time a thread
    /// waits on a monitor, the first time a lock is contended and the first time a thread blocks (a NativeAOT binary showed
    /// 5-6 KB in the decode loop when a worker first parked mid-generation); after this, parking never allocates.
    /// </summary>
    private void WarmParking()
    {
        // every worker parks at start (see Worker); the creating thread, which also runs the jobs, wakes them
        while (Volatile.Read(ref _sleepers) < _workers.Length) Thread.Sleep(0);
        lock (_gate)
        {
            _warm = 1;
            Monitor.PulseAll(_gate);
        }
        // all of them out of that first wait (each needs the lock to return from it) before the lock is held for long below
        while (Volatile.Read(ref _sleepers) != 0) Thread.Sleep(0);
        // a worker holds the lock while the creating thread blocks on it, then the reverse
        while (Volatile.Read(ref _warm) != 2) Thread.Sleep(0);
        lock (_gate) Volatile.Write(ref _warm, 3);
        lock (_gate)
        {
            Volatile.Write(ref _warm, 4);
            while (Volatile.Read(ref _contended) < _workers.Length) Thread.Sleep(0);
            Thread.Sleep(2);
        }
        while (Volatile.Read(ref _warm) != 4 + _workers.Length) Thread.Sleep(0); // (a worker may already be parked again: fine)
    }

    /// <summary>The scratch of thread <paramref name="index"/> (valid while the pool lives).</summary>
    public byte* Scratch(int index) => _scratch + index * _scratchBytes;

    /// <summary>Bytes of scratch per thread.</summary>
    public long ScratchBytes => _scratchBytes;

    /// <summary>
    /// Calls job(args, chunk, chunks, thread) once for every chunk in [0, chunks), on the caller and the workers (thread is the
    /// index of the executing thread, 0 for the caller, for per-thread scratch), and waits for all of them.
    /// </summary>
    public void Run(delegate*<void*, int, int, int, void> job, void* args, int chunks)
    {
        if (Threads == 1 || chunks <= 1)
        {
            for (int c = 0; c < chunks; c++) job(args, c, chunks, 0);
            return;
        }
        // Close the previous generation before its fields change: a worker still in Work for it may have read the ticket
        // (all chunks claimed) and then read the new _chunks; were the ticket left as it is, its claim could succeed against
        // the larger new count and run a chunk twice (and count it in the new _done). The closed ticket fails every such claim.
        long gen = (Volatile.Read(ref _ticket) >> 32) + 1;
        Interlocked.Exchange(ref _ticket, ((gen - 1) << 32) | int.MaxValue);
        _job = job;
        _args = args;
        _chunks = chunks;
        Volatile.Write(ref _done, 0);
        Interlocked.Exchange(ref _ticket, gen << 32);
        if (Volatile.Read(ref _sleepers) > 0)
            lock (_gate) Monitor.PulseAll(_gate);
        Work(gen, 0);
        // The other threads' last chunks end within microseconds: spin on pause (a yield is a system call, and a caller in
        // one reacts late); yield only after SpinTicks, to a descheduled worker.
        long start = 0;
        int spins = 0;
        while (Volatile.Read(ref _done) != chunks)
        {
            Pause();
            if ((++spins & 255) != 0) continue;
            long now = Stopwatch.GetTimestamp();
            if (start == 0) start = now;
            else if (now - start > SpinTicks) Thread.Yield();
        }
    }

    /// <summary>One spin-wait hint (pause / yield instruction), so a waiting thread reacts within nanoseconds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pause()
    {
        if (X86Base.IsSupported) X86Base.Pause();
        else if (ArmBase.IsSupported) ArmBase.Yield();
        else Thread.SpinWait(1);
    }

    /// <summary>Claims and runs chunks of generation <paramref name="gen"/> until none is left.</summary>
    private void Work(long gen, int thread)
    {
        while (true)
        {
            long t = Volatile.Read(ref _ticket);
            if (t >> 32 != gen || (int)t >= Volatile.Read(ref _chunks)) return;
            if (Interlocked.CompareExchange(ref _ticket, t + 1, t) != t) continue;
            // The claim succeeded, so this generation's job is still posted (it cannot finish without this chunk).
            _job(_args, (int)t, _chunks, thread);
            Interlocked.Increment(ref _done);
        }
    }

    private void Worker(object? state)
    {
        int index = (int)state!;
        long seen = Volatile.Read(ref _ticket) >> 32;
        WarmParkingWorker(index);
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            int spins = 0;
            long g;
            while ((g = Volatile.Read(ref _ticket) >> 32) == seen)
            {
                if (_stop) return;
                Pause();
                if ((++spins & 255) == 0 && Stopwatch.GetTimestamp() - start > SpinTicks)
                {
                    lock (_gate)
                    {
                        Interlocked.Increment(ref _sleepers);
                        if (Volatile.Read(ref _ticket) >> 32 == seen && !_stop) Monitor.Wait(_gate);
                        Interlocked.Decrement(ref _sleepers);
                    }
                    start = Stopwatch.GetTimestamp();
                }
            }
            seen = g;
            if (_stop) return;
            Work(g, index);
        }
    }

    /// <summary>A worker's side of <see cref="WarmParking"/>.</summary>
    private void WarmParkingWorker(int index)
    {
        lock (_gate)
        {
            // park once at start; WarmParking wakes us
            Interlocked.Increment(ref _sleepers);
            while (Volatile.Read(ref _warm) == 0) Monitor.Wait(_gate);
            Interlocked.Decrement(ref _sleepers);
        }
        if (index == 1)
        {
            // hold the lock long enough that the creating thread blocks on it
            lock (_gate)
            {
                Volatile.Write(ref _warm, 2);
                Thread.Sleep(2);
            }
        }
        while (Volatile.Read(ref _warm) < 4) Thread.Sleep(0);
        Interlocked.Increment(ref _contended);
        lock (_gate) Interlocked.Increment(ref _warm); // blocks while the creating thread holds the lock
    }

    /// <summary>Stops the workers and frees the scratch.</summary>
    public void Dispose()
    {
        _stop = true;
        lock (_gate) Monitor.PulseAll(_gate);
        foreach (var t in _workers) t.Join();
        if (_scratch != null) NativeMemory.AlignedFree(_scratch);
    }
}
