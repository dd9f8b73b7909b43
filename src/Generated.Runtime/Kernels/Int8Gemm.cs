using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Llmaot.Runtime.Kernels;

/// <summary>Instruction paths of <see cref="Int8Gemm"/>; <see cref="Int8Gemm.Best"/> picks the first the machine supports.</summary>
public enum Int8Path
{
    /// <summary>Portable scalar loops over the packed layout.</summary>
    Scalar,
    /// <summary>x86 AVX-VNNI (VEX vpdpbusd, 256-bit): u8 × s8 quadruples summed into int32, no intermediate saturation.</summary>
    AvxVnni,
    /// <summary>x86 AVX-512BW: bytes widened to int16 (vpmovsxbw) and multiplied with vpmaddwd into int32 (exact).</summary>
    Avx512BW,
    /// <summary>x86 AVX2: as <see cref="Avx512BW"/> at 256 bits.</summary>
    Avx2,
    /// <summary>Arm64 dot product (SDOT, s8 × s8 quadruples into int32).</summary>
    ArmDot,
    /// <summary>Arm64 AdvSimd without the dot product extension: widening int16 multiply-accumulate.</summary>
    ArmSimd,
}

/// <summary>
/// Integer GEMM y[m, n] = Σ_p (a[i, p] - za[i]) · (b[p, j] - zb[j]) in int32, with 8-bit activations A (uint8 or int8,
/// row-major, read as is) and 8-bit weights B packed once (at compile time) by <see cref="Pack"/>.
/// <para>
/// Signedness is normalised so every path multiplies unsigned activations by signed weights, the operand order of
/// vpdpbusd: int8 activations are read with their sign bit flipped (a' = a + 128, and za' = za + 128), uint8 weights are
/// packed with their sign bit flipped (b' = b - 128, zb' = zb - 128); the differences (a - za) and (b - zb) are unchanged.
/// Zero points are then applied after the product through row and column sums:
/// Σ (a' - za')(b' - zb') = Σ a'b' - zb'·rowsum(a') - za'·colsum(b') + k·za'·zb'. colsum(b') is stored with the pack.
/// </para>
/// <para>
/// int16 saturation: vpmaddubsw (u8 × s8 pairs summed into int16) saturates for pairs like 255·127 + 255·127 = 64770, so it is
/// not used. The AVX-512BW and AVX2 paths widen both operands to int16 and use vpmaddwd, whose int16 × int16 pair sums into
/// int32 are exact; AVX-VNNI's vpdpbusd and Arm's SDOT sum four byte products straight into int32 and are exact too
/// (SDOT is signed × signed, so the Arm path reads a'' = a' - 128 and adds 128·colsum(b') back).
/// </para>
/// <para>
/// Packed layout: B in panels of <see cref="NR"/> = 16 columns (zero padded), each panel k-groups of 4: for each group 16
/// columns × 4 consecutive k bytes (64 bytes, k zero padded to a multiple of 4), then colsum(b') as NR·panels int32.
/// </para>
/// </summary>
public static unsafe class Int8Gemm
{
    /// <summary>Columns per packed panel.</summary>
    public const int NR = 16;

    /// <summary>Number of 16-column panels for n columns.</summary>
    public static int Panels(int n) => (n + NR - 1) / NR;

    /// <summary>Number of 4-element k groups.</summary>
    public static int KGroups(int k) => (k + 3) / 4;

    /// <summary>Bytes of a packed B of k × n (panels plus the int32 column sums).</summary>
    public static long PackedBytes(int n, int k) => (long)Panels(n) * NR * KGroups(k) * 4 + (long)Panels(n) * NR * 4;

    /// <summary>The fastest path this machine supports.</summary>
    public static Int8Path Best =>
        AvxVnni.IsSupported ? Int8Path.AvxVnni
        : Avx512BW.IsSupported ? Int8Path.Avx512BW
        : Avx2.IsSupported ? Int8Path.Avx2
        : Dp.IsSupported ? Int8Path.ArmDot
        : AdvSimd.Arm64.IsSupported ? Int8Path.ArmSimd
        : Int8Path.Scalar;

