/*
 * peft_native.h — the C ABI of libpeft_native (CPU kernels).
 *
 * Frozen contract: every export is extern "C", prefixed pn_, returns pn_status (values never
 * change) unless documented otherwise. On failure a thread-local message explains why; read it
 * with pn_last_error() on the same thread before the next call. Nothing is allocated for the
 * caller and nothing needs freeing.
 *
 * Matrices are dense and row-major. Sizes are int64_t. Storage dtypes are f32, f16 (IEEE
 * binary16) and bf16 (bfloat16); every kernel accumulates in f32 and rounds once, to nearest
 * even, when it stores a 16-bit result. NaN stays NaN (quieted) through every conversion.
 *
 * Threads: `threads` <= 0 means "all logical CPUs" (pn_capabilities.default_threads); 1 runs on
 * the calling thread. Small problems run on fewer threads than asked (it is never slower).
 *
 * Aliasing: outputs may be identical to an input (same pointer, same dtype, same length) where a
 * kernel says so; any other overlap between an output and an input is an error
 * (PN_ERR_INVALID_ARGUMENT) and nothing is written.
 *
 * Validation: every argument is checked before anything is written, so a failed call leaves
 * every buffer as it was.
 *
 * ---- Using the library from C or C++ -------------------------------------------------------
 *
 * Build and link: include this header (C11 or C++; everything is inside extern "C") and link
 * libpeft_native.so, e.g. `cc -std=c11 -I native/kernels/include app.c -L DIR -lpeft_native
 * -Wl,-rpath,DIR`. `dotnet build` leaves the library in artifacts/native/linux-x64/ and ships it
 * as runtimes/linux-x64/native/libpeft_native.so next to each .NET app; a CMake build of the
 * repository puts it in <build>/lib. Check pn_abi_version() == PN_ABI_VERSION once at start-up.
 *
 * Ownership: the caller allocates and frees every buffer (aligned to its element size; 64-byte
 * alignment is fastest). The library keeps no pointer after a call returns and allocates nothing
 * that the caller frees; the strings of pn_version() and pn_last_error() are owned by the library.
 *
 * Status and errors: a call returns PN_OK (0) or a non-zero pn_status and then sets a one-line
 * UTF-8 message for the calling thread. Read it with pn_last_error() after a failed call, before
 * the next pn_ call on that thread (a later failure overwrites it; a success leaves it stale, so
 * the status, not the message, says whether a call failed). Threads never see each other's
 * messages.
 *
 *     pn_status st = pn_cpu_affine(...);
 *     if (st != PN_OK) fprintf(stderr, "affine: %d %s\n", (int)st, pn_last_error());
 *
 * Threads: every function may be called from any thread, concurrently, on disjoint outputs.
 * The kernels share one internal worker pool; a call that finds it busy runs on its own thread
 * instead of waiting, so concurrent callers never deadlock. Results do not depend on the thread
 * count (each output element is computed by one thread, in the same order). pn_set_isa() is
 * process-wide and applies to calls that start after it.
 *
 * Dtype codes (pn_dtype): 0 = f32, 1 = f16, 2 = bf16; element sizes 4, 2, 2 bytes. Arguments
 * named *_dtype are int32_t holding one of these codes; anything else is
 * PN_ERR_INVALID_ARGUMENT.
 *
 * Usage: compose two LoRA modules as the paper does (A = w1*A1 + w2*A2, same for B) and merge
 * W (out x in, f32) += s * B @ A. native/examples/kernels_example.c is the full, runnable
 * version (f32 and bf16; ctest runs it).
 *
 *     const void* as[2] = { a1, a2 }, * bs[2] = { b1, b2 };
 *     const float w[2] = { 0.7f, 0.3f };
 *     if (pn_cpu_affine(PN_DTYPE_F32, PN_DTYPE_F32, rank * in, 2, as, w, 0.0f, a, 0) != PN_OK ||
 *         pn_cpu_affine(PN_DTYPE_F32, PN_DTYPE_F32, out * rank, 2, bs, w, 0.0f, b, 0) != PN_OK)
 *         return fail(pn_last_error());
 *     pn_lowrank_factor f = { .b = b, .a = a, .dtype = PN_DTYPE_F32, .rank = rank, .scale = s };
 *     if (pn_cpu_lowrank_merge(PN_DTYPE_F32, W, out, in, 0, 1, &f, 0) != PN_OK)
 *         return fail(pn_last_error());
 *
 * The high-level operations (compose adapter directories, merge into a model directory) are in
 * a separate library with the same status + last-error convention:
 * src/PeftNative.NativeApi/include/peftnative.h.
 */
#ifndef PEFT_NATIVE_H
#define PEFT_NATIVE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define PN_API __declspec(dllexport)
#else
#define PN_API __attribute__((visibility("default")))
#endif

/* Bumped whenever a signature or struct layout below changes. The managed side refuses a
 * library whose pn_abi_version() differs from the one it was built against. */
#define PN_ABI_VERSION 1

