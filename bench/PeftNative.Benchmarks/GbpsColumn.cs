using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace PeftNative.Benchmarks;

/// <summary>A benchmark class that knows how many bytes one operation moves (for the GB/s column).</summary>
public interface IBytesPerOperation
{
    /// <summary>Bytes read and written by one operation, for the case's [Params].</summary>
    long BytesPerOperation { get; }
}

/// <summary>
/// "GB/s" = <see cref="IBytesPerOperation.BytesPerOperation"/> / mean time ("NA" for classes without it). The byte count is explicit:
/// the column makes a fresh instance of the benchmark class, sets its [Params] to the case's values
/// and reads the count (no buffers are allocated for that).
/// </summary>
public sealed class GbpsColumn : IColumn
{
    /// <inheritdoc />
    public string Id => nameof(GbpsColumn);

    /// <inheritdoc />
    public string ColumnName => "GB/s";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => 0;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => "Bytes one operation must move (read + write, as peftnative bench counts them) / Mean, in 1e9 bytes per second";

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        var stats = summary[benchmarkCase]?.ResultStatistics;
        long? bytes = BytesOf(benchmarkCase);
        if (stats is null || bytes is null || !(stats.Mean > 0))
            return "NA";
        // bytes per nanosecond = GB/s
        return (bytes.Value / stats.Mean).ToString("F2", CultureInfo.InvariantCulture);
    }

    /// <summary>The explicit byte count of one operation of a case, or null when the class has none.</summary>
    public static long? BytesOf(BenchmarkCase benchmarkCase)
    {
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        var type = benchmarkCase.Descriptor.Type;
        if (!typeof(IBytesPerOperation).IsAssignableFrom(type) || type.IsAbstract || Activator.CreateInstance(type) is not IBytesPerOperation instance)
            return null;
        foreach (var p in benchmarkCase.Parameters.Items)
        {
            if (type.GetProperty(p.Name, BindingFlags.Public | BindingFlags.Instance) is { CanWrite: true } property)
                property.SetValue(instance, p.Value);
            else
                type.GetField(p.Name, BindingFlags.Public | BindingFlags.Instance)?.SetValue(instance, p.Value);
        }
        return instance.BytesPerOperation;
    }
}

/// <summary>The configuration of every suite: the default job plus the GB/s column.</summary>
public sealed class KernelBenchmarkConfig : ManualConfig
{
    /// <summary>Adds <see cref="GbpsColumn"/>.</summary>
    public KernelBenchmarkConfig() => AddColumn(new GbpsColumn());
}
