/* test_convert.c — pn_cpu_convert, bit-exact against the reference rules: exhaustive over all
 * f16 and bf16 patterns, special and random f32 values, every length 0..200 (all tails), odd
 * start offsets, threads 1..3, the non-temporal path, in place. Every ISA the CPU runs. */
#include "test_common.h"

static uint16_t expect16(int src_dt, const void* src, int64_t i, int dst_dt)
{
    float f;
    if (src_dt == PN_DTYPE_F32) f = ((const float*)src)[i];
    else if (src_dt == PN_DTYPE_F16) f = ref_f16_to_f32(((const uint16_t*)src)[i]);
    else f = ref_bf16_to_f32(((const uint16_t*)src)[i]);
    if (src_dt == dst_dt) return ((const uint16_t*)src)[i];
    return dst_dt == PN_DTYPE_F16 ? ref_f32_to_f16(f) : ref_f32_to_bf16(f);
}
static uint32_t expect32(int src_dt, const void* src, int64_t i)
{
    if (src_dt == PN_DTYPE_F32) return ((const uint32_t*)src)[i];
    if (src_dt == PN_DTYPE_F16) return f2u(ref_f16_to_f32(((const uint16_t*)src)[i]));
    return f2u(ref_bf16_to_f32(((const uint16_t*)src)[i]));
}

/* Converts src (n values) with the library and compares every output bit pattern. */
static void run_case(int s, int d, const void* src, int64_t n, size_t shift, int threads)
{
    gbuf out = gbuf_new((size_t)n * dsize(d), shift);
    memset(out.p, 0xFF, (size_t)n * dsize(d)); /* poison: NaN in every dtype */
    pn_status st = pn_cpu_convert(s, src, d, out.p, n, threads);
    CHECK(st == PN_OK, "status %d (%s)", st, pn_last_error());
    int bad = 0;
    for (int64_t i = 0; i < n && bad < 5; i++) {
        if (d == PN_DTYPE_F32) {
            uint32_t got = ((uint32_t*)out.p)[i], exp = expect32(s, src, i);
            if (got != exp) { bad++; CHECK(0, "%s->%s n=%lld i=%lld got %08x expected %08x", dname(s), dname(d), (long long)n, (long long)i, got, exp); }
        } else {
            uint16_t got = ((uint16_t*)out.p)[i], exp = expect16(s, src, i, d);
            if (got != exp) { bad++; CHECK(0, "%s->%s n=%lld i=%lld got %04x expected %04x", dname(s), dname(d), (long long)n, (long long)i, got, exp); }
        }
    }
    CHECK(bad == 0, "mismatches");
    CHECK(gbuf_guards_ok(&out), "guard bytes overwritten %s->%s n=%lld", dname(s), dname(d), (long long)n);
    gbuf_free(&out);
}

static float special_f32(int i)
{
    static const uint32_t bits[] = {
        0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00000u,
        0x7F800001u, 0xFF812345u, 0x7FBFFFFFu, 0x7FC01234u, 0x00000001u, 0x807FFFFFu,
        0x00400000u, 0x7F7FFFFFu, 0xFF7FFFFFu, 0x477FE000u /* 65504 */, 0x477FEFFFu,
        0x477FF000u /* 65520: ties to Inf */, 0x477FF001u, 0x47800000u, 0x38800000u /* f16 min normal */,
        0x387FFFFFu, 0x33800000u /* f16 min subnormal */, 0x33000000u /* half of it: tie to 0 */,
        0x33000001u, 0x33C00000u /* 1.5 subnormal: tie to 2 */, 0x34200000u, 0x3F800000u,
        0x3F801000u /* f16 tie */, 0x3F803000u, 0x3F808000u /* bf16 tie even */, 0x3F818000u,
        0x3F808001u, 0x7F7F8000u /* bf16 tie to Inf */, 0x7F7F7FFFu, 0x00008000u, 0x00018000u,
        0x3FFFFFFFu, 0xBF7FFFFFu, 0x4B000000u, 0x387FE000u, 0x387FF000u};
    int n = (int)(sizeof bits / sizeof bits[0]);
    return u2f(bits[i % n]);
}

