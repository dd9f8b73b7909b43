using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>An elementwise unary operator: scalar and vector forms of one formula.</summary>
public interface IUnaryOp<T> where T : unmanaged
{
    /// <summary>False when the vector forms are not implemented; the skeleton then stays scalar.</summary>
    static abstract bool Vectorizable { get; }
    static abstract T Invoke(T x);
    static abstract Vector128<T> Invoke(Vector128<T> x);
    static abstract Vector256<T> Invoke(Vector256<T> x);
    static abstract Vector512<T> Invoke(Vector512<T> x);
}

/// <summary>An elementwise binary operator: scalar and vector forms of one formula.</summary>
public interface IBinaryOp<T> where T : unmanaged
{
    /// <summary>False when the vector forms are not implemented; the skeleton then stays scalar.</summary>
    static abstract bool Vectorizable { get; }
    static abstract T Invoke(T a, T b);
    static abstract Vector128<T> Invoke(Vector128<T> a, Vector128<T> b);
    static abstract Vector256<T> Invoke(Vector256<T> a, Vector256<T> b);
    static abstract Vector512<T> Invoke(Vector512<T> a, Vector512<T> b);
}

/// <summary>An elementwise unary operator with two compile-time parameters (alpha, beta), e.g. LeakyRelu or Clip.</summary>
public interface IUnaryParamOp<T> where T : unmanaged
{
    /// <summary>False when the vector forms are not implemented; the skeleton then stays scalar.</summary>
    static abstract bool Vectorizable { get; }
    static abstract T Invoke(T x, T alpha, T beta);
    static abstract Vector128<T> Invoke(Vector128<T> x, Vector128<T> alpha, Vector128<T> beta);
    static abstract Vector256<T> Invoke(Vector256<T> x, Vector256<T> alpha, Vector256<T> beta);
    static abstract Vector512<T> Invoke(Vector512<T> x, Vector512<T> alpha, Vector512<T> beta);
}

/// <summary>A scalar elementwise map whose output type may differ from its input (IsNaN, Not, casts).</summary>
public interface IMapOp<TIn, TOut> where TIn : unmanaged where TOut : unmanaged
{
    static abstract TOut Invoke(TIn x);
}

/// <summary>A scalar elementwise function of two inputs of possibly different types (comparisons, mixed-type Pow).</summary>
public interface IZipOp<TA, TB, TOut> where TA : unmanaged where TB : unmanaged where TOut : unmanaged
{
    static abstract TOut Invoke(TA a, TB b);
}

/// <summary>
/// Loop skeletons for elementwise operators. Generated code passes an operator struct (possibly a
/// <c>file</c> struct fusing a chain of ops); NativeAOT specializes each generic instantiation, so the
/// operator call inlines into the loop. In-place use (y == x) is allowed.
/// </summary>
public static unsafe class Elementwise
{
    /// <summary>y[i] = op(x[i]) for i in [0, n).</summary>
    public static void Unary<TOp, T>(T* x, T* y, long n) where TOp : IUnaryOp<T> where T : unmanaged
    {
        long i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
                for (; i + Vector512<T>.Count <= n; i += Vector512<T>.Count)
                    Vector512.Store(TOp.Invoke(Vector512.Load(x + i)), y + i);
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
                for (; i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
                    Vector256.Store(TOp.Invoke(Vector256.Load(x + i)), y + i);
            if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
                for (; i + Vector128<T>.Count <= n; i += Vector128<T>.Count)
                    Vector128.Store(TOp.Invoke(Vector128.Load(x + i)), y + i);
        }
        for (; i < n; i++) y[i] = TOp.Invoke(x[i]);
    }

    /// <summary>Scalar reference of <see cref="Unary{TOp, T}"/>.</summary>
    internal static void UnaryScalar<TOp, T>(T* x, T* y, long n) where TOp : IUnaryOp<T> where T : unmanaged
    {
        for (long i = 0; i < n; i++) y[i] = TOp.Invoke(x[i]);
    }

    /// <summary>y[i] = op(a[i], b[i]) for i in [0, n).</summary>
    public static void Binary<TOp, T>(T* a, T* b, T* y, long n) where TOp : IBinaryOp<T> where T : unmanaged
    {
        long i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
                for (; i + Vector512<T>.Count <= n; i += Vector512<T>.Count)
                    Vector512.Store(TOp.Invoke(Vector512.Load(a + i), Vector512.Load(b + i)), y + i);
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
                for (; i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
                    Vector256.Store(TOp.Invoke(Vector256.Load(a + i), Vector256.Load(b + i)), y + i);
            if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
                for (; i + Vector128<T>.Count <= n; i += Vector128<T>.Count)
                    Vector128.Store(TOp.Invoke(Vector128.Load(a + i), Vector128.Load(b + i)), y + i);
        }
        for (; i < n; i++) y[i] = TOp.Invoke(a[i], b[i]);
    }

