using System.Globalization;

namespace PeftNative.Tests.NativeApi;

/// <summary>
/// The parsed stdout of native/examples/kernels_example.c: the bad call's status and message, and per
/// case (f32, bf16) the scalars and tensors it printed as exact bit patterns, and its own check lines.
/// </summary>
internal sealed class KernelsExampleOutput : IDisposable
{
    public int ErrorStatus { get; private set; } = -1;

    public string ErrorMessage { get; private set; } = "";

    public List<ExampleCase> Cases { get; } = [];

    public List<string> Checks { get; } = [];

    public static KernelsExampleOutput Parse(string stdout)
    {
        var result = new KernelsExampleOutput();
        ExampleCase? current = null;
        foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] f = line.Split(' ');
            switch (f[0])
            {
                case "error":
                    result.ErrorStatus = int.Parse(f[1], CultureInfo.InvariantCulture);
                    result.ErrorMessage = string.Join(' ', f.Skip(2));
                    break;
                case "case":
                    current = new ExampleCase(ParseDType(f[1]), Threads: int.Parse(f[^1], CultureInfo.InvariantCulture));
                    result.Cases.Add(current);
                    break;
                case "scalar":
                    current!.Scalars[f[1]] = BitConverter.UInt32BitsToSingle(uint.Parse(f[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    break;
                case "tensor":
                    current!.Tensors[f[1]] = ParseTensor(f);
                    break;
                case "check":
                    result.Checks.Add(line);
                    break;
            }
        }
        return result;
    }

    public void Dispose()
    {
        foreach (var c in Cases)
            foreach (var t in c.Tensors.Values)
                t.Dispose();
    }

    private static DType ParseDType(string name) => name switch
    {
        "f32" => DType.F32,
        "bf16" => DType.BF16,
        _ => throw new FormatException($"unknown dtype '{name}' in the example's output"),
    };

    private static Tensor ParseTensor(string[] f)
    {
        long rows = long.Parse(f[3], CultureInfo.InvariantCulture), cols = long.Parse(f[4], CultureInfo.InvariantCulture);
        var t = Tensor.Allocate(ParseDType(f[2]), rows, cols);
        Assert.That(f.Length - 5, Is.EqualTo(rows * cols), $"tensor {f[1]}: value count");
        for (long i = 0; i < rows * cols; i++)
            RandomTensors.SetBits(t, i, uint.Parse(f[5 + i], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        return t;
    }
}

/// <summary>One dtype's run of the example.</summary>
internal sealed record ExampleCase(DType DType, int Threads)
{
    public Dictionary<string, float> Scalars { get; } = [];

    public Dictionary<string, Tensor> Tensors { get; } = [];
}
