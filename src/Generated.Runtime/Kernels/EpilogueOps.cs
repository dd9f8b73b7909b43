using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>Applies an <see cref="Epilogue"/> (scalar, vector, or over a row with optional bias).</summary>
internal static unsafe class EpilogueOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Apply(float v, in Epilogue e)
    {
        switch (e.Kind)
        {
            case ActivationKind.Relu: return v > 0f ? v : 0f;
            case ActivationKind.Clip: return v < e.Alpha ? e.Alpha : (v > e.Beta ? e.Beta : v);
            case ActivationKind.LeakyRelu: return v >= 0f ? v : e.Alpha * v;
            case ActivationKind.HardSwish:
            {
                float t = v + 3f;
                t = t < 0f ? 0f : (t > 6f ? 6f : t);
                return v * t * (1f / 6f) * e.Alpha + e.Beta;
            }
            default: return v;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Apply(Vector128<float> v, in Epilogue e)
    {
        switch (e.Kind)
        {
            case ActivationKind.Relu: return Vector128.Max(v, Vector128<float>.Zero);
            case ActivationKind.Clip: return Vector128.Min(Vector128.Max(v, Vector128.Create(e.Alpha)), Vector128.Create(e.Beta));
            case ActivationKind.LeakyRelu:
                return Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(v, Vector128<float>.Zero), v, v * e.Alpha);
            case ActivationKind.HardSwish:
            {
                var t = Vector128.Min(Vector128.Max(v + Vector128.Create(3f), Vector128<float>.Zero), Vector128.Create(6f));
                return v * t * Vector128.Create(1f / 6f) * Vector128.Create(e.Alpha) + Vector128.Create(e.Beta);
            }
            default: return v;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Apply(Vector256<float> v, in Epilogue e)
    {
        switch (e.Kind)
        {
            case ActivationKind.Relu: return Vector256.Max(v, Vector256<float>.Zero);
            case ActivationKind.Clip: return Vector256.Min(Vector256.Max(v, Vector256.Create(e.Alpha)), Vector256.Create(e.Beta));
            case ActivationKind.LeakyRelu:
                return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero), v, v * e.Alpha);
            case ActivationKind.HardSwish:
            {
                var t = Vector256.Min(Vector256.Max(v + Vector256.Create(3f), Vector256<float>.Zero), Vector256.Create(6f));
                return v * t * Vector256.Create(1f / 6f) * Vector256.Create(e.Alpha) + Vector256.Create(e.Beta);
            }
            default: return v;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Apply(Vector512<float> v, in Epilogue e)
    {
        switch (e.Kind)
        {
            case ActivationKind.Relu: return Vector512.Max(v, Vector512<float>.Zero);
            case ActivationKind.Clip: return Vector512.Min(Vector512.Max(v, Vector512.Create(e.Alpha)), Vector512.Create(e.Beta));
            case ActivationKind.LeakyRelu:
                return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(v, Vector512<float>.Zero), v, v * e.Alpha);
            case ActivationKind.HardSwish:
            {
                var t = Vector512.Min(Vector512.Max(v + Vector512.Create(3f), Vector512<float>.Zero), Vector512.Create(6f));
                return v * t * Vector512.Create(1f / 6f) * Vector512.Create(e.Alpha) + Vector512.Create(e.Beta);
            }
            default: return v;
        }
    }

    /// <summary>p[j] = epi(p[j] + (colBias == null ? 0 : colBias[j]) + rowBias) for j in [0, n).</summary>
    internal static void ApplyRow(float* p, int n, float* colBias, float rowBias, in Epilogue e)
    {
        if (colBias == null && rowBias == 0f && e.Kind == ActivationKind.None) return;
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var rb = Vector512.Create(rowBias);
            for (; j <= n - 16; j += 16)
            {
                var v = Vector512.Load(p + j) + rb;
                if (colBias != null) v += Vector512.Load(colBias + j);
                Vector512.Store(Apply(v, e), p + j);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var rb = Vector256.Create(rowBias);
            for (; j <= n - 8; j += 8)
            {
                var v = Vector256.Load(p + j) + rb;
                if (colBias != null) v += Vector256.Load(colBias + j);
                Vector256.Store(Apply(v, e), p + j);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var rb = Vector128.Create(rowBias);
            for (; j <= n - 4; j += 4)
            {
                var v = Vector128.Load(p + j) + rb;
                if (colBias != null) v += Vector128.Load(colBias + j);
                Vector128.Store(Apply(v, e), p + j);
            }
        }
        for (; j < n; j++)
        {
            float v = p[j] + rowBias;
            if (colBias != null) v += colBias[j];
            p[j] = Apply(v, e);
        }
    }

    /// <summary>Scalar-only version of <see cref="ApplyRow"/>.</summary>
    internal static void ApplyRowScalar(float* p, int n, float* colBias, float rowBias, in Epilogue e)
    {
        for (int j = 0; j < n; j++)
        {
            float v = p[j] + rowBias;
            if (colBias != null) v += colBias[j];
            p[j] = Apply(v, e);
        }
    }
}