    /// <summary>Whether <paramref name="p"/> runs on this machine.</summary>
    public static bool IsSupported(Int8Path p) => p switch
    {
        Int8Path.Scalar => true,
        Int8Path.AvxVnni => AvxVnni.IsSupported,
        Int8Path.Avx512BW => Avx512BW.IsSupported,
        Int8Path.Avx2 => Avx2.IsSupported,
        Int8Path.ArmDot => Dp.IsSupported,
        Int8Path.ArmSimd => AdvSimd.Arm64.IsSupported,
        _ => false,
    };

    /// <summary>
    /// Packs B (uint8 when <paramref name="bUnsigned"/>, else int8) into <paramref name="dst"/> (<see cref="PackedBytes"/> bytes).
    /// B element (p, j) is b[p·n + j], or b[j·k + p] when <paramref name="transposed"/> (a [n, k] matrix such as conv weights).
    /// </summary>
    public static void Pack(byte* b, bool bUnsigned, bool transposed, byte* dst, int n, int k)
    {
        int kg = KGroups(k), panels = Panels(n);
        int* colSum = (int*)(dst + (long)panels * NR * kg * 4);
        for (int jp = 0; jp < panels; jp++)
        {
            sbyte* panel = (sbyte*)dst + (long)jp * NR * kg * 4;
            for (int c = 0; c < NR; c++)
            {
                int j = jp * NR + c, sum = 0;
                for (int p = 0; p < kg * 4; p++)
                {
                    int v = 0;
                    if (j < n && p < k)
                    {
                        byte raw = transposed ? b[(long)j * k + p] : b[(long)p * n + j];
                        v = bUnsigned ? raw - 128 : (sbyte)raw;
                    }
                    panel[(long)(p / 4) * NR * 4 + c * 4 + p % 4] = (sbyte)v;
                    sum += v;
                }
                colSum[jp * NR + c] = sum;
            }
        }
    }

    /// <summary><see cref="Run(byte*, int, bool, byte*, bool, byte*, bool, byte*, bool, int*, int, int, int, int, Int8Path)"/> on the best path.</summary>
    public static void Run(byte* a, int lda, bool aSigned, byte* aZero, bool aZeroPerRow, byte* packedB, bool bUnsigned, byte* bZero, bool bZeroPerCol,
        int* y, int ldy, int m, int n, int k) =>
        Run(a, lda, aSigned, aZero, aZeroPerRow, packedB, bUnsigned, bZero, bZeroPerCol, y, ldy, m, n, k, Best);

    /// <summary>
    /// y[i·ldy + j] = Σ_p (a[i·lda + p] - za) · (b[p, j] - zb) for i &lt; m, j &lt; n. A is int8 when <paramref name="aSigned"/>,
    /// else uint8; its zero point one value or one per row (null: 0). B is packed by <see cref="Pack"/>; its zero point one
    /// value or one per column (null: 0), of B's type.
    /// </summary>
    public static void Run(byte* a, int lda, bool aSigned, byte* aZero, bool aZeroPerRow, byte* packedB, bool bUnsigned, byte* bZero, bool bZeroPerCol,
        int* y, int ldy, int m, int n, int k, Int8Path path)
    {
        int kg = KGroups(k), panels = Panels(n);
        long panelBytes = (long)NR * kg * 4;
        int* colSum = (int*)(packedB + panels * panelBytes);
        // Rows in chunks of about 128 KB of A (L2-resident) so each 16-column panel of B (L1-resident) is read once per chunk.
        int chunk = Math.Clamp(131072 / Math.Max(k, 1), 4, MaxChunk) & ~3;
        int* acc = stackalloc int[4 * NR];
        int* rowSum = stackalloc int[MaxChunk];
        int* za = stackalloc int[MaxChunk];
        byte** rows = stackalloc byte*[4];
        for (int c0 = 0; c0 < m; c0 += chunk)
        {
            int mc = Math.Min(chunk, m - c0);
            for (int r = 0; r < mc; r++)
            {
                int i = c0 + r;
                rowSum[r] = RowSum(a + (long)i * lda, k, aSigned);
                int z = aZero == null ? 0 : aSigned ? (sbyte)aZero[aZeroPerRow ? i : 0] : aZero[aZeroPerRow ? i : 0];
                za[r] = z + (aSigned ? 128 : 0);
            }
            for (int jp = 0; jp < panels; jp++)
            {
                byte* pb = packedB + jp * panelBytes;
                int nc = Math.Min(NR, n - jp * NR);
                for (int r0 = 0; r0 < mc; r0 += 4)
                {
                    int mr = Math.Min(4, mc - r0);
                    for (int r = 0; r < 4; r++) rows[r] = a + (long)(c0 + r0 + Math.Min(r, mr - 1)) * lda;
                    Micro(path, rows, mr, aSigned, pb, colSum + jp * NR, k, acc);
                    for (int r = 0; r < mr; r++)
                    {
                        int* yr = y + (long)(c0 + r0 + r) * ldy + jp * NR;
                        int zar = za[r0 + r], rs = rowSum[r0 + r];
                        for (int c = 0; c < nc; c++)
                        {
                            int j = jp * NR + c;
                            int zb = bZero == null ? 0 : bUnsigned ? bZero[bZeroPerCol ? j : 0] : (sbyte)bZero[bZeroPerCol ? j : 0];
                            zb -= bUnsigned ? 128 : 0;
                            yr[c] = acc[r * NR + c] - zb * rs - zar * colSum[j] + k * zar * zb;
                        }
                    }
                }
            }
        }
    }

