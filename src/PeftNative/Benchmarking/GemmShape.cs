namespace PeftNative.Benchmarking;

/// <summary>
/// One weight of a model as <see cref="GemmProbe"/> multiplies it: y (m × n) = x (m × k) · W, with W
/// stored (n × k) like nn.Linear or (k × n) like GPT-2's Conv1D (<see cref="WeightIsInputMajor"/>).
/// </summary>
/// <param name="Label">What the weight is, e.g. "gpt2 c_fc".</param>
/// <param name="N">Output features.</param>
/// <param name="K">Input features.</param>
/// <param name="WeightIsInputMajor">W stored (k × n) (Conv1D).</param>
/// <param name="DType">W's storage dtype (x and y are f32).</param>
public sealed record GemmShape(string Label, int N, int K, bool WeightIsInputMajor, DType DType);
