/*
 * kernels_example.c — calling libpeft_native from C: the paper's composition of two LoRA modules
 * (A = w1*A1 + w2*A2, B = w1*B1 + w2*B2 with pn_cpu_affine) merged into a weight
 * (W += s * B @ A with pn_cpu_lowrank_merge), once in f32 and once in bf16 (inputs converted
 * with pn_cpu_convert), plus one deliberately bad call to show the status + pn_last_error()
 * convention.
 *
 * Build (outside CMake):  cc -std=c11 -Inative/kernels/include kernels_example.c -LDIR -lpeft_native -lm
 * Run:                    kernels_example [seed]     (seed: unsigned integer, default 1)
 *
 * Output (stdout), one record per line, every value exact (hex bit patterns, no decimal rounding),
 * so another program (tests/PeftNative.Tests/NativeApi) can rerun the same calls and compare:
 *   library <version> abi <n> isa <active pn_isa>
 *   error <status> <message>                     the bad call's status and pn_last_error()
 *   case <f32|bf16> out <n> in <n> rank <r> threads <t>
 *   scalar <name> <f32 bits>                     w1, w2, scale
 *   tensor <name> <f32|bf16> <rows> <cols> <bits> ...   inputs A1 A2 B1 B2 W0, results A B W
 *   check <f32|bf16> max_err <x> allowed <y> <ok|FAIL>  W against a float64 reference
 * Exit status: 0 when every call succeeded and every check is ok, 1 otherwise.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft_native.h"

/* Odd sizes on purpose: none is a multiple of a vector width, so the kernels' tails run. */
enum { OUT_FEATURES = 37, IN_FEATURES = 29, RANK = 5, THREADS = 2 };

/* ---- deterministic inputs (splitmix64), values in +-[0.05, 1) ---- */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static float rng_value(void)
{
    double v = 0.05 + 0.95 * ((double)(rng_next() >> 11) * (1.0 / 9007199254740992.0));
    return (float)((rng_next() & 1) ? -v : v);
}

/* ---- element access for the two storage dtypes used here ---- */
static size_t dtype_size(int32_t dtype) { return dtype == PN_DTYPE_F32 ? 4 : 2; }

static uint32_t bits_of(int32_t dtype, const void* p, int64_t i)
{
    if (dtype == PN_DTYPE_F32) {
        uint32_t u;
        memcpy(&u, (const char*)p + 4 * i, 4);
        return u;
    }
    uint16_t h;
    memcpy(&h, (const char*)p + 2 * i, 2);
    return h;
}

static double value_of(int32_t dtype, const void* p, int64_t i)
{
    uint32_t u = bits_of(dtype, p, i);
    float f;
    if (dtype == PN_DTYPE_BF16)
        u <<= 16; /* bf16 is the top half of an f32 */
    memcpy(&f, &u, 4);
    return f;
}

static void print_scalar(const char* name, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    printf("scalar %s %08x\n", name, u);
}

static void print_tensor(const char* name, int32_t dtype, const void* p, int64_t rows, int64_t cols)
{
    printf("tensor %s %s %lld %lld", name, dtype == PN_DTYPE_F32 ? "f32" : "bf16", (long long)rows, (long long)cols);
    for (int64_t i = 0; i < rows * cols; i++)
        printf(dtype == PN_DTYPE_F32 ? " %08x" : " %04x", bits_of(dtype, p, i));
    printf("\n");
}

/* Prints the failed call and pn_last_error() (read on this thread, before the next pn_ call). */
static int failed(const char* call, pn_status status)
{
    fprintf(stderr, "kernels_example: %s failed with status %d: %s\n", call, (int)status, pn_last_error());
    return 1;
}