    private const int MaxChunk = 256;

    /// <summary>Σ_p a'[p] with a' = a + 128 for int8 rows (the sign bit flipped), else a.</summary>
    public static int RowSum(byte* row, int k, bool aSigned)
    {
        int p = 0;
        long sum = 0;
        if (Avx2.IsSupported)
        {
            var flip = Vector256.Create(aSigned ? (byte)0x80 : (byte)0);
            var s = Vector256<ulong>.Zero;
            for (; p + 32 <= k; p += 32) s += Avx2.SumAbsoluteDifferences(Vector256.Load(row + p) ^ flip, Vector256<byte>.Zero).AsUInt64();
            sum = (long)Vector256.Sum(s);
        }
        for (; p < k; p++) sum += aSigned ? (byte)(row[p] ^ 0x80) : row[p];
        return (int)sum;
    }

    /// <summary>Four activation bytes of group g as an int (sign bits flipped for int8 rows); the tail group zero padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Quad(byte* row, int g, int k, int flip)
    {
        int p = g * 4;
        if (p + 4 <= k) return Unsafe.ReadUnaligned<int>(row + p) ^ flip;
        int v = 0;
        for (int q = 0; p + q < k; q++) v |= (row[p + q] ^ (flip & 0xFF)) << (8 * q);
        return v;
    }

    private static void Micro(Int8Path path, byte** rows, int mr, bool aSigned, byte* pb, int* colSum, int k, int* acc)
    {
        switch (path)
        {
            case Int8Path.AvxVnni when AvxVnni.IsSupported:
                if (mr == 1) Vnni1(rows[0], aSigned, pb, k, acc);
                else Vnni4(rows, aSigned, pb, k, acc);
                return;
            case Int8Path.Avx512BW when Avx512BW.IsSupported:
                Madd512(rows, aSigned, pb, k, acc);
                return;
            case Int8Path.Avx2 when Avx2.IsSupported:
                Madd256(rows, aSigned, pb, k, acc);
                return;
            case Int8Path.ArmDot when Dp.IsSupported:
                Sdot4(rows, aSigned, pb, colSum, k, acc);
                return;
            case Int8Path.ArmSimd when AdvSimd.Arm64.IsSupported:
                for (int r = 0; r < mr; r++) Neon1(rows[r], aSigned, pb, k, acc + r * NR);
                return;
            default:
                for (int r = 0; r < mr; r++) Scalar1(rows[r], aSigned, pb, k, acc + r * NR);
                return;
        }
    }

    private static void Scalar1(byte* row, bool aSigned, byte* pb, int k, int* acc)
    {
        int kg = KGroups(k), flip = aSigned ? unchecked((int)0x80808080) : 0;
        for (int c = 0; c < NR; c++) acc[c] = 0;
        for (int g = 0; g < kg; g++)
        {
            int q = Quad(row, g, k, flip);
            sbyte* b = (sbyte*)pb + g * NR * 4;
            for (int c = 0; c < NR; c++)
                acc[c] += (byte)q * b[c * 4] + (byte)(q >> 8) * b[c * 4 + 1] + (byte)(q >> 16) * b[c * 4 + 2] + (byte)(q >> 24) * b[c * 4 + 3];
        }
    }

