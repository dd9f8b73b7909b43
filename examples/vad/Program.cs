// Voice activity detection with Silero VAD compiled ahead of time by llmaot (the SileroVad class is generated during the
// build from the ONNX model; see vad.csproj).
//   vad FILE.wav           prints the speech segments of a 16 kHz mono WAV file (16-bit PCM or 32-bit float)
//   vad --synth FILE.wav   writes a demo recording: speech-like voiced bursts separated by pauses; prints where the bursts are
using System.Globalization;
using Vad;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 2 && args[0] == "--synth")
{
    var (samples, bursts) = DemoAudio.Make();
    Wav.WriteMono16(args[1], samples, 16000);
    Console.WriteLine($"wrote {args[1]}: {samples.Length / 16000.0:F2} s, 16 kHz mono");
    foreach (var (start, end) in bursts) Console.WriteLine($"burst {start:F2}-{end:F2} s");
    return 0;
}
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: vad FILE.wav | vad --synth FILE.wav");
    return 2;
}
float[] audio;
try { audio = Wav.ReadMono16k(args[0]); }
catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {args[0]}: {e.Message}");
    return 1;
}

var segments = SpeechDetector.Segments(audio);
foreach (var (start, end) in segments)
    Console.WriteLine($"speech {start:F2}-{end:F2} s");
Console.WriteLine($"{segments.Count} segment(s) in {audio.Length / 16000.0:F2} s");
return 0;

/// <summary>Runs Silero VAD over 32 ms chunks and turns its speech probabilities into segments (with hysteresis).</summary>
static class SpeechDetector
{
    public const int Chunk = 512, Context = 64, Rate = 16000;

    public static List<(double Start, double End)> Segments(float[] audio, float on = 0.5f, float off = 0.35f, double minSpeech = 0.25, double minSilence = 0.1)
    {
        using var vad = new SileroVad();
        var input = new float[SileroVad.InputLength];      // [1, 576]: 64 samples of context, then the chunk
        var state = new float[SileroVad.StateLength];      // [2, 1, 128]
        var stateN = new float[SileroVad.StateNLength];
        var prob = new float[SileroVad.OutputLength];      // [1, 1]
        var result = new List<(double, double)>();
        double chunkSeconds = (double)Chunk / Rate;
        double? start = null, silentSince = null;
        int chunks = (audio.Length + Chunk - 1) / Chunk;
        for (int c = 0; c < chunks; c++)
        {
            input.AsSpan(Chunk, Context).CopyTo(input);     // the previous chunk's last 64 samples become the context
            var chunk = input.AsSpan(Context);
            chunk.Clear();
            audio.AsSpan(c * Chunk, Math.Min(Chunk, audio.Length - c * Chunk)).CopyTo(chunk);
            vad.Run(input, state, prob, stateN);
            stateN.CopyTo(state.AsSpan());
            double t = c * chunkSeconds;
            if (start == null)
            {
                if (prob[0] >= on) { start = t; silentSince = null; }
            }
            else if (prob[0] < off)
            {
                silentSince ??= t;
                if (t + chunkSeconds - silentSince >= minSilence)
                {
                    if (silentSince.Value - start.Value >= minSpeech) result.Add((start.Value, silentSince.Value));
                    start = null;
                    silentSince = null;
                }
            }
            else silentSince = null;
        }
        if (start != null && chunks * chunkSeconds - start.Value >= minSpeech) result.Add((start.Value, chunks * chunkSeconds));
        return result;
    }
}

/// <summary>A synthetic recording: voiced, vowel-like syllables (a gliding pitch with formant-shaped harmonics) in bursts, with pauses.</summary>
static class DemoAudio
{
    public static (float[] Samples, List<(double Start, double End)> Bursts) Make()
    {
        // (pause before, burst length) in seconds.
        (double Pause, double Burst)[] plan = [(0.6, 1.2), (0.9, 1.6), (1.0, 0.8)];
        double total = plan.Sum(p => p.Pause + p.Burst) + 0.8;
        var x = new float[(int)(total * 16000)];
        var bursts = new List<(double, double)>();
        double t0 = 0;
        uint rng = 12345;
        for (int i = 0; i < x.Length; i++)
        {
            rng = rng * 1664525 + 1013904223;
            x[i] = 0.002f * ((rng >> 8) / (float)(1 << 24) - 0.5f);   // faint background noise everywhere
        }
        foreach (var (pause, burst) in plan)
        {
            double s = t0 + pause, e = s + burst;
            bursts.Add((s, e));
            Voice(x, s, e);
            t0 = e;
        }
        return (x, bursts);
    }

