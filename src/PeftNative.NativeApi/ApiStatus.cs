using PeftNative.Interop;

namespace PeftNative.NativeApi;

/// <summary>
/// Status codes of peftnative.h (<c>peftnative_status</c>). 0 to 4 are the kernel ABI's
/// <c>pn_status</c> values (<see cref="NativeStatus"/>), so a C caller handles both libraries
/// alike; 5 and up are failures only the high-level operations have. Values never change.
/// </summary>
public enum ApiStatus
{
    /// <summary>Success.</summary>
    Ok = NativeStatus.Ok,
    /// <summary>A null or empty argument, a bad expression, an unknown method or dtype, adapter names that do not match the expression, a refused composition.</summary>
    InvalidArgument = NativeStatus.InvalidArgument,
    /// <summary>The operation is not available in this build or on this machine.</summary>
    Unsupported = NativeStatus.Unsupported,
    /// <summary>Memory ran out.</summary>
    OutOfMemory = NativeStatus.OutOfMemory,
    /// <summary>A bug: please report it with the message.</summary>
    Internal = NativeStatus.Internal,
    /// <summary>A file or directory is missing, unreadable or unwritable, or the output already exists.</summary>
    Io = 5,
    /// <summary>A file is malformed (adapter config, safetensors, model), or a result holds NaN or Inf.</summary>
    InvalidData = 6,
}