/* Status codes. Values are fixed forever. */
typedef enum pn_status {
    PN_OK = 0,
    PN_ERR_INVALID_ARGUMENT = 1, /* null pointer, bad size, bad dtype, overlapping buffers, l == 0 for an inverse scale */
    PN_ERR_UNSUPPORTED = 2,      /* the CPU lacks the requested instruction set */
    PN_ERR_OUT_OF_MEMORY = 3,    /* a scratch allocation failed */
    PN_ERR_INTERNAL = 4          /* a bug: please report it with pn_last_error() */
} pn_status;

/* Storage dtypes. Values are fixed forever. */
typedef enum pn_dtype {
    PN_DTYPE_F32 = 0,
    PN_DTYPE_F16 = 1,
    PN_DTYPE_BF16 = 2
} pn_dtype;

/* Instruction-set levels the kernels are compiled for. Values are fixed forever. */
typedef enum pn_isa {
    PN_ISA_SCALAR = 0,  /* portable C, any x86-64 or other CPU */
    PN_ISA_AVX2 = 1,    /* AVX2 + FMA + F16C */
    PN_ISA_AVX512 = 2   /* AVX-512 F/BW/VL (+ BF16 instructions where the CPU has them) */
} pn_isa;

/* What the CPU and the library can do. struct_size must be set by the caller to
 * sizeof(pn_capabilities) so the struct can grow at the end without breaking old callers. */
typedef struct pn_capabilities {
    uint32_t struct_size;
    int32_t has_avx2;
    int32_t has_fma;
    int32_t has_f16c;
    int32_t has_avx512f;
    int32_t has_avx512bw;
    int32_t has_avx512vl;
    int32_t has_avx512_bf16;
    int32_t logical_cpus;      /* CPUs this process may run on (affinity mask) */
    int32_t default_threads;   /* what threads <= 0 means */
    int32_t best_isa;          /* pn_isa the CPU supports best */
    int32_t active_isa;        /* pn_isa the kernels dispatch to now */
} pn_capabilities;

/* A version string such as "0.1.0". Never null; static storage. */
PN_API const char* pn_version(void);

/* PN_ABI_VERSION of the library (no status; cannot fail). */
PN_API int32_t pn_abi_version(void);

/* The message of the last failed call on this thread, or "" if none. Static thread-local
 * storage: valid until the next pn_ call on this thread. Never null. */
PN_API const char* pn_last_error(void);

/* Fills *caps. */
PN_API pn_status pn_get_capabilities(pn_capabilities* caps);

/* Chooses the instruction set the kernels dispatch to, for every thread of the process
 * (tests and benchmarks use it to exercise every path). isa = -1 restores the best one.
 * PN_ERR_UNSUPPORTED if the CPU lacks it; the active level is unchanged then. */
PN_API pn_status pn_set_isa(int32_t isa);

/* ---- Kernels (DESIGN.md section 3) ------------------------------------------------------- */

/* Affine combination: out[j] = constant + sum_{i<k} weights[i] * inputs[i][j], j < n.
 * k >= 1 inputs, all of in_dtype; out of out_dtype. `inputs` is an array of k pointers (each to n
 * values) and `weights` an array of k floats; both are only read during the call. Each input is read once, out written once.
 * out may be identical to any input when in_dtype == out_dtype (in-place update). n == 0 is a
 * no-op. */
PN_API pn_status pn_cpu_affine(int32_t in_dtype, int32_t out_dtype, int64_t n, int32_t k,
                               const void* const* inputs, const float* weights, float constant,
                               void* out, int32_t threads);

/* Flags of pn_cpu_affine_ex. */
#define PN_AFFINE_STREAM 1u /* write out with non-temporal stores whatever its size (ignored when
                             * out is an input): for results the caller will not read again soon,
                             * e.g. many small outputs collected for a file; they skip the
                             * read-for-ownership of every line and leave the caches to the inputs */

/* pn_cpu_affine with options and a finiteness report, for callers that refuse NaN/Inf results
 * without reading the output a second time. flags: 0 or PN_AFFINE_STREAM (other bits are
 * PN_ERR_INVALID_ARGUMENT). nonfinite: NULL, or set to 1 when any element of out, as stored in
 * out_dtype, is NaN or +-Inf (a NaN/Inf input, or a sum beyond out_dtype's range, e.g. 65520 in
 * f16), else 0; decided from the registers before each store. pn_cpu_affine is this call with
 * flags 0 and nonfinite NULL. */
PN_API pn_status pn_cpu_affine_ex(int32_t in_dtype, int32_t out_dtype, int64_t n, int32_t k,
                                  const void* const* inputs, const float* weights, float constant,
                                  void* out, int32_t threads, uint32_t flags, int32_t* nonfinite);

/* One LoRA-style update: scale * B @ A with B (out_features x rank) and A (rank x in_features),
 * both row-major and of `dtype`. */
typedef struct pn_lowrank_factor {
    const void* b;     /* out_features x rank */
    const void* a;     /* rank x in_features */
    int32_t dtype;     /* pn_dtype of a and b */
    int32_t rank;      /* >= 1 */
    float scale;       /* s_k (alpha / r, times any composition weight) */
    int32_t reserved;  /* must be 0 */
} pn_lowrank_factor;

