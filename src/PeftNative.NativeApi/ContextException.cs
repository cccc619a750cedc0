namespace PeftNative.NativeApi;

/// <summary>
/// Adds where a failure happened ("adapter 'b' (/path)") to the message of <see cref="Exception.InnerException"/>,
/// whose type still decides the status (<see cref="ExceptionStatus"/>).
/// </summary>
internal sealed class ContextException(string context, Exception inner) : Exception($"{context}: {inner.Message}", inner);
