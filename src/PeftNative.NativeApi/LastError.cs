using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace PeftNative.NativeApi;

/// <summary>
/// The thread-local UTF-8 message behind <c>peftnative_last_error()</c>, as the kernel ABI's
/// <c>pn_last_error()</c>: set by a failed call, left alone by a successful one, "" before the
/// first failure. One native buffer per thread, reused (grown when a message needs it), so the
/// pointer handed out stays valid until the next failed call on that thread.
/// </summary>
internal static unsafe class LastError
{
    [ThreadStatic]
    private static byte* t_buffer;

    [ThreadStatic]
    private static int t_capacity;

    /// <summary>The message, null-terminated; never null.</summary>
    public static byte* Pointer =>
        t_buffer != null ? t_buffer : (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(""u8)); // u8 literals are null-terminated static data

    /// <summary>Replaces the message (on one line). Never throws: if memory runs out the old message stays.</summary>
    public static void Set(string message)
    {
        try
        {
            string line = OneLine(message);
            int length = Encoding.UTF8.GetByteCount(line);
            if (length + 1 > t_capacity)
            {
                int capacity = Math.Max(256, length + 1);
                byte* grown = (byte*)NativeMemory.Realloc(t_buffer, (nuint)capacity);
                t_buffer = grown;
                t_capacity = capacity;
            }
            int written = Encoding.UTF8.GetBytes(line, new Span<byte>(t_buffer, t_capacity - 1));
            t_buffer[written] = 0;
        }
#pragma warning disable CA1031 // the message is best effort; nothing may escape to the C caller
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>A message on one line: the lines of multi-line messages (an expression with a caret under it) joined by "; ".</summary>
    private static string OneLine(string message) =>
        string.Join("; ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
