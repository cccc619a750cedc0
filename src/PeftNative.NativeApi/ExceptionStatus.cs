using PeftNative.Interop;
using PeftNative.Merging;

namespace PeftNative.NativeApi;

/// <summary>Which <see cref="ApiStatus"/> an exception from the managed library means.</summary>
internal static class ExceptionStatus
{
    public static ApiStatus Of(Exception e) => e switch
    {
        ContextException c when c.InnerException is { } inner => Of(inner),
        OutOfMemoryException or InsufficientExecutionStackException => ApiStatus.OutOfMemory,
        PlatformNotSupportedException or NotSupportedException or DllNotFoundException => ApiStatus.Unsupported,
        // FileFormatException is an IOException: the more specific answer first.
        FileFormatException or InvalidDataException or NonFiniteMergeException => ApiStatus.InvalidData,
        IOException or UnauthorizedAccessException => ApiStatus.Io,
        ArgumentException or FormatException => ApiStatus.InvalidArgument,
        PeftNativeException n => (ApiStatus)n.Status,
        _ => ApiStatus.Internal,
    };
}
