namespace PeftNative.Models.Transformer;

/// <summary>
/// One projection <c>y = W x + b</c> of the model with the adapters applied at run time:
/// <c>y = ((W + Σ w·s·B A)(x ∘ l_in) + b + Σ w·s·b_B) ∘ l_out</c>, where l_in / l_out are the
/// products of the (IA)^3 vectors (each weighted as 1 + w(l − 1)) that scale its input
/// (feed-forward modules) or output (keys, values, GPT-2's fused c_attn). Merging the same
/// adapters gives that same map (LoRA first, then the (IA)^3 scalings), so both routes agree.
/// W is a zero-copy view of the checkpoint (or a private f32 copy once an adapter was merged);
/// (out × in) for nn.Linear or (in × out) when <see cref="InputMajor"/> (GPT-2 Conv1D).
/// </summary>
internal sealed class LinearProjection
{
    private readonly List<RuntimeLoraTerm> _lora = [];

    public LinearProjection(string tensorName, Tensor weight, bool inputMajor, float[]? bias)
    {
        TensorName = tensorName;
        Weight = weight;
        InputMajor = inputMajor;
        Bias = bias;
        In = (int)(inputMajor ? weight.Shape[0] : weight.Shape[1]);
        Out = (int)(inputMajor ? weight.Shape[1] : weight.Shape[0]);
    }

    /// <summary>The checkpoint tensor of W (adapters are matched to projections by it).</summary>
    public string TensorName { get; }

    public Tensor Weight { get; set; }

    public bool InputMajor { get; }

    public float[]? Bias { get; set; }

    public int In { get; }

    public int Out { get; }

    /// <summary>Run-time (IA)^3 input scaling, or null.</summary>
    public float[]? InputScale { get; private set; }

    /// <summary>Run-time (IA)^3 output scaling, or null.</summary>
    public float[]? OutputScale { get; private set; }

    public void AddLora(RuntimeLoraTerm term) => _lora.Add(term);

    public void MultiplyInputScale(ReadOnlySpan<float> l) => InputScale = Multiply(InputScale, l);

    public void MultiplyOutputScale(ReadOnlySpan<float> l) => OutputScale = Multiply(OutputScale, l);

    /// <summary>y (m × Out) from x (m × In).</summary>
    public void Forward(ForwardContext context, ReadOnlySpan<float> x, int m, Span<float> y)
    {
        if (InputScale is { } lin)
        {
            var scaled = new float[x.Length];
            for (int row = 0; row < m; row++)
            {
                ReadOnlySpan<float> xr = x.Slice(row * In, In);
                Span<float> sr = scaled.AsSpan(row * In, In);
                for (int j = 0; j < In; j++)
                    sr[j] = xr[j] * lin[j];
            }
            x = scaled;
        }
        context.MatMul.MatMul(x, m, Weight, InputMajor, y);
        foreach (var term in _lora)
        {
            var t = new float[m * term.Rank];
            context.MatMul.MatMul(x, m, term.A, weightIsInputMajor: false, t);
            for (int i = 0; i < t.Length; i++)
                t[i] *= term.Scale;
            context.MatMul.MatMul(t, m, term.B, weightIsInputMajor: false, y, accumulate: true);
            if (term.Bias is { } lb)
                AddRows(y, m, lb, term.Scale);
        }
        if (Bias is { } b)
            AddRows(y, m, b, 1f);
        if (OutputScale is { } lout)
        {
            for (int row = 0; row < m; row++)
            {
                Span<float> yr = y.Slice(row * Out, Out);
                for (int j = 0; j < Out; j++)
                    yr[j] *= lout[j];
            }
        }
    }

    private void AddRows(Span<float> y, int m, float[] v, float scale)
    {
        for (int row = 0; row < m; row++)
        {
            Span<float> yr = y.Slice(row * Out, Out);
            for (int j = 0; j < Out; j++)
                yr[j] += scale * v[j];
        }
    }

    private static float[] Multiply(float[]? current, ReadOnlySpan<float> l)
    {
        var result = l.ToArray();
        if (current is not null)
        {
            for (int i = 0; i < result.Length; i++)
                result[i] *= current[i];
        }
        return result;
    }
}
