/*
 * peftnative.h — the C ABI of libpeftnative.so: PeftNative's high-level operations (compose
 * adapters by an expression, merge an adapter into a model) for programs that are not .NET.
 *
 * The library is the NativeAOT build of src/PeftNative.NativeApi; it needs no .NET runtime:
 *
 *     dotnet publish src/PeftNative.NativeApi -c Release -r linux-x64 -o DIR
 *     cc -std=c11 -I src/PeftNative.NativeApi/include app.c -L DIR -lpeftnative -Wl,-rpath,DIR
 *
 * DIR then holds libpeftnative.so and runtimes/linux-x64/native/libpeft_native.so (the CPU
 * kernels, peft_native.h). Keep them together: the kernels are found next to the process'
 * executable, in the system search path (LD_LIBRARY_PATH) or at the path in the environment
 * variable PEFTNATIVE_NATIVE_PATH; where they are not found, the same operations run on the
 * managed kernels (same results within rounding, slower).
 *
 * Conventions (the same as the kernel ABI, peft_native.h):
 *  - Every operation returns a peftnative_status: PEFTNATIVE_OK (0) or a non-zero code. Codes 0
 *    to 4 mean what pn_status's do; 5 and 6 exist only here. Values never change.
 *  - After a failed call, peftnative_last_error() returns a one-line UTF-8 message that names
 *    the problem (the file, the tensor, the position in the expression). It is thread-local,
 *    owned by the library, and valid until the next failed call on that thread; a successful
 *    call leaves it as it was, so test the status, not the message.
 *  - Strings are UTF-8 and null-terminated; paths may be relative to the working directory.
 *    The library keeps no pointer after a call returns and allocates nothing for the caller to
 *    free.
 *  - Inputs are only read. An output directory is written completely or not at all (a failed
 *    call leaves no half-written output).
 *  - Threads: calls may come from any thread and run concurrently (on different output
 *    directories). No exception, abort or exit ever reaches the caller; the library writes
 *    nothing to stdout or stderr.
 *
 * Usage:
 *
 *     const char* names[] = { "a", "b" };
 *     const char* dirs[] = { "adapters/math", "adapters/code" };
 *     if (peftnative_compose("0.7*a + 0.3*b", names, dirs, 2, NULL, "out/mix") != PEFTNATIVE_OK)
 *         fprintf(stderr, "compose: %s\n", peftnative_last_error());
 *
 * src/PeftNative.NativeApi/examples/compose_example.c is a complete program (a test compiles
 * and runs it against the published library).
 */
#ifndef PEFTNATIVE_H
#define PEFTNATIVE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature below changes; compare with peftnative_abi_version(). */
#define PEFTNATIVE_ABI_VERSION 1

/* Status codes. 0-4 equal pn_status (peft_native.h). Values are fixed forever. */
typedef enum peftnative_status {
    PEFTNATIVE_OK = 0,
    PEFTNATIVE_ERR_INVALID_ARGUMENT = 1, /* NULL or empty argument, bad expression, unknown method or dtype,
                                            names that do not match the expression, a composition refused
                                            (mixed adapter types or base models, different target modules) */
    PEFTNATIVE_ERR_UNSUPPORTED = 2,      /* not available in this build or on this machine */
    PEFTNATIVE_ERR_OUT_OF_MEMORY = 3,
    PEFTNATIVE_ERR_INTERNAL = 4,         /* a bug: please report it with peftnative_last_error() */
    PEFTNATIVE_ERR_IO = 5,               /* a missing/unreadable input, an output that exists or cannot be written */
    PEFTNATIVE_ERR_INVALID_DATA = 6      /* a malformed file (config, safetensors, model), or NaN/Inf in a result */
} peftnative_status;

/* Output dtypes of peftnative_merge: pn_dtype's codes, plus "keep each tensor's dtype". */
#define PEFTNATIVE_DTYPE_KEEP (-1)
#define PEFTNATIVE_DTYPE_F32 0
#define PEFTNATIVE_DTYPE_F16 1
#define PEFTNATIVE_DTYPE_BF16 2

/* The library version, e.g. "0.1.0". Never NULL; static storage. */
const char* peftnative_version(void);

/* PEFTNATIVE_ABI_VERSION of the library (cannot fail). */
int32_t peftnative_abi_version(void);

/* The message of the last failed call on this thread, or "" if none. Never NULL. */
const char* peftnative_last_error(void);

/*
 * Composes PEFT adapters (LoRA or (IA)^3 directories: adapter_config.json +
 * adapter_model.safetensors) by a linear expression and writes the result as a PEFT adapter
 * directory, as `peftnative compose` does.
 *
 *   expression        e.g. "0.5*a + 0.5*b", "chat - 0.6*toxic", "0.7*c + 0.3*(x - y)"
 *   names, directories  `count` (>= 1) pairs: the name the expression uses and the adapter's
 *                     directory. Names must be distinct; names the expression does not use are
 *                     ignored (not opened).
 *   method            NULL or "" for "paper" (the paper's parameter-space arithmetic: positive
 *                     coefficients rescaled to sum to 1), or "exact", "svd", or a PEFT method:
 *                     linear, cat, ties, ties_svd, dare_linear, dare_ties, dare_linear_svd,
 *                     dare_ties_svd, magnitude_prune, magnitude_prune_svd (their defaults:
 *                     density 1, rank = largest input rank, seed 0).
 *   output_directory  must not hold an adapter yet and must not be an input's directory.
 *
 * Returns PEFTNATIVE_OK, or: INVALID_ARGUMENT (see the enum), IO (an input directory missing or
 * unreadable, the output exists), INVALID_DATA (a malformed adapter, NaN/Inf in the result).
 */
peftnative_status peftnative_compose(const char* expression, const char* const* names,
                                     const char* const* directories, int32_t count,
                                     const char* method, const char* output_directory);

/*
 * Merges one adapter into a Hugging Face model directory (config.json + *.safetensors, sharded
 * or not) and writes the merged model to output_directory, which appears complete or not at all.
 *
 *   dtype    PEFTNATIVE_DTYPE_KEEP, or the dtype of every floating-point weight written.
 *   threads  worker threads; <= 0 means all logical CPUs.
 *
 * Returns PEFTNATIVE_OK, or: INVALID_ARGUMENT (NULL/empty path, unknown dtype), IO (a missing
 * model or adapter directory, an output that cannot be written), INVALID_DATA (a malformed model
 * or adapter, NaN/Inf in a merged tensor), UNSUPPORTED (this build has no merger).
 */
peftnative_status peftnative_merge(const char* model_directory, const char* adapter_directory,
                                   const char* output_directory, int32_t dtype, int32_t threads);

#ifdef __cplusplus
}
#endif

#endif /* PEFTNATIVE_H */
