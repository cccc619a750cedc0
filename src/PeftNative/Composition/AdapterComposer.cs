using PeftNative.Adapters;
using PeftNative.Backends;

namespace PeftNative.Composition;

/// <summary>
/// Composes named adapters by an expression with one of the <see cref="CompositionMethod"/>s
/// (README "Composition" has the table of formulas and where each departs from PEFT).
/// <para>
/// Steps: the expression is expanded into terms c_i * m_i (<see cref="ModuleExpression.Expand"/>);
/// the paper method alone applies <see cref="CoefficientNormalization"/> (unless
/// <see cref="CompositionOptions.RawWeights"/>), every other method uses the weights as written;
/// the terms are bound to the adapters and checked (see below); then each target module is
/// composed in turn — progress is reported and cancellation observed between modules — and the
/// result is one adapter with a config derived from the first term's adapter.
/// </para>
/// <para>
/// LoRA methods: paper (default), exact, svd, and PEFT's linear, cat, ties, ties_svd, dare_linear,
/// dare_ties, dare_linear_svd, dare_ties_svd, magnitude_prune, magnitude_prune_svd. (IA)^3 accepts
/// paper, exact and linear, which all compute l = 1 + sum_i c_i (l_i - 1).
/// </para>
/// </summary>
public static class AdapterComposer
{
    /// <summary>The note added when the paper's normalisation changed the coefficients (not when they already summed to 1).</summary>
    public const string NormalisationWarning = "coefficients rescaled to sum to 1 (the paper averages); use raw weights to keep them";

    /// <summary>
    /// Composes. Every adapter named in <paramref name="expression"/> must be in
    /// <paramref name="adapters"/> (others are ignored); all must share the PEFT type, the base
    /// model (when both name one) and fan_in_fan_out, and carry nothing but LoRA or (IA)^3 modules.
    /// Target modules must be the same in every input unless <see cref="CompositionOptions.UnionTargets"/>,
    /// which composes over their union: a module missing from an input is a zero update (LoRA) or
    /// l = 1 ((IA)^3) there. The inputs are only read; the result owns new tensors.
    /// </summary>
    /// <param name="expression">The composition, e.g. <c>ModuleExpression.Parse("0.7*c + 0.3*(x - y)")</c>.</param>
    /// <param name="adapters">Adapters by the names the expression uses.</param>
    /// <param name="options">Method and its settings (null: the paper method).</param>
    /// <param name="progress">Receives the fraction of modules done, 0..1.</param>
    /// <param name="cancellationToken">Checked between modules.</param>
    /// <exception cref="ArgumentException">Unknown names, mixed types or base models, target sets that differ without <see cref="CompositionOptions.UnionTargets"/>, ranks a method needs equal, bad options.</exception>
    /// <exception cref="InvalidDataException">Non-finite values in the result (unless allowed), naming the module.</exception>
    /// <exception cref="ObjectDisposedException">An adapter was disposed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; nothing is kept.</exception>
    public static CompositionResult Compose(ModuleExpression expression, IReadOnlyDictionary<string, PeftAdapter> adapters,
        CompositionOptions? options = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default) =>
        ComposeCore(expression, adapters, options, progress, null, cancellationToken);

