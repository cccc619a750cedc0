using PeftNative.Adapters;

namespace PeftNative.Tests.Composition;

/// <summary>
/// Adapters built in memory for the diagnostics tests, and the float64 dense references they are
/// checked against: every update s B A is formed as a full out x in matrix with plain loops.
/// </summary>
internal static class DiagnosticsTestAdapters
{
    /// <summary>A LoRA module to build: path, factors B [out, r] and A [r, in] as float64 (stored rounded to f32).</summary>
    public sealed record Factors(string Path, double[,] B, double[,] A);

    /// <summary>Gaussian-ish values in [-1, 1) (sum of two uniforms), never all equal.</summary>
    public static double[,] Random(Random rng, int rows, int cols, double scale = 1.0)
    {
        var m = new double[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                m[i, j] = scale * (rng.NextDouble() + rng.NextDouble() - 1.0);
        return m;
    }

    /// <summary>x + noise * y elementwise.</summary>
    public static double[,] Perturb(double[,] x, double[,] y, double noise)
    {
        var m = (double[,])x.Clone();
        for (int i = 0; i < m.GetLength(0); i++)
            for (int j = 0; j < m.GetLength(1); j++)
                m[i, j] += noise * y[i, j];
        return m;
    }

    /// <summary>A LoRA adapter of one rank (each module's factors must have it) targeting the modules' last path segments.</summary>
    public static PeftAdapter Lora(int rank, double alpha, IEnumerable<Factors> modules, DType dtype = DType.F32, bool useRsLora = false)
    {
        var list = modules.ToList();
        var targets = list.Select(m => m.Path[(m.Path.LastIndexOf('.') + 1)..]).Distinct().ToList();
        var config = AdapterConfig.CreateLora(rank, alpha, ModuleSelector.FromNames(targets), useRsLora: useRsLora, baseModelNameOrPath: "synthetic");
        return PeftAdapter.Create(config, list.Select(m => LoraModule.FromConfig(config, m.Path, ToTensor(m.A, dtype), ToTensor(m.B, dtype))));
    }

    /// <summary>An (IA)^3 adapter with output-scaled modules (vectors [n, 1]).</summary>
    public static PeftAdapter Ia3(IEnumerable<(string Path, double[] L)> modules)
    {
        var list = modules.ToList();
        var targets = list.Select(m => m.Path[(m.Path.LastIndexOf('.') + 1)..]).Distinct().ToList();
        var config = AdapterConfig.CreateIa3(ModuleSelector.FromNames(targets), null);
        return PeftAdapter.Create(config, ia3Modules: list.Select(m =>
        {
            var v = new double[m.L.Length, 1];
            for (int i = 0; i < m.L.Length; i++)
                v[i, 0] = m.L[i];
            return Ia3Module.FromConfig(config, m.Path, ToTensor(v, DType.F32));
        }));
    }

    public static Tensor ToTensor(double[,] m, DType dtype)
    {
        var t = Tensor.Allocate(dtype, m.GetLength(0), m.GetLength(1));
        int k = 0;
        for (int i = 0; i < m.GetLength(0); i++)
            for (int j = 0; j < m.GetLength(1); j++)
                RandomTensors.Set(t, k++, m[i, j]);
        return t;
    }

    /// <summary>The stored tensor read back as a float64 matrix.</summary>
    public static double[,] FromTensor(Tensor t)
    {
        int rows = (int)t.Shape[0], cols = (int)t.Shape[1];
        var m = new double[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                m[i, j] = RandomTensors.Get(t, (long)i * cols + j);
        return m;
    }

    /// <summary>s B A formed densely from the module's stored tensors.</summary>
    public static double[,] DenseUpdate(LoraModule m) => Scale(MatMul(FromTensor(m.B), FromTensor(m.A)), m.Scaling);

    public static double[,] MatMul(double[,] x, double[,] y)
    {
        int n = x.GetLength(0), k = x.GetLength(1), p = y.GetLength(1);
        Assert.That(y.GetLength(0), Is.EqualTo(k), "reference matmul shapes");
        var r = new double[n, p];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < p; j++)
            {
                double s = 0;
                for (int t = 0; t < k; t++)
                    s += x[i, t] * y[t, j];
                r[i, j] = s;
            }
        return r;
    }

    public static double[,] Scale(double[,] x, double c)
    {
        var r = (double[,])x.Clone();
        for (int i = 0; i < r.GetLength(0); i++)
            for (int j = 0; j < r.GetLength(1); j++)
                r[i, j] *= c;
        return r;
    }

    /// <summary>x + c * y; a null x is zero of y's shape.</summary>
    public static double[,] AddScaled(double[,]? x, double[,] y, double c)
    {
        var r = x is null ? new double[y.GetLength(0), y.GetLength(1)] : (double[,])x.Clone();
        for (int i = 0; i < r.GetLength(0); i++)
            for (int j = 0; j < r.GetLength(1); j++)
                r[i, j] += c * y[i, j];
        return r;
    }

    public static double Inner(double[,] x, double[,] y)
    {
        double s = 0;
        for (int i = 0; i < x.GetLength(0); i++)
            for (int j = 0; j < x.GetLength(1); j++)
                s += x[i, j] * y[i, j];
        return s;
    }

    public static double Norm(double[,] x) => Math.Sqrt(Inner(x, x));
}