int main(void)
{
    int isas[3];
    int nisa = isa_list(isas);
    CHECK(nisa >= 1, "no ISA");
    /* sources: every 16-bit pattern; f32 specials + random bit patterns */
    const int64_t n16 = 65536, n32 = 1 << 18;
    uint16_t* all16 = (uint16_t*)malloc(n16 * 2);
    float* f32v = (float*)malloc((size_t)n32 * 4);
    for (int64_t i = 0; i < n16; i++) all16[i] = (uint16_t)i;
    rng_seed(1);
    for (int64_t i = 0; i < n32; i++) {
        if (i < 4096) f32v[i] = special_f32((int)i);
        else if (i % 3 == 0) f32v[i] = u2f((uint32_t)rng_u64());
        else if (i % 3 == 1) f32v[i] = u2f(0x33000000u + (uint32_t)(rng_u64() % 0x14800000u)); /* f16 range */
        else f32v[i] = u2f((uint32_t)(rng_u64() & 0x8000FFFFu) | ((uint32_t)(rng_u64() % 255) << 23) | (0x8000u));
    }
    for (int ii = 0; ii < nisa; ii++) {
        CHECK(pn_set_isa(isas[ii]) == PN_OK, "set isa");
        for (int s = 0; s < 3; s++)
            for (int d = 0; d < 3; d++) {
                const void* src = s == PN_DTYPE_F32 ? (const void*)f32v : (const void*)all16;
                int64_t n = s == PN_DTYPE_F32 ? n32 : n16;
                CTX("isa=%s %s->%s exhaustive", isa_name(isas[ii]), dname(s), dname(d));
                run_case(s, d, src, n, 0, 1);
                run_case(s, d, src, n, dsize(d), 3);
                /* every tail length and start offset */
                for (int64_t len = 0; len <= 200; len++) {
                    CTX("isa=%s %s->%s len=%lld", isa_name(isas[ii]), dname(s), dname(d), (long long)len);
                    int64_t off = len % 7;
                    run_case(s, d, (const unsigned char*)src + (size_t)off * dsize(s) * 97, len,
                             (size_t)(len % 4) * dsize(d) % 64, 1 + (int)(len % 3));
                }
            }
        /* large: threads and the non-temporal path (output >= 4 MiB), misaligned output */
        {
            const int64_t n = ((int64_t)2 << 20) + 5;
            float* big = (float*)malloc((size_t)n * 4);
            uint16_t* big16 = (uint16_t*)malloc((size_t)n * 2);
            for (int64_t i = 0; i < n; i++) big[i] = f32v[i % n32];
            for (int64_t i = 0; i < n; i++) big16[i] = (uint16_t)(i * 40503u);
            for (int t = 1; t <= 3; t++) {
                CTX("isa=%s large t=%d", isa_name(isas[ii]), t);
                run_case(PN_DTYPE_F32, PN_DTYPE_F16, big, n, 2, t);
                run_case(PN_DTYPE_F32, PN_DTYPE_BF16, big, n, 0, t);
                run_case(PN_DTYPE_F16, PN_DTYPE_F32, big16, n, 4, t);
                run_case(PN_DTYPE_BF16, PN_DTYPE_F32, big16, n, 12, t);
                run_case(PN_DTYPE_BF16, PN_DTYPE_F16, big16, n, 6, t);
            }
            free(big);
            free(big16);
        }
        /* in place: f16 <-> bf16 on the identical pointer */
        for (int t = 1; t <= 3; t++) {
            const int64_t n = 70001;
            CTX("isa=%s in-place t=%d", isa_name(isas[ii]), t);
            uint16_t* buf = (uint16_t*)malloc((size_t)n * 2);
            uint16_t* exp = (uint16_t*)malloc((size_t)n * 2);
            for (int64_t i = 0; i < n; i++) buf[i] = (uint16_t)(i * 7919u);
            for (int64_t i = 0; i < n; i++) exp[i] = ref_f32_to_bf16(ref_f16_to_f32(buf[i]));
            CHECK(pn_cpu_convert(PN_DTYPE_F16, buf, PN_DTYPE_BF16, buf, n, t) == PN_OK, "status");
            int bad = 0;
            for (int64_t i = 0; i < n; i++) bad += buf[i] != exp[i];
            CHECK(bad == 0, "%d in-place mismatches", bad);
            CHECK(pn_cpu_convert(PN_DTYPE_F32, f32v, PN_DTYPE_F32, f32v, 100, t) == PN_OK, "same-pointer copy");
            free(buf);
            free(exp);
        }
    }
    pn_set_isa(-1);
    free(all16);
    free(f32v);
    return test_finish("test_convert");
}
