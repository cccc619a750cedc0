namespace PeftNative.Interop;

/// <summary>A failure reported by the native library, with its status and message.</summary>
public class PeftNativeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PeftNativeException(NativeStatus status, string message) : base(message) => Status = status;

    /// <summary>The native status code.</summary>
    public NativeStatus Status { get; }
}