/* Multi-adapter low-rank merge, in place, one pass over W:
 *   transpose == 0: W (out_features x in_features)  += sum_k s_k * B_k @ A_k
 *   transpose == 1: W (in_features x out_features)  += (sum_k s_k * B_k @ A_k)^T
 *                   (fan_in_fan_out, GPT-2 Conv1D weights stored in x out)
 * W is of w_dtype; factors may be of any dtype (each factor its own). Accumulation in f32;
 * W is read and written once (a 16-bit W is rounded once). W must not overlap any factor.
 * count == 0 is a no-op. */
PN_API pn_status pn_cpu_lowrank_merge(int32_t w_dtype, void* w, int64_t out_features,
                                      int64_t in_features, int32_t transpose, int32_t count,
                                      const pn_lowrank_factor* factors, int32_t threads);

/* (IA)^3 row scaling, in place: W[i][j] *= l[i] (inverse == 0) or W[i][j] /= l[i]
 * (inverse == 1, computed as W * (1/l) with 1/l rounded to f32 once, within 1 ulp of a
 * division). W is rows x cols of w_dtype, l has `rows` values of l_dtype. An inverse with any
 * l[i] == 0 fails with PN_ERR_INVALID_ARGUMENT before anything is written. */
PN_API pn_status pn_cpu_scale_rows(int32_t w_dtype, void* w, int64_t rows, int64_t cols,
                                   int32_t l_dtype, const void* l, int32_t inverse,
                                   int32_t threads);

/* (IA)^3 column scaling, in place: W[i][j] *= l[j] (or / l[j]); l has `cols` values.
 * Same rules as pn_cpu_scale_rows. */
PN_API pn_status pn_cpu_scale_cols(int32_t w_dtype, void* w, int64_t rows, int64_t cols,
                                   int32_t l_dtype, const void* l, int32_t inverse,
                                   int32_t threads);

/* dtype conversion of n values: f32 <-> f16 <-> bf16 (and same-dtype copy). Round to nearest
 * even; overflow to +-Inf in f16; NaN stays NaN (quiet, sign kept); f16 subnormals exact.
 * dst must not overlap src unless it is identical and both dtypes have the same size. */
PN_API pn_status pn_cpu_convert(int32_t src_dtype, const void* src, int32_t dst_dtype,
                                void* dst, int64_t n, int32_t threads);

/* ---- Forward pass ------------------------------------------------------------------------ */

/* Dense matrix product, f32 accumulation:
 *   weight_is_input_major == 0: y (m x n) = x (m x k) . W^T, W stored (n x k)  (nn.Linear)
 *   weight_is_input_major == 1: y (m x n) = x (m x k) . W,   W stored (k x n)  (GPT-2 Conv1D)
 * x and y are f32, W is of w_dtype (f32, f16 or bf16, widened exactly on the fly); all three
 * dense and row-major. accumulate == 1 adds the product to y; accumulate == 0 overwrites y
 * without reading it. k == 0 gives y = 0 (or leaves y as it is with accumulate); m == 0 or
 * n == 0 is a no-op. NaN and Inf propagate as IEEE arithmetic says. y must not overlap x or W.
 * m >= 3: blocked GEMM (W packed per call into f32 panels, so each W element is converted once
 * and serves all m rows); m <= 2: GEMV reading W in place (the decode path, memory-bound).
 * Each element of y is the same for every thread count. */
PN_API pn_status pn_cpu_matmul(int64_t m, int64_t n, int64_t k, const float* x, int32_t w_dtype,
                               const void* w, int32_t weight_is_input_major, float* y,
                               int32_t accumulate, int32_t threads);

/* ---- Machine probes (the roofs of the bandwidth harness, `peftnative bench`) -------------- */

/* In-place read-modify-write over `bytes` of caller memory (every 32-bit word w -> w * 1.0f +
 * 0.0f, which leaves finite data as it was), `repeats` times, on `threads` threads, with the
 * widest vectors the active ISA has. *seconds receives the best (shortest) single pass. The
 * caller allocates and touches the buffer (far larger than the caches) outside the timing. */
PN_API pn_status pn_probe_memory_rmw(void* buffer, int64_t bytes, int32_t repeats,
                                     int32_t threads, double* seconds);

/* f32 FMA throughput: independent FMA chains in registers with the widest vectors of the active
 * ISA, on `threads` threads, for about `milliseconds`. *gflops receives 2 * FMAs / s / 1e9
 * (all threads together). */
PN_API pn_status pn_probe_fma_f32(int32_t milliseconds, int32_t threads, double* gflops);

/* bf16 dot-product throughput: VDPBF16PS chains where the CPU has AVX512_BF16, else the fastest
 * bf16 -> f32 widening + FMA sequence the active ISA has. *gflops counts 2 flops per bf16
 * product (all threads together). */
PN_API pn_status pn_probe_bf16_dot(int32_t milliseconds, int32_t threads, double* gflops);

#ifdef __cplusplus
}
#endif

#endif /* PEFT_NATIVE_H */