#define CALL(expr)                                   \
    do {                                             \
        pn_status status_ = (expr);                  \
        if (status_ != PN_OK)                        \
            return failed(#expr, status_);           \
    } while (0)

/*
 * One composition + merge in `dtype`. `arena` holds every buffer (no allocation here);
 * `staging` is f32 scratch for generating inputs before they are converted to `dtype`.
 */
static int run_case(int32_t dtype, char* arena, float* staging)
{
    const int64_t a_len = (int64_t)RANK * IN_FEATURES, b_len = (int64_t)OUT_FEATURES * RANK;
    const int64_t w_len = (int64_t)OUT_FEATURES * IN_FEATURES;
    const size_t es = dtype_size(dtype);
    void* a1 = arena;
    void* a2 = (char*)a1 + a_len * es;
    void* b1 = (char*)a2 + a_len * es;
    void* b2 = (char*)b1 + b_len * es;
    void* a = (char*)b2 + b_len * es;
    void* b = (char*)a + a_len * es;
    void* w = (char*)b + b_len * es;
    void* inputs[] = { a1, a2, b1, b2, w };
    const int64_t lengths[] = { a_len, a_len, b_len, b_len, w_len };

    /* Inputs: drawn in f32, stored in `dtype` (a same-dtype convert is a copy). */
    for (int t = 0; t < 5; t++) {
        for (int64_t i = 0; i < lengths[t]; i++)
            staging[i] = rng_value();
        CALL(pn_cpu_convert(PN_DTYPE_F32, staging, dtype, inputs[t], lengths[t], THREADS));
    }
    const float weights[2] = { 0.5f + 0.5f * rng_value(), 0.5f * rng_value() };
    const float scale = 2.0f; /* lora_alpha / r */

    printf("case %s out %d in %d rank %d threads %d\n", dtype == PN_DTYPE_F32 ? "f32" : "bf16",
           OUT_FEATURES, IN_FEATURES, RANK, THREADS);
    print_scalar("w1", weights[0]);
    print_scalar("w2", weights[1]);
    print_scalar("scale", scale);
    print_tensor("A1", dtype, a1, RANK, IN_FEATURES);
    print_tensor("A2", dtype, a2, RANK, IN_FEATURES);
    print_tensor("B1", dtype, b1, OUT_FEATURES, RANK);
    print_tensor("B2", dtype, b2, OUT_FEATURES, RANK);
    print_tensor("W0", dtype, w, OUT_FEATURES, IN_FEATURES);

    /* The paper's composition: each factor is the weighted sum of the inputs' factors. */
    const void* a_inputs[2] = { a1, a2 };
    const void* b_inputs[2] = { b1, b2 };
    CALL(pn_cpu_affine(dtype, dtype, a_len, 2, a_inputs, weights, 0.0f, a, THREADS));
    CALL(pn_cpu_affine(dtype, dtype, b_len, 2, b_inputs, weights, 0.0f, b, THREADS));

    /* Merge: W (out x in) += scale * B @ A, in place, one pass over W. */
    pn_lowrank_factor factor = { .b = b, .a = a, .dtype = dtype, .rank = RANK, .scale = scale, .reserved = 0 };
    /* Keep W0 for the check below (the merge overwrites W). */
    for (int64_t i = 0; i < w_len; i++)
        staging[i] = (float)value_of(dtype, w, i);
    CALL(pn_cpu_lowrank_merge(dtype, w, OUT_FEATURES, IN_FEATURES, 0, 1, &factor, THREADS));

    print_tensor("A", dtype, a, RANK, IN_FEATURES);
    print_tensor("B", dtype, b, OUT_FEATURES, RANK);
    print_tensor("W", dtype, w, OUT_FEATURES, IN_FEATURES);

    /* Check W against float64 from the stored A and B: f32 accumulation of RANK + 1 terms,
     * plus one rounding to the storage dtype. */
    const double unit = dtype == PN_DTYPE_F32 ? 0x1p-23 : 0x1p-8;
    double max_err = 0, max_allowed = 0;
    int ok = 1;
    for (int64_t o = 0; o < OUT_FEATURES; o++) {
        for (int64_t i = 0; i < IN_FEATURES; i++) {
            double sum = 0, magnitude = fabs((double)staging[o * IN_FEATURES + i]);
            for (int64_t r = 0; r < RANK; r++) {
                double term = (double)scale * value_of(dtype, b, o * RANK + r) * value_of(dtype, a, r * IN_FEATURES + i);
                sum += term;
                magnitude += fabs(term);
            }
            double expected = staging[o * IN_FEATURES + i] + sum;
            double err = fabs(value_of(dtype, w, o * IN_FEATURES + i) - expected);
            double allowed = 4.0 * (RANK + 1) * 0x1p-24 * magnitude + unit * fabs(expected);
            if (err > max_err)
                max_err = err;
            if (allowed > max_allowed)
                max_allowed = allowed;
            if (!(err <= allowed))
                ok = 0;
        }
    }
    printf("check %s max_err %.3g allowed %.3g %s\n", dtype == PN_DTYPE_F32 ? "f32" : "bf16", max_err, max_allowed,
           ok ? "ok" : "FAIL");
    return ok ? 0 : 1;
}

int main(int argc, char** argv)
{
    unsigned long long seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    rng_state = seed;

    /* The library must be the ABI this program was compiled against. */
    if (pn_abi_version() != PN_ABI_VERSION) {
        fprintf(stderr, "kernels_example: libpeft_native has ABI %d, this program needs %d\n", pn_abi_version(), PN_ABI_VERSION);
        return 1;
    }
    pn_capabilities caps;
    memset(&caps, 0, sizeof caps);
    caps.struct_size = sizeof caps;
    CALL(pn_get_capabilities(&caps));
    printf("library %s abi %d isa %d\n", pn_version(), pn_abi_version(), caps.active_isa);

    /* A bad call (no inputs) returns a status and leaves a message; nothing is written. */
    float out = 0.0f;
    pn_status bad = pn_cpu_affine(PN_DTYPE_F32, PN_DTYPE_F32, 1, 0, NULL, NULL, 0.0f, &out, 1);
    printf("error %d %s\n", (int)bad, pn_last_error());
    if (bad != PN_ERR_INVALID_ARGUMENT)
        return 1;

    /* One arena for the 7 tensors of a case (A1 A2 A B1 B2 B W, at most 4 bytes an element) and
     * the f32 staging area: one allocation, one free, nothing leaks on any path. */
    const size_t per_case = 4 * (size_t)(3 * RANK * IN_FEATURES + 3 * OUT_FEATURES * RANK + OUT_FEATURES * IN_FEATURES);
    char* arena = malloc(per_case + 4 * (size_t)OUT_FEATURES * IN_FEATURES);
    if (arena == NULL) {
        fprintf(stderr, "kernels_example: out of memory\n");
        return 1;
    }
    float* staging = (float*)(arena + per_case);
    int rc = run_case(PN_DTYPE_F32, arena, staging);
    if (rc == 0)
        rc = run_case(PN_DTYPE_BF16, arena, staging);
    free(arena);
    return rc;
}
