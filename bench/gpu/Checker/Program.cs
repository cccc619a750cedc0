using PeftNative.Backends.Cuda;
using PeftNative.GpuChecker;
using PeftNative.Interop;

// peftnative-gpu-check [--seed N] [--timings FILE] [--skip-timing]
// Exit codes: 0 every check passed, 1 a check failed, 2 bad usage or no usable device.
int seed = Environment.TickCount & 0x7FFF_FFFF;
string? timingsFile = null;
bool timing = true;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--seed" when i + 1 < args.Length && int.TryParse(args[i + 1], out int s):
            seed = s;
            i++;
            break;
        case "--timings" when i + 1 < args.Length:
            timingsFile = args[++i];
            break;
        case "--skip-timing":
            timing = false;
            break;
        default:
            Console.Error.WriteLine($"peftnative-gpu-check: unknown argument '{args[i]}' (usage: [--seed N] [--timings FILE] [--skip-timing])");
            return 2;
    }
}

if (!CudaBackend.IsAvailable(out string? reason))
{
    string hint = CudaLibraryLoader.TryEnsureLoaded(out _) ? "" : $" (set {CudaLibraryLoader.PathVariable} to libpeft_native_cuda.so)";
    Console.Error.WriteLine($"peftnative-gpu-check: {reason}{hint}");
    return 2;
}

using var backend = new CudaBackend();
Console.WriteLine($"device: {backend.Device}, {backend.Device.Multiprocessors} SMs, driver {backend.Device.DriverVersion}, runtime {backend.Device.RuntimeVersion}");
Console.WriteLine($"seed: {seed} (rerun with --seed {seed})");

int failures = CorrectnessSuite.Run(backend, seed, Console.Out);
if (timing)
{
    var rows = TimingSuite.Run(Console.Out);
    if (timingsFile is not null)
        TimingSuite.WriteTsv(timingsFile, backend.Device.Name, rows);
}
Console.WriteLine(failures == 0 ? "correctness: all checks passed" : $"correctness: {failures} check(s) FAILED");
return failures == 0 ? 0 : 1;
