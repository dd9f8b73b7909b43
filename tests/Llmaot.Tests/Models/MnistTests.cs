using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Models;

/// <summary>The two MNIST models against ONNX Runtime, in process, on several seeded inputs.</summary>
public class MnistTests
{
    [Theory]
    [InlineData("models/onnx/mnist.onnx", 1UL)]
    [InlineData("models/onnx/mnist.onnx", 2UL)]
    [InlineData("models/onnx/cnn_mnist_pytorch.onnx", 1UL)]
    [InlineData("models/onnx/cnn_mnist_pytorch.onnx", 2UL)]
    public void Matches_onnx_runtime_within_1e4(string model, ulong seed)
    {
        var results = Oracle.Check(SharedData.File(model), atol: 1e-4, rtol: 0, seed: seed);
        Assert.All(results, r => Assert.True(r.Count == 10, $"{r.Name} has {r.Count} elements"));
    }
}
