namespace PeftNative.Fuzz;

/// <summary>
/// One fuzz target: feeds an input to a parser, swallows exactly the exception type(s) the parser's
/// contract allows, and lets anything else escape (an escaped exception is the finding).
/// </summary>
internal delegate void FuzzTarget(ReadOnlySpan<byte> input);

/// <summary>A broken invariant of a successfully parsed result: always a finding.</summary>
internal sealed class FuzzInvariantException(string message) : Exception(message);