    /// <summary>Whether the activation rows are int8 (their sign bits are flipped on load); a type so the JIT drops the test.</summary>
    private interface ISign
    {
        static abstract bool Flip { get; }
    }

    private struct SignedRows : ISign
    {
        public static bool Flip => true;
    }

    private struct UnsignedRows : ISign
    {
        public static bool Flip => false;
    }

    /// <summary>Four activation bytes broadcast to every int32 lane, straight from memory (vpbroadcastd), sign bits flipped for int8 rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Broadcast4<TSign>(byte* p) where TSign : ISign
    {
        var v = Vector256.Create(Unsafe.ReadUnaligned<int>(p)).AsByte();
        return TSign.Flip ? v ^ Vector256.Create((byte)0x80) : v;
    }

    private static void Vnni4(byte** rows, bool aSigned, byte* pb, int k, int* acc)
    {
        if (aSigned) Vnni4<SignedRows>(rows, pb, k, acc);
        else Vnni4<UnsignedRows>(rows, pb, k, acc);
    }

    private static void Vnni4<TSign>(byte** rows, byte* pb, int k, int* acc) where TSign : ISign
    {
        int kg = KGroups(k), flip = TSign.Flip ? unchecked((int)0x80808080) : 0;
        byte* r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3];
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        int full = k / 4, g = 0;
        for (; g < full; g++)
        {
            var b0 = Vector256.Load((sbyte*)pb + g * 64);
            var b1 = Vector256.Load((sbyte*)pb + g * 64 + 32);
            var a0 = Broadcast4<TSign>(r0 + g * 4);
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, a0, b0);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, a0, b1);
            var a1 = Broadcast4<TSign>(r1 + g * 4);
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, a1, b0);
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, a1, b1);
            var a2 = Broadcast4<TSign>(r2 + g * 4);
            c20 = AvxVnni.MultiplyWideningAndAdd(c20, a2, b0);
            c21 = AvxVnni.MultiplyWideningAndAdd(c21, a2, b1);
            var a3 = Broadcast4<TSign>(r3 + g * 4);
            c30 = AvxVnni.MultiplyWideningAndAdd(c30, a3, b0);
            c31 = AvxVnni.MultiplyWideningAndAdd(c31, a3, b1);
        }
        if (g < kg)
        {
            // The k tail: a zero-padded group (B is zero padded too).
            var b0 = Vector256.Load((sbyte*)pb + g * 64);
            var b1 = Vector256.Load((sbyte*)pb + g * 64 + 32);
            var a0 = Vector256.Create(Quad(r0, g, k, flip)).AsByte();
            var a1 = Vector256.Create(Quad(r1, g, k, flip)).AsByte();
            var a2 = Vector256.Create(Quad(r2, g, k, flip)).AsByte();
            var a3 = Vector256.Create(Quad(r3, g, k, flip)).AsByte();
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, a0, b0);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, a0, b1);
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, a1, b0);
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, a1, b1);
            c20 = AvxVnni.MultiplyWideningAndAdd(c20, a2, b0);
            c21 = AvxVnni.MultiplyWideningAndAdd(c21, a2, b1);
            c30 = AvxVnni.MultiplyWideningAndAdd(c30, a3, b0);
            c31 = AvxVnni.MultiplyWideningAndAdd(c31, a3, b1);
        }
        c00.Store(acc); c01.Store(acc + 8);
        c10.Store(acc + 16); c11.Store(acc + 24);
        c20.Store(acc + 32); c21.Store(acc + 40);
        c30.Store(acc + 48); c31.Store(acc + 56);
    }

    /// <summary>One row (GEMV): two k groups per step on separate accumulators so the vpdpbusd chains overlap.</summary>
    private static void Vnni1(byte* r0, bool aSigned, byte* pb, int k, int* acc)
    {
        int kg = KGroups(k), flip = aSigned ? unchecked((int)0x80808080) : 0, full = k / 4;
        Vector256<int> c0 = default, c1 = default, d0 = default, d1 = default;
        int g = 0;
        for (; g + 2 <= full; g += 2)
        {
            sbyte* b = (sbyte*)pb + g * 64;
            var a0 = Vector256.Create(Unsafe.ReadUnaligned<int>(r0 + g * 4) ^ flip).AsByte();
            var a1 = Vector256.Create(Unsafe.ReadUnaligned<int>(r0 + g * 4 + 4) ^ flip).AsByte();
            c0 = AvxVnni.MultiplyWideningAndAdd(c0, a0, Vector256.Load(b));
            c1 = AvxVnni.MultiplyWideningAndAdd(c1, a0, Vector256.Load(b + 32));
            d0 = AvxVnni.MultiplyWideningAndAdd(d0, a1, Vector256.Load(b + 64));
            d1 = AvxVnni.MultiplyWideningAndAdd(d1, a1, Vector256.Load(b + 96));
        }
        for (; g < kg; g++)
        {
            sbyte* b = (sbyte*)pb + g * 64;
            var a0 = Vector256.Create(Quad(r0, g, k, flip)).AsByte();
            c0 = AvxVnni.MultiplyWideningAndAdd(c0, a0, Vector256.Load(b));
            c1 = AvxVnni.MultiplyWideningAndAdd(c1, a0, Vector256.Load(b + 32));
        }
        (c0 + d0).Store(acc);
        (c1 + d1).Store(acc + 8);
    }

    /// <summary>Four activation bytes (after the flip, unsigned) zero-extended into four int16 lanes of a ulong.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Widen4(int q) => Bmi2.X64.IsSupported
        ? Bmi2.X64.ParallelBitDeposit((uint)q, 0x00FF00FF00FF00FFUL)
        : (byte)q | (ulong)(byte)(q >> 8) << 16 | (ulong)(byte)(q >> 16) << 32 | (ulong)(byte)(q >> 24) << 48;

    private static void Madd512(byte** rows, bool aSigned, byte* pb, int k, int* acc)
    {
        int kg = KGroups(k), flip = aSigned ? unchecked((int)0x80808080) : 0;
        byte* r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3];
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int g = 0; g < kg; g++)
        {
            sbyte* b = (sbyte*)pb + g * 64;
            var b0 = Avx512BW.ConvertToVector512Int16(Vector256.Load(b));
            var b1 = Avx512BW.ConvertToVector512Int16(Vector256.Load(b + 32));
            var a0 = Vector512.Create(Widen4(Quad(r0, g, k, flip))).AsInt16();
            var a1 = Vector512.Create(Widen4(Quad(r1, g, k, flip))).AsInt16();
            var a2 = Vector512.Create(Widen4(Quad(r2, g, k, flip))).AsInt16();
            var a3 = Vector512.Create(Widen4(Quad(r3, g, k, flip))).AsInt16();
            c00 += Avx512BW.MultiplyAddAdjacent(b0, a0);
            c01 += Avx512BW.MultiplyAddAdjacent(b1, a0);
            c10 += Avx512BW.MultiplyAddAdjacent(b0, a1);
            c11 += Avx512BW.MultiplyAddAdjacent(b1, a1);
            c20 += Avx512BW.MultiplyAddAdjacent(b0, a2);
            c21 += Avx512BW.MultiplyAddAdjacent(b1, a2);
            c30 += Avx512BW.MultiplyAddAdjacent(b0, a3);
            c31 += Avx512BW.MultiplyAddAdjacent(b1, a3);
        }
        // Each int32 lane holds half a column (two of its four k products per group): add adjacent pairs.
        int* t = stackalloc int[32];
        Pairs512(c00, c01, t, acc);
        Pairs512(c10, c11, t, acc + 16);
        Pairs512(c20, c21, t, acc + 32);
        Pairs512(c30, c31, t, acc + 48);
    }

    private static void Pairs512(Vector512<int> lo, Vector512<int> hi, int* t, int* dst)
    {
        lo.Store(t);
        hi.Store(t + 16);
        for (int c = 0; c < NR; c++) dst[c] = t[2 * c] + t[2 * c + 1];
    }

    private static void Madd256(byte** rows, bool aSigned, byte* pb, int k, int* acc)
    {
        int kg = KGroups(k), flip = aSigned ? unchecked((int)0x80808080) : 0;
        int* t = stackalloc int[32];
        for (int r = 0; r < 4; r += 2)
        {
            byte* r0 = rows[r], r1 = rows[r + 1];
            Vector256<int> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
            for (int g = 0; g < kg; g++)
            {
                sbyte* b = (sbyte*)pb + g * 64;
                var b0 = Avx2.ConvertToVector256Int16(Vector128.Load(b));
                var b1 = Avx2.ConvertToVector256Int16(Vector128.Load(b + 16));
                var b2 = Avx2.ConvertToVector256Int16(Vector128.Load(b + 32));
                var b3 = Avx2.ConvertToVector256Int16(Vector128.Load(b + 48));
                var a0 = Vector256.Create(Widen4(Quad(r0, g, k, flip))).AsInt16();
                var a1 = Vector256.Create(Widen4(Quad(r1, g, k, flip))).AsInt16();
                c00 += Avx2.MultiplyAddAdjacent(b0, a0);
                c01 += Avx2.MultiplyAddAdjacent(b1, a0);
                c02 += Avx2.MultiplyAddAdjacent(b2, a0);
                c03 += Avx2.MultiplyAddAdjacent(b3, a0);
                c10 += Avx2.MultiplyAddAdjacent(b0, a1);
                c11 += Avx2.MultiplyAddAdjacent(b1, a1);
                c12 += Avx2.MultiplyAddAdjacent(b2, a1);
                c13 += Avx2.MultiplyAddAdjacent(b3, a1);
            }
            c00.Store(t); c01.Store(t + 8); c02.Store(t + 16); c03.Store(t + 24);
            for (int c = 0; c < NR; c++) acc[r * NR + c] = t[2 * c] + t[2 * c + 1];
            c10.Store(t); c11.Store(t + 8); c12.Store(t + 16); c13.Store(t + 24);
            for (int c = 0; c < NR; c++) acc[(r + 1) * NR + c] = t[2 * c] + t[2 * c + 1];
        }
    }

    private static void Sdot4(byte** rows, bool aSigned, byte* pb, int* colSum, int k, int* acc)
    {
        // SDOT is signed × signed: read a'' = a' - 128 (= a for int8 rows, a ^ 0x80 for uint8), then add 128·colsum(b').
        int kg = KGroups(k), flip = aSigned ? 0 : unchecked((int)0x80808080);
        for (int r = 0; r < 4; r++)
        {
            byte* row = rows[r];
            Vector128<int> c0 = default, c1 = default, c2 = default, c3 = default;
            for (int g = 0; g < kg; g++)
            {
                sbyte* b = (sbyte*)pb + g * 64;
                var av = Vector128.Create(Quad(row, g, k, flip)).AsSByte();
                c0 = Dp.DotProduct(c0, Vector128.Load(b), av);
                c1 = Dp.DotProduct(c1, Vector128.Load(b + 16), av);
                c2 = Dp.DotProduct(c2, Vector128.Load(b + 32), av);
                c3 = Dp.DotProduct(c3, Vector128.Load(b + 48), av);
            }
            int* d = acc + r * NR;
            var bias = Vector128.Create(128);
            (c0 + bias * Vector128.Load(colSum)).Store(d);
            (c1 + bias * Vector128.Load(colSum + 4)).Store(d + 4);
            (c2 + bias * Vector128.Load(colSum + 8)).Store(d + 8);
            (c3 + bias * Vector128.Load(colSum + 12)).Store(d + 12);
        }
    }

    private static void Neon1(byte* row, bool aSigned, byte* pb, int k, int* acc)
    {
        // Per column, four int32 lanes (one per k of the group) of widened int16 products; summed at the end.
        int kg = KGroups(k), flip = aSigned ? unchecked((int)0x80808080) : 0;
        var lanes = stackalloc Vector128<int>[NR];
        for (int c = 0; c < NR; c++) lanes[c] = default;
        for (int g = 0; g < kg; g++)
        {
            sbyte* b = (sbyte*)pb + g * 64;
            var av = Vector64.Create(Widen4(Quad(row, g, k, flip))).AsInt16();
            for (int c = 0; c < NR; c += 2)
            {
                var bw = AdvSimd.SignExtendWideningLower(Vector64.Load(b + c * 4));
                lanes[c] = AdvSimd.MultiplyWideningLowerAndAdd(lanes[c], bw.GetLower(), av);
                lanes[c + 1] = AdvSimd.MultiplyWideningLowerAndAdd(lanes[c + 1], bw.GetUpper(), av);
            }
        }
        for (int c = 0; c < NR; c++) acc[c] = Vector128.Sum(lanes[c]);
    }
}

