using System.Numerics;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

#pragma warning disable CS1591 // the operator structs are self-describing: each is the formula its name says

public struct AddOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T a, T b) => a + b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => a + b;
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a + b;
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a + b;
}

public struct SubOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T a, T b) => a - b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => a - b;
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a - b;
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a - b;
}

public struct MulOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T a, T b) => a * b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => a * b;
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a * b;
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a * b;
}

/// <summary>Division. Vectorized for floating point only; integer division truncates toward zero as ONNX specifies.</summary>
public struct DivOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => typeof(T) == typeof(float) || typeof(T) == typeof(double);
    public static T Invoke(T a, T b) => a / b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => a / b;
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a / b;
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a / b;
}

public struct ReluOp : IUnaryOp<float>
{
    public static bool Vectorizable => true;
    public static float Invoke(float x) => x > 0 ? x : 0f;
    public static Vector128<float> Invoke(Vector128<float> x) => Vector128.Max(x, Vector128<float>.Zero);
    public static Vector256<float> Invoke(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);
    public static Vector512<float> Invoke(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);
}

public struct SigmoidOp : IUnaryOp<float>
{
    public static bool Vectorizable => true;
    public static float Invoke(float x) => VectorMath.Sigmoid(x);
    public static Vector128<float> Invoke(Vector128<float> x) => VectorMath.Sigmoid(x);
    public static Vector256<float> Invoke(Vector256<float> x) => VectorMath.Sigmoid(x);
    public static Vector512<float> Invoke(Vector512<float> x) => VectorMath.Sigmoid(x);
}

public struct TanhOp : IUnaryOp<float>
{
    public static bool Vectorizable => true;
    public static float Invoke(float x) => VectorMath.Tanh(x);
    public static Vector128<float> Invoke(Vector128<float> x) => VectorMath.Tanh(x);
    public static Vector256<float> Invoke(Vector256<float> x) => VectorMath.Tanh(x);
    public static Vector512<float> Invoke(Vector512<float> x) => VectorMath.Tanh(x);
}