    /// <summary>As the public overload, with the DARE masks supplied by <paramref name="masks"/> (null: drawn from options.Seed).</summary>
    internal static CompositionResult ComposeCore(ModuleExpression expression, IReadOnlyDictionary<string, PeftAdapter> adapters,
        CompositionOptions? options, IProgress<double>? progress, DareMaskSource? masks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(expression);
        ArgumentNullException.ThrowIfNull(adapters);
        options ??= new CompositionOptions();
        ValidateOptions(options);

        var expanded = expression.Expand();
        var warnings = new List<string>();
        var terms = expanded;
        if (options.Method == CompositionMethod.Paper && CoefficientNormalization.Applies(expanded, options.RawWeights))
        {
            terms = CoefficientNormalization.Apply(expanded, options.RawWeights);
            if (!terms.Select(t => t.Coefficient).SequenceEqual(expanded.Select(t => t.Coefficient)))
                warnings.Add(NormalisationWarning);
        }
        var inputs = TargetAlignment.Build(terms, adapters, options.UnionTargets);
        warnings.AddRange(inputs.Warnings);
        if (inputs.Type == PeftType.Ia3 && options.Method is not (CompositionMethod.Paper or CompositionMethod.Exact or CompositionMethod.Linear))
            throw new ArgumentException($"method {options.Method.Name()} combines LoRA factors; (IA)^3 adapters compose with paper, exact or linear (all give l = 1 + sum_i c_i (l_i - 1))", nameof(options));

        // Single-threaded kernels by default: the paper method runs modules in parallel (one small
        // kernel call per factor), which beats spreading each call over threads (bench --compose).
        IKernelBackend? owned = options.Backend is null ? KernelBackendFactory.Create(threads: 1) : null;
        var backend = options.Backend ?? owned!;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var adapter = inputs.Type == PeftType.Lora
                ? ComposeLora(inputs, options, backend, masks ?? DareMasks.Seeded(options.Seed, options.Density), warnings, progress, cancellationToken)
                : ComposeIa3(inputs, options, backend, progress, cancellationToken);
            var provenance = Provenance.Create(expression, terms, options, inputs, backend.Name);
            return new CompositionResult(adapter, terms, warnings, provenance);
        }
        finally
        {
            owned?.Dispose();
        }
    }

    private static PeftAdapter ComposeLora(TargetAlignment inputs, CompositionOptions options, IKernelBackend backend, DareMaskSource masks,
        List<string> warnings, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var method = CreateLoraMethod(options, inputs.OutputDType, backend, masks);
        method.Prepare(inputs, warnings);
        using var output = new LoraOutput(options.AllowNonFinite) { UseRsLora = (method as PaperLoraComposer)?.OutputUsesRsLora ?? false };
        var paths = inputs.ModulePaths;
        if (method.ModulesInParallel && paths.Count > 1 && Environment.ProcessorCount > 1)
        {
            int done = 0;
            var parallel = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
            try
            {
                Parallel.For(0, paths.Count, parallel, i =>
                {
                    method.ComposeModule(paths[i], inputs.Lora(paths[i]), output);
                    progress?.Report((double)Interlocked.Increment(ref done) / paths.Count);
                });
            }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0)
            {
                // Keep the documented exception types (InvalidDataException for non-finite results, ...).
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            }
        }
        else
        {
            for (int i = 0; i < paths.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                method.ComposeModule(paths[i], inputs.Lora(paths[i]), output);
                progress?.Report((double)(i + 1) / paths.Count);
            }
        }
        return output.ToAdapter(inputs);
    }

    private static PeftAdapter ComposeIa3(TargetAlignment inputs, CompositionOptions options, IKernelBackend backend,
        IProgress<double>? progress, CancellationToken cancellationToken)
    {
        using var composer = new PaperIa3Composer(backend, inputs.OutputDType, options.AllowNonFinite);
        var paths = inputs.ModulePaths;
        for (int i = 0; i < paths.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            composer.ComposeModule(paths[i], inputs.Ia3(paths[i]));
            progress?.Report((double)(i + 1) / paths.Count);
        }
        return composer.ToAdapter(inputs);
    }

    private static LoraMethod CreateLoraMethod(CompositionOptions o, DType dtype, IKernelBackend backend, DareMaskSource masks)
    {
        LoraMethod Stacks(MergeOperator op) => new PeftTaskArithmeticComposer(dtype, op, o.Density, o.MajoritySign, masks, o.Method.Name());
        LoraMethod Dense(MergeOperator op) => new PeftSvdComposer(dtype, o.Rank, o.SvdClamp, op, o.Density, o.MajoritySign, masks);
        return o.Method switch
        {
            CompositionMethod.Paper => new PaperLoraComposer(backend, dtype),
            CompositionMethod.Exact => new ExactComposer(dtype, weightsOnA: false),
            CompositionMethod.Cat => new ExactComposer(dtype, weightsOnA: true),
            CompositionMethod.Svd => new SvdComposer(dtype, o.Rank, o.SvdClamp),
            CompositionMethod.Linear => Stacks(MergeOperator.TaskArithmetic),
            CompositionMethod.Ties => Stacks(MergeOperator.Ties),
            CompositionMethod.DareLinear => Stacks(MergeOperator.DareLinear),
            CompositionMethod.DareTies => Stacks(MergeOperator.DareTies),
            CompositionMethod.MagnitudePrune => Stacks(MergeOperator.MagnitudePrune),
            CompositionMethod.TiesSvd => Dense(MergeOperator.Ties),
            CompositionMethod.DareLinearSvd => Dense(MergeOperator.DareLinear),
            CompositionMethod.DareTiesSvd => Dense(MergeOperator.DareTies),
            CompositionMethod.MagnitudePruneSvd => Dense(MergeOperator.MagnitudePrune),
            _ => throw new ArgumentOutOfRangeException(nameof(o), o.Method, "unknown composition method"),
        };
    }

    private static void ValidateOptions(CompositionOptions o)
    {
        if (!Enum.IsDefined(o.Method))
            throw new ArgumentOutOfRangeException(nameof(o), o.Method, "unknown composition method");
        if (!Enum.IsDefined(o.MajoritySign))
            throw new ArgumentOutOfRangeException(nameof(o), o.MajoritySign, "unknown majority sign method");
        if (!(o.Density > 0 && o.Density <= 1))
            throw new ArgumentOutOfRangeException(nameof(o), o.Density, "density must be in (0, 1]: the fraction of values ties, dare and magnitude_prune keep");
        if (o.Rank is < 1)
            throw new ArgumentOutOfRangeException(nameof(o), o.Rank, "rank must be at least 1");
        if (o.SvdClamp is { } q && !(q >= 0 && q <= 1))
            throw new ArgumentOutOfRangeException(nameof(o), q, "svd_clamp is a quantile and must be in [0, 1]");
    }
}