/// <summary>
/// Integer 2-D convolution (NCHW) on <see cref="Int8Gemm"/>: per image and group, the receptive fields are gathered into a
/// [oh·ow, cg·kh·kw] byte matrix (padding filled with the input zero point, so it contributes 0), multiplied by the weights
/// packed as Bᵀ (<see cref="Int8Gemm.Pack"/> with transposed = true, one pack per group, <see cref="PackedBytes"/>), and the
/// [pixels, channels] result is written back as int32 NCHW.
/// </summary>
public static unsafe class Int8Conv
{
    /// <summary>Bytes of the packed weights of all groups.</summary>
    public static long PackedBytes(int m, int cg, int kh, int kw, int group) => group * Int8Gemm.PackedBytes(m / group, cg * kh * kw);

    /// <summary>Packs weights [m, cg, kh, kw] (uint8 when <paramref name="wUnsigned"/>, else int8), group by group.</summary>
    public static void PackWeights(byte* w, bool wUnsigned, byte* dst, int m, int cg, int kh, int kw, int group)
    {
        int mg = m / group, kc = cg * kh * kw;
        for (int g = 0; g < group; g++)
            Int8Gemm.Pack(w + (long)g * mg * kc, wUnsigned, transposed: true, dst + g * Int8Gemm.PackedBytes(mg, kc), mg, kc);
    }

