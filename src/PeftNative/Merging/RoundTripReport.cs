using PeftNative.SafeTensors;

namespace PeftNative.Merging;

/// <summary>How far one tensor of a model is from the same tensor of a reference.</summary>
/// <param name="Name">The tensor.</param>
/// <param name="MaxAbsError">max_i |actual_i - reference_i|.</param>
/// <param name="MaxRelativeError">MaxAbsError / max_i |reference_i| (0 when both are all zero): the error relative to the tensor's scale, which stays meaningful where single elements are near zero.</param>
public sealed record TensorDifference(string Name, double MaxAbsError, double MaxRelativeError);

/// <summary>
/// The round-trip check after an unmerge: the unmerged model against the original base, tensor by
/// tensor. The tensors the adapter touched are compared by value (max absolute and relative
/// error); every other tensor must be byte-identical. Missing tensors, extra tensors and shape
/// differences are listed as problems.
/// </summary>
public sealed class RoundTripReport
{
    private RoundTripReport(List<TensorDifference> touched, int identical, List<string> problems)
    {
        Touched = touched;
        IdenticalUntouched = identical;
        Problems = problems;
    }

    /// <summary>The touched tensors, in name order.</summary>
    public IReadOnlyList<TensorDifference> Touched { get; }

    /// <summary>Untouched tensors that are byte-identical to the reference.</summary>
    public int IdenticalUntouched { get; }

    /// <summary>What does not match structurally or byte for byte (untouched tensors that differ, missing tensors, shapes).</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>The largest <see cref="TensorDifference.MaxAbsError"/> (0 when nothing was touched).</summary>
    public double MaxAbsError => Touched.Count == 0 ? 0 : Touched.Max(t => t.MaxAbsError);

    /// <summary>The largest <see cref="TensorDifference.MaxRelativeError"/> (0 when nothing was touched).</summary>
    public double MaxRelativeError => Touched.Count == 0 ? 0 : Touched.Max(t => t.MaxRelativeError);

    /// <summary>Compares the model in <paramref name="actualDirectory"/> with <paramref name="referenceDirectory"/>.</summary>
    /// <param name="actualDirectory">The unmerged model (a directory, index or file <see cref="SafetensorsCollection.Open"/> takes).</param>
    /// <param name="referenceDirectory">The original base model.</param>
    /// <param name="touched">Tensors compared by value (e.g. <see cref="MergeResult.TouchedTensorNames"/>); all others byte for byte.</param>
    /// <exception cref="FileFormatException">A broken weights file.</exception>
    /// <exception cref="FileNotFoundException">No weights at a path.</exception>
    public static RoundTripReport Compare(string actualDirectory, string referenceDirectory, IEnumerable<string> touched)
    {
        ArgumentNullException.ThrowIfNull(touched);
        var touchedSet = new HashSet<string>(touched, StringComparer.Ordinal);
        using var actual = SafetensorsCollection.Open(actualDirectory);
        using var reference = SafetensorsCollection.Open(referenceDirectory);
        var differences = new List<TensorDifference>();
        var problems = new List<string>();
        int identical = 0;
        foreach (var r in reference.Tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            if (!actual.Contains(r.Name))
            {
                problems.Add($"{r.Name}: missing");
                continue;
            }
            var a = actual.GetInfo(r.Name);
            if (!a.Shape.SequenceEqual(r.Shape))
            {
                problems.Add($"{r.Name}: shape {a.ShapeText}, reference {r.ShapeText}");
                continue;
            }
            if (touchedSet.Contains(r.Name) || a.DType != r.DType)
            {
                if (!IsFloat(a.DType) || !IsFloat(r.DType))
                {
                    problems.Add($"{r.Name}: {a.DType} against {r.DType} cannot be compared by value");
                    continue;
                }
                differences.Add(Difference(r.Name, actual.GetTensor(r.Name), reference.GetTensor(r.Name)));
                continue;
            }
            if (actual.GetTensor(r.Name).AsBytesLong().SequenceEqual(reference.GetTensor(r.Name).AsBytesLong()))
                identical++;
            else
                problems.Add($"{r.Name}: not touched by the adapter but differs from the reference");
        }
        foreach (var a in actual.Tensors)
        {
            if (!reference.Contains(a.Name))
                problems.Add($"{a.Name}: not in the reference");
        }
        return new RoundTripReport(differences, identical, problems);
    }

    private static bool IsFloat(DType d) => d is DType.F64 or DType.F32 or DType.F16 or DType.BF16;

    private static TensorDifference Difference(string name, Tensor actual, Tensor reference)
    {
        double maxAbs = 0, scale = 0;
        for (long i = 0; i < reference.ElementCount; i++)
        {
            double r = FloatValues.Get(reference, i), a = FloatValues.Get(actual, i);
            double d = Math.Abs(a - r);
            if (!(d <= maxAbs))
                maxAbs = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(maxAbs, d);
            scale = Math.Max(scale, Math.Abs(r));
        }
        return new TensorDifference(name, maxAbs, maxAbs == 0 ? 0 : scale == 0 ? double.PositiveInfinity : maxAbs / scale);
    }
}
