namespace PeftNative.Tests;

/// <summary>Asserts that a rejected call throws the documented exception and changes no byte of any tensor.</summary>
public static class ValidationAssert
{
    /// <summary>
    /// Runs <paramref name="call"/>, expects <typeparamref name="TException"/> (or a subclass), checks the
    /// message contains <paramref name="messagePart"/> (when given, case-insensitively) and that every tensor
    /// in <paramref name="tensors"/> is byte-identical to before.
    /// </summary>
    public static void ThrowsAndLeavesBytes<TException>(string context, Action call, string? messagePart, params Tensor[] tensors)
        where TException : Exception
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(tensors);
        var before = tensors.Select(RandomTensors.Bytes).ToArray();
        Exception? thrown = null;
        try
        {
            call();
        }
#pragma warning disable CA1031 // the test inspects whatever was thrown
        catch (Exception e)
#pragma warning restore CA1031
        {
            thrown = e;
        }
        Assert.That(thrown, Is.InstanceOf<TException>(), $"{context}: expected {typeof(TException).Name}, got {(thrown is null ? "no exception" : thrown.GetType().Name + ": " + thrown.Message)}");
        if (messagePart is not null)
            Assert.That(thrown!.Message, Does.Contain(messagePart).IgnoreCase, $"{context}: the message should name '{messagePart}'");
        for (int i = 0; i < tensors.Length; i++)
        {
            var after = RandomTensors.Bytes(tensors[i]);
            int diff = FirstDifference(before[i], after);
            if (diff >= 0)
                Assert.Fail($"{context}: the call threw but modified tensor {i} ({tensors[i]}) at byte {diff}");
        }
    }

    private static int FirstDifference(byte[] a, byte[] b)
    {
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i])
                return i;
        return -1;
    }
}
