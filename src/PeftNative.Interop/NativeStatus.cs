namespace PeftNative.Interop;

/// <summary>Status codes of the C ABI (<c>pn_status</c> in peft_native.h). Values never change.</summary>
public enum NativeStatus
{
    /// <summary>Success.</summary>
    Ok = 0,
    /// <summary>A null pointer, bad size or dtype, overlapping buffers, or a zero in an inverse scale.</summary>
    InvalidArgument = 1,
    /// <summary>The CPU lacks the requested instruction set.</summary>
    Unsupported = 2,
    /// <summary>A scratch allocation failed.</summary>
    OutOfMemory = 3,
    /// <summary>A bug in the native library.</summary>
    Internal = 4,
}
