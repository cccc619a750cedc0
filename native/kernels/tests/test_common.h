/* test_common.h — shared helpers of the native unit tests: PRNG, independent reference
 * conversions (written from the IEEE definitions, not from the library), guarded buffers,
 * tolerance checks and ISA iteration. */
#ifndef PN_TEST_COMMON_H
#define PN_TEST_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft_native.h"

static int g_failures = 0;
static int g_checks = 0;
static const char* g_ctx = "";
static char g_ctxbuf[512];

#define CTX(...) (snprintf(g_ctxbuf, sizeof g_ctxbuf, __VA_ARGS__), g_ctx = g_ctxbuf)

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        g_checks++;                                                                         \
        if (!(cond)) {                                                                      \
            if (g_failures < 40) {                                                          \
                fprintf(stderr, "FAIL %s:%d [%s] ", __FILE__, __LINE__, g_ctx);             \
                fprintf(stderr, __VA_ARGS__);                                               \
                fprintf(stderr, "\n");                                                      \
            }                                                                               \
            g_failures++;                                                                   \
        }                                                                                   \
    } while (0)

static int test_finish(const char* name)
{
    printf("%s: %d checks, %d failures\n", name, g_checks, g_failures);
    return g_failures ? 1 : 0;
}

/* ---- PRNG (splitmix64) ---- */
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static void rng_seed(uint64_t s) { g_rng = s * 0x9E3779B97F4A7C15ull + 1; }
static uint64_t rng_u64(void)
{
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rng_unit(void) { return (double)(rng_u64() >> 11) * (1.0 / 9007199254740992.0); }
/* Non-zero value in +-[0.1, 1). */
static float rng_val(void)
{
    double v = 0.1 + 0.9 * rng_unit();
    return (float)((rng_u64() & 1) ? -v : v);
}

/* ---- reference conversions ---- */
static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static double ref_f16_value(uint16_t h) /* finite only */
{
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);
    return (h & 0x8000) ? -v : v;
}
static float ref_f16_to_f32(uint16_t h)
{
    if ((h & 0x7C00) == 0x7C00) {
        uint32_t u = ((uint32_t)(h & 0x8000) << 16) | 0x7F800000u | ((uint32_t)(h & 1023) << 13);
        if (h & 1023) u |= 0x00400000u;
        return u2f(u);
    }
    return (float)ref_f16_value(h);
}
static float ref_bf16_to_f32(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) u |= 0x00400000u;
    return u2f(u);
}
/* Nearest-even by search over the positive finite f16 values (monotone in their bits). */
static uint16_t ref_f32_to_f16(float f)
{
    uint32_t u = f2u(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    if (isnan(f)) return (uint16_t)(sign | 0x7E00 | ((u >> 13) & 1023));
    double a = fabs((double)f);
    if (a >= 65520.0) return (uint16_t)(sign | 0x7C00);
    int lo = 0, hi = 0x7BFF; /* largest lo with value(lo) <= a */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (ref_f16_value((uint16_t)mid) <= a) lo = mid; else hi = mid - 1;
    }
    int r = lo;
    if (lo < 0x7BFF) {
        double d0 = a - ref_f16_value((uint16_t)lo), d1 = ref_f16_value((uint16_t)(lo + 1)) - a;
        if (d1 < d0 || (d1 == d0 && (lo & 1))) r = lo + 1;
    }
    return (uint16_t)(sign | r);
}
static double ref_bf16_value(uint16_t b) { return (double)u2f((uint32_t)b << 16); }
static uint16_t ref_f32_to_bf16(float f)
{
    uint32_t u = f2u(f);
    if (isnan(f)) return (uint16_t)((u >> 16) | 0x40);
    if (isinf(f)) return (uint16_t)(u >> 16);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint16_t lo = (uint16_t)((u & 0x7FFFFFFF) >> 16);
    double a = fabs((double)f);
    double v0 = ref_bf16_value(lo);
    double v1 = lo == 0x7F7F ? ldexp(1.0, 128) : ref_bf16_value((uint16_t)(lo + 1));
    double d0 = a - v0, d1 = v1 - a;
    uint16_t r = lo;
    if (d1 < d0 || (d1 == d0 && (lo & 1))) r = (uint16_t)(lo + 1);
    return (uint16_t)(sign | r);
}

