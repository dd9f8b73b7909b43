// The smallest use of Llmaot.Build: SileroVad is generated from the ONNX model at build time (see consumer.csproj).
using Consumer;

var vad = new SileroVad();
var input = new float[SileroVad.InputLength];      // one 32 ms frame at 16 kHz: float32[1,512]
var state = new float[SileroVad.StateLength];      // recurrent state: float32[2,1,128]
long[] sr = [16000];
var output = new float[SileroVad.OutputLength];    // speech probability: float32[1,1]
var stateN = new float[SileroVad.StateNLength];

for (int frame = 0; frame < 8; frame++)
{
    for (int i = 0; i < input.Length; i++)         // silence for 4 frames, then a 220 Hz tone
        input[i] = frame < 4 ? 0f : 0.5f * MathF.Sin(2 * MathF.PI * 220 * (frame * 512 + i) / 16000f);
    vad.Run(input, state, sr, output, stateN);
    stateN.CopyTo(state, 0);
    Console.WriteLine($"frame {frame}: speech probability {output[0]:F3}");
}
Console.WriteLine($"{vad.Info.Name}: {SileroVad.WeightsBytes} weight bytes, {SileroVad.ArenaBytes} arena bytes");
