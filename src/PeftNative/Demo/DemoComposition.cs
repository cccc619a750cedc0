namespace PeftNative.Demo;

/// <summary>One of the paper's four uses, as an expression over the demo's adapters.</summary>
/// <param name="Use">The use: distribution generalisation, multi-tasking, unlearning, analogy.</param>
/// <param name="Name">Directory of the composed adapter.</param>
/// <param name="Expression">The expression (paper method).</param>
public sealed record DemoComposition(string Use, string Name, string Expression);