/* ---- dtype-generic element access (reference side) ---- */
static size_t dsize(int dt) { return dt == PN_DTYPE_F32 ? 4 : 2; }
static const char* dname(int dt) { return dt == 0 ? "f32" : dt == 1 ? "f16" : "bf16"; }
static double get_val(int dt, const void* p, int64_t i)
{
    if (dt == PN_DTYPE_F32) return ((const float*)p)[i];
    if (dt == PN_DTYPE_F16) {
        static float table[65536];
        static int ready = 0;
        if (!ready) {
            for (int h = 0; h < 65536; h++) table[h] = ref_f16_to_f32((uint16_t)h);
            ready = 1;
        }
        return table[((const uint16_t*)p)[i]];
    }
    return ref_bf16_to_f32(((const uint16_t*)p)[i]);
}
/* Stores f rounded to dt; returns the stored value. */
static double set_val(int dt, void* p, int64_t i, float f)
{
    if (dt == PN_DTYPE_F32) ((float*)p)[i] = f;
    else if (dt == PN_DTYPE_F16) ((uint16_t*)p)[i] = ref_f32_to_f16(f);
    else ((uint16_t*)p)[i] = ref_f32_to_bf16(f);
    return get_val(dt, p, i);
}
/* Random non-zero values of magnitude in [0.125, 2), exactly representable in dt. */
static void fill_random(int dt, void* p, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = rng_u64();
        if (dt == PN_DTYPE_F32)
            ((float*)p)[i] = u2f((uint32_t)(r & 0x807FFFFFu) | ((124u + (uint32_t)((r >> 32) & 3)) << 23));
        else if (dt == PN_DTYPE_F16)
            ((uint16_t*)p)[i] = (uint16_t)((r & 0x83FFu) | ((12u + ((r >> 32) & 3)) << 10));
        else
            ((uint16_t*)p)[i] = (uint16_t)((r & 0x807Fu) | ((124u + ((r >> 32) & 3)) << 7));
    }
}

/* Relative tolerance of a result stored in dt (its final rounding, with margin). */
static double rtol_of(int dt) { return dt == PN_DTYPE_F32 ? 2e-6 : dt == PN_DTYPE_F16 ? 1e-3 : 8e-3; }
static double atol_of(int dt) { return dt == PN_DTYPE_F16 ? 1e-7 : 1e-30; }

/* A result matches: NaN for NaN, the same infinity for an infinity, else within tol. */
static int close_enough(double got, double ref, double tol)
{
    if (isnan(ref)) return isnan(got);
    if (isinf(ref)) return got == ref;
    return fabs(got - ref) <= tol;
}

/* Plants NaN / +-Inf at about one in 61 places of p (n values of dt). */
static void plant_specials(int dt, void* p, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = rng_u64();
        if (r % 61 != 0) continue;
        float v = (r >> 8) % 3 == 0 ? NAN : ((r >> 8) % 3 == 1 ? INFINITY : -INFINITY);
        set_val(dt, p, i, v);
    }
}

/* ---- guarded buffers: [guard 64][data][guard 64], data start offset by `shift` bytes ---- */
#define GUARD 64
#define GUARD_BYTE 0xA5
typedef struct gbuf {
    unsigned char* base;
    void* p;
    size_t bytes;
} gbuf;
static gbuf gbuf_new(size_t bytes, size_t shift)
{
    gbuf g;
    g.bytes = bytes;
    g.base = (unsigned char*)malloc(bytes + 2 * GUARD + shift + 64);
    if (!g.base) { fprintf(stderr, "out of memory\n"); exit(2); }
    unsigned char* start = (unsigned char*)(((uintptr_t)g.base + GUARD + 63) & ~(uintptr_t)63) + shift;
    memset(g.base, GUARD_BYTE, bytes + 2 * GUARD + shift + 64);
    g.p = start;
    return g;
}
static int gbuf_guards_ok(const gbuf* g)
{
    const unsigned char* s = (const unsigned char*)g->p;
    for (int i = 1; i <= GUARD; i++)
        if (s[-i] != GUARD_BYTE) return 0;
    for (int i = 0; i < GUARD; i++)
        if (s[g->bytes + (size_t)i] != GUARD_BYTE) return 0;
    return 1;
}
static void gbuf_free(gbuf* g) { free(g->base); g->base = NULL; }

/* ---- ISAs the CPU runs ---- */
static int isa_list(int* out)
{
    pn_capabilities caps;
    memset(&caps, 0, sizeof caps);
    caps.struct_size = sizeof caps;
    if (pn_get_capabilities(&caps) != PN_OK) return 0;
    int n = 0;
    for (int i = 0; i <= caps.best_isa; i++) out[n++] = i;
    return n;
}
static const char* isa_name(int i) { return i == 0 ? "scalar" : i == 1 ? "avx2" : "avx512"; }

#endif
