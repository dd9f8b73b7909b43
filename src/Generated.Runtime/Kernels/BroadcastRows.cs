using System.Runtime.CompilerServices;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Walks the rows of a contiguous output (every dimension but the last, in row-major order) and keeps, for up to three operands
/// read with their own element strides (0 where broadcast), the element offset where each operand's row starts: the odometer
/// the broadcasting kernels share. Rank at most 16; the caller handles rank 0 and the inner (last) dimension.
/// </summary>
public unsafe ref struct BroadcastRows
{
    private fixed int _index[16];
    private readonly ReadOnlySpan<int> _shape, _s0, _s1, _s2;

    /// <summary>Row offsets of the first, second and third operand (in elements).</summary>
    public long A, B, C;

    /// <summary>Rows of the output: the product of every dimension but the last.</summary>
    public readonly long Count;

    /// <summary>Starts at row 0; <paramref name="s1"/> and <paramref name="s2"/> may be empty when there are fewer operands.</summary>
    public BroadcastRows(ReadOnlySpan<int> shape, ReadOnlySpan<int> s0, ReadOnlySpan<int> s1 = default, ReadOnlySpan<int> s2 = default)
    {
        if (shape.Length > 16) throw new ArgumentOutOfRangeException(nameof(shape), $"LLMAOT9020: a broadcast of rank {shape.Length}; at most 16 is supported");
        this = default; // every row counter starts at 0
        _shape = shape; _s0 = s0; _s1 = s1; _s2 = s2;
        long rows = 1;
        for (int d = 0; d < shape.Length - 1; d++) rows *= shape[d];
        Count = rows;
    }

    /// <summary>Advances to the next row: the last outer dimension counts up and carries into the ones before it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Next()
    {
        for (int d = _shape.Length - 2; d >= 0; d--)
        {
            _index[d]++;
            A += _s0[d];
            if (!_s1.IsEmpty) B += _s1[d];
            if (!_s2.IsEmpty) C += _s2[d];
            if (_index[d] < _shape[d]) return;
            A -= (long)_s0[d] * _shape[d];
            if (!_s1.IsEmpty) B -= (long)_s1[d] * _shape[d];
            if (!_s2.IsEmpty) C -= (long)_s2[d] * _shape[d];
            _index[d] = 0;
        }
    }
}