    /// <summary>Scratch bytes <see cref="Run"/> needs: the gathered patches (64-byte rounded) and the [pixels, mg] int32 product.</summary>
    public static long ScratchBytes(int m, int cg, int kh, int kw, int oh, int ow, int group) =>
        ((long)oh * ow * cg * kh * kw + 63) / 64 * 64 + (long)oh * ow * (m / group) * 4;

    /// <summary>
    /// y[b, oc, oy, ox] = Σ (x - xZero) · (w - wZero[oc or 0]) over the window (int32); x int8 when <paramref name="xSigned"/>, else
    /// uint8; w packed by <see cref="PackWeights"/>.
    /// </summary>
    public static void Run(byte* x, bool xSigned, byte* xZero, byte* wPacked, bool wUnsigned, byte* wZero, bool wZeroPerChannel, int* y, byte* scratch,
        int n, int c, int h, int wIn, int m, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW, int group)
    {
        int cg = c / group, mg = m / group, kc = cg * kh * kw, pixels = oh * ow;
        byte fill = xZero == null ? (byte)0 : xZero[0];
        byte* patches = scratch;
        int* prod = (int*)(scratch + ((long)pixels * kc + 63) / 64 * 64);
        for (int b = 0; b < n; b++)
            for (int g = 0; g < group; g++)
            {
                byte* xg = x + ((long)b * c + g * cg) * h * wIn;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        byte* row = patches + ((long)oy * ow + ox) * kc;
                        for (int ic = 0; ic < cg; ic++)
                            for (int ky = 0; ky < kh; ky++)
                            {
                                int iy = oy * strideH - padTop + ky * dilH;
                                byte* dst = row + (ic * kh + ky) * kw;
                                if ((uint)iy >= (uint)h)
                                {
                                    for (int kx = 0; kx < kw; kx++) dst[kx] = fill;
                                    continue;
                                }
                                byte* src = xg + ((long)ic * h + iy) * wIn;
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int ix = ox * strideW - padLeft + kx * dilW;
                                    dst[kx] = (uint)ix < (uint)wIn ? src[ix] : fill;
                                }
                            }
                    }
                Int8Gemm.Run(patches, kc, xSigned, xZero, false, wPacked + g * Int8Gemm.PackedBytes(mg, kc), wUnsigned,
                    wZero == null ? null : wZeroPerChannel ? wZero + g * mg : wZero, wZeroPerChannel, prod, mg, pixels, mg, kc);
                int* yg = y + ((long)b * m + g * mg) * pixels;
                for (int p = 0; p < pixels; p++)
                    for (int oc = 0; oc < mg; oc++) yg[(long)oc * pixels + p] = prod[(long)p * mg + oc];
            }
    }
}
