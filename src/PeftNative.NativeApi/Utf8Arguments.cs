using System.Runtime.InteropServices;

namespace PeftNative.NativeApi;

/// <summary>Reads the C caller's UTF-8 string arguments, naming the parameter when one is missing.</summary>
internal static unsafe class Utf8Arguments
{
    /// <summary>A non-empty string.</summary>
    /// <exception cref="ArgumentException">Null or empty.</exception>
    public static string Required(byte* text, string parameter) =>
        Optional(text) is { Length: > 0 } s ? s : throw new ArgumentException($"{parameter} is {(text == null ? "NULL" : "empty")}");

    /// <summary>The string, or null for a null pointer or an empty string.</summary>
    public static string? Optional(byte* text) =>
        text == null ? null : Marshal.PtrToStringUTF8((nint)text) is { Length: > 0 } s ? s : null;

    /// <summary><paramref name="count"/> non-empty strings.</summary>
    /// <exception cref="ArgumentException">A null array or element, an empty element, or a count below 1.</exception>
    public static string[] RequiredArray(byte** items, int count, string parameter)
    {
        if (count < 1)
            throw new ArgumentException($"count must be >= 1 (got {count})");
        if (items == null)
            throw new ArgumentException($"{parameter} is NULL");
        var result = new string[count];
        for (int i = 0; i < count; i++)
            result[i] = Required(items[i], $"{parameter}[{i}]");
        return result;
    }
}