    // Syllables of 0.22 s every 0.26 s; pitch glides around 130 Hz; harmonics weighted by two vowel formants.
    private static void Voice(float[] x, double start, double end)
    {
        double phase = 0;
        for (int i = (int)(start * 16000); i < Math.Min(x.Length, (int)(end * 16000)); i++)
        {
            double t = i / 16000.0, local = t - start;
            double syl = local % 0.26;
            double env = syl < 0.22 ? Math.Sin(Math.PI * syl / 0.22) : 0;
            env *= Math.Min(1, Math.Min(local, end - t) / 0.03);
            double f0 = 130 + 25 * Math.Sin(2 * Math.PI * 2.5 * t) + 10 * Math.Sin(2 * Math.PI * 7 * t);
            phase += 2 * Math.PI * f0 / 16000;
            int vowel = (int)(local / 0.26) % 3;
            double f1 = vowel switch { 0 => 730, 1 => 400, _ => 550 }, f2 = vowel switch { 0 => 1090, 1 => 2000, _ => 1700 };
            double v = 0;
            for (int h = 1; h * f0 < 4000; h++)
            {
                double fh = h * f0;
                double a = 1 / (1 + Math.Pow((fh - f1) / 120, 2)) + 0.6 / (1 + Math.Pow((fh - f2) / 150, 2)) + 0.05 / h;
                v += a * Math.Sin(h * phase);
            }
            x[i] += (float)(0.15 * env * v);
        }
    }
}

/// <summary>Minimal RIFF/WAVE reading and writing: mono, 16 kHz, 16-bit PCM or 32-bit float.</summary>
static class Wav
{
    public static float[] ReadMono16k(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        if (new string(r.ReadChars(4)) != "RIFF") throw new InvalidDataException("not a RIFF file");
        r.ReadInt32();
        if (new string(r.ReadChars(4)) != "WAVE") throw new InvalidDataException("not a WAVE file");
        int format = 0, channels = 0, rate = 0, bits = 0;
        while (r.BaseStream.Position + 8 <= r.BaseStream.Length)
        {
            string id = new(r.ReadChars(4));
            int size = r.ReadInt32();
            if (size < 0 || size > r.BaseStream.Length - r.BaseStream.Position) throw new InvalidDataException($"chunk '{id}' is truncated");
            if (id == "fmt ")
            {
                format = r.ReadInt16(); channels = r.ReadInt16(); rate = r.ReadInt32(); r.ReadInt32(); r.ReadInt16(); bits = r.ReadInt16();
                r.BaseStream.Seek(size - 16, SeekOrigin.Current);
            }
            else if (id == "data")
            {
                if (channels != 1 || rate != 16000) throw new InvalidDataException($"need 16 kHz mono, got {rate} Hz with {channels} channel(s)");
                if (format == 1 && bits == 16)
                {
                    var s = new float[size / 2];
                    for (int i = 0; i < s.Length; i++) s[i] = r.ReadInt16() / 32768f;
                    return s;
                }
                if (format == 3 && bits == 32)
                {
                    var s = new float[size / 4];
                    for (int i = 0; i < s.Length; i++) s[i] = r.ReadSingle();
                    return s;
                }
                throw new InvalidDataException($"need 16-bit PCM or 32-bit float samples, got format {format} with {bits} bits");
            }
            else r.BaseStream.Seek(size + (size & 1), SeekOrigin.Current);
        }
        throw new InvalidDataException("no data chunk");
    }

    public static void WriteMono16(string path, float[] samples, int rate)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write("RIFF"u8); w.Write(36 + samples.Length * 2); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(16); w.Write((short)1); w.Write((short)1); w.Write(rate); w.Write(rate * 2); w.Write((short)2); w.Write((short)16);
        w.Write("data"u8); w.Write(samples.Length * 2);
        foreach (float f in samples) w.Write((short)Math.Clamp(MathF.Round(f * 32767f), -32768, 32767));
    }
}
