namespace PeftNative.Merging;

/// <summary>Whether the adapter's updates are applied or taken back out.</summary>
internal enum MergeDirection
{
    /// <summary>W' = W + s·B@A; W' = diag(l)·W; modules_to_save replace the base tensor.</summary>
    Merge,

    /// <summary>W = W' - s·B@A; W = diag(1/l)·W'; modules_to_save tensors are left as they are (the base values are gone).</summary>
    Unmerge,
}