    /// <summary>y[i] = op(a[i], b) for i in [0, n): the right operand is one broadcast value.</summary>
    public static void BinaryScalarRight<TOp, T>(T* a, T b, T* y, long n) where TOp : IBinaryOp<T> where T : unmanaged
    {
        long i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            {
                var vb = Vector512.Create(b);
                for (; i + Vector512<T>.Count <= n; i += Vector512<T>.Count)
                    Vector512.Store(TOp.Invoke(Vector512.Load(a + i), vb), y + i);
            }
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            {
                var vb = Vector256.Create(b);
                for (; i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
                    Vector256.Store(TOp.Invoke(Vector256.Load(a + i), vb), y + i);
            }
            if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            {
                var vb = Vector128.Create(b);
                for (; i + Vector128<T>.Count <= n; i += Vector128<T>.Count)
                    Vector128.Store(TOp.Invoke(Vector128.Load(a + i), vb), y + i);
            }
        }
        for (; i < n; i++) y[i] = TOp.Invoke(a[i], b);
    }

    /// <summary>y[i] = op(a, b[i]) for i in [0, n): the left operand is one broadcast value.</summary>
    public static void BinaryScalarLeft<TOp, T>(T a, T* b, T* y, long n) where TOp : IBinaryOp<T> where T : unmanaged
    {
        long i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            {
                var va = Vector512.Create(a);
                for (; i + Vector512<T>.Count <= n; i += Vector512<T>.Count)
                    Vector512.Store(TOp.Invoke(va, Vector512.Load(b + i)), y + i);
            }
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            {
                var va = Vector256.Create(a);
                for (; i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
                    Vector256.Store(TOp.Invoke(va, Vector256.Load(b + i)), y + i);
            }
            if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            {
                var va = Vector128.Create(a);
                for (; i + Vector128<T>.Count <= n; i += Vector128<T>.Count)
                    Vector128.Store(TOp.Invoke(va, Vector128.Load(b + i)), y + i);
            }
        }
        for (; i < n; i++) y[i] = TOp.Invoke(a, b[i]);
    }

    /// <summary>
    /// General broadcast: y has <paramref name="shape"/> (row-major, contiguous); a and b are read with element
    /// strides (0 where broadcast). The last dimension is the inner loop and runs vectorized when its strides
    /// are (1, 1), (1, 0) or (0, 1). Rank at most 8; rank 0 is a scalar.
    /// </summary>
    public static void BinaryBroadcast<TOp, T>(T* a, T* b, T* y, ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
        where TOp : IBinaryOp<T> where T : unmanaged
    {
        int rank = shape.Length;
        if (rank == 0) { y[0] = TOp.Invoke(a[0], b[0]); return; }
        int inner = shape[rank - 1];
        int sa = aStrides[rank - 1], sb = bStrides[rank - 1];
        var rows = new BroadcastRows(shape, aStrides, bStrides);
        for (long o = 0; o < rows.Count; o++, rows.Next())
        {
            T* pa = a + rows.A, pb = b + rows.B, py = y + o * inner;
            if (sa == 1 && sb == 1) Binary<TOp, T>(pa, pb, py, inner);
            else if (sa == 1 && sb == 0) BinaryScalarRight<TOp, T>(pa, *pb, py, inner);
            else if (sa == 0 && sb == 1) BinaryScalarLeft<TOp, T>(*pa, pb, py, inner);
            else for (int i = 0; i < inner; i++) py[i] = TOp.Invoke(pa[(long)i * sa], pb[(long)i * sb]);
        }
    }

    /// <summary>Scalar reference of <see cref="BinaryBroadcast{TOp, T}"/>.</summary>
    internal static void BinaryBroadcastScalar<TOp, T>(T* a, T* b, T* y, ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
        where TOp : IBinaryOp<T> where T : unmanaged
    {
        long total = 1;
        foreach (var d in shape) total *= d;
        for (long flat = 0; flat < total; flat++)
        {
            long rem = flat, oa = 0, ob = 0;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                long i = rem % shape[d];
                rem /= shape[d];
                oa += i * aStrides[d];
                ob += i * bStrides[d];
            }
            y[flat] = TOp.Invoke(a[oa], b[ob]);
        }
    }

    /// <summary>y[i] = op(x[i], alpha, beta) for i in [0, n). In-place use (y == x) is allowed.</summary>
    public static void UnaryParam<TOp, T>(T* x, T* y, long n, T alpha, T beta) where TOp : IUnaryParamOp<T> where T : unmanaged
    {
        long i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            {
                var va = Vector512.Create(alpha);
                var vb = Vector512.Create(beta);
                for (; i + Vector512<T>.Count <= n; i += Vector512<T>.Count)
                    Vector512.Store(TOp.Invoke(Vector512.Load(x + i), va, vb), y + i);
            }
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            {
                var va = Vector256.Create(alpha);
                var vb = Vector256.Create(beta);
                for (; i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
                    Vector256.Store(TOp.Invoke(Vector256.Load(x + i), va, vb), y + i);
            }
            if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            {
                var va = Vector128.Create(alpha);
                var vb = Vector128.Create(beta);
                for (; i + Vector128<T>.Count <= n; i += Vector128<T>.Count)
                    Vector128.Store(TOp.Invoke(Vector128.Load(x + i), va, vb), y + i);
            }
        }
        for (; i < n; i++) y[i] = TOp.Invoke(x[i], alpha, beta);
    }

    /// <summary>Scalar reference of <see cref="UnaryParam{TOp, T}"/>.</summary>
    internal static void UnaryParamScalar<TOp, T>(T* x, T* y, long n, T alpha, T beta) where TOp : IUnaryParamOp<T> where T : unmanaged
    {
        for (long i = 0; i < n; i++) y[i] = TOp.Invoke(x[i], alpha, beta);
    }

    /// <summary>y[i] = op(x[i]) for i in [0, n), scalar; the output type may differ from the input type.</summary>
    public static void Map<TOp, TIn, TOut>(TIn* x, TOut* y, long n) where TOp : IMapOp<TIn, TOut> where TIn : unmanaged where TOut : unmanaged
    {
        for (long i = 0; i < n; i++) y[i] = TOp.Invoke(x[i]);
    }

    /// <summary>
    /// y = op(a, b) with broadcasting, scalar: y has <paramref name="shape"/> (row-major, contiguous); a and b are read
    /// with element strides (0 where broadcast). Rank at most 8; rank 0 is a scalar.
    /// </summary>
    public static void ZipBroadcast<TOp, TA, TB, TOut>(TA* a, TB* b, TOut* y, ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
        where TOp : IZipOp<TA, TB, TOut> where TA : unmanaged where TB : unmanaged where TOut : unmanaged
    {
        int rank = shape.Length;
        if (rank == 0) { y[0] = TOp.Invoke(a[0], b[0]); return; }
        int inner = shape[rank - 1];
        long sa = aStrides[rank - 1], sb = bStrides[rank - 1];
        var rows = new BroadcastRows(shape, aStrides, bStrides);
        for (long o = 0; o < rows.Count; o++, rows.Next())
        {
            TA* pa = a + rows.A;
            TB* pb = b + rows.B;
            TOut* py = y + o * inner;
            for (int i = 0; i < inner; i++) py[i] = TOp.Invoke(pa[i * sa], pb[i * sb]);
        }
    }

    /// <summary>
    /// Where: y = c ? x : z with broadcasting of all three inputs (element strides, 0 where broadcast) to the
    /// contiguous output <paramref name="shape"/>. Rank at most 8.
    /// </summary>
    public static void Where<T>(bool* c, T* x, T* z, T* y, ReadOnlySpan<int> shape, ReadOnlySpan<int> cStrides, ReadOnlySpan<int> xStrides, ReadOnlySpan<int> zStrides)
        where T : unmanaged
    {
        int rank = shape.Length;
        if (rank == 0) { y[0] = c[0] ? x[0] : z[0]; return; }
        int inner = shape[rank - 1];
        long sc = cStrides[rank - 1], sx = xStrides[rank - 1], sz = zStrides[rank - 1];
        var rows = new BroadcastRows(shape, cStrides, xStrides, zStrides);
        for (long o = 0; o < rows.Count; o++, rows.Next())
        {
            bool* pc = c + rows.A;
            T* px = x + rows.B, pz = z + rows.C, py = y + o * inner;
            for (int i = 0; i < inner; i++) py[i] = pc[i * sc] ? px[i * sx] : pz[i * sz];
        }
    }

    /// <summary>y[c, i] = x[c, i] * scale[c % channels] + shift[c % channels]: BatchNormalization folded to an affine map, NCHW.</summary>
    public static void ChannelAffine(float* x, float* scale, float* shift, float* y, int batch, int channels, long spatial)
    {
        for (int nb = 0; nb < batch; nb++)
            for (int c = 0; c < channels; c++)
            {
                long off = ((long)nb * channels + c) * spatial;
                MulAdd(x + off, scale[c], shift[c], y + off, spatial);
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MulAdd(float* x, float s, float t, float* y, long n)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(s);
            var vt = Vector256.Create(t);
            for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(x + i), vs, vt), y + i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var vs = Vector128.Create(s);
            var vt = Vector128.Create(t);
            for (; i + 4 <= n; i += 4) Vector128.Store(Vector128.FusedMultiplyAdd(Vector128.Load(x + i), vs, vt), y + i);
        }
        for (; i < n; i++) y[i] = MathF.FusedMultiplyAdd(x[i], s, t);
    }
}
