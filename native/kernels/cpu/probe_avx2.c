/* probe_avx2.c — AVX2 probes: probe_body.h plus the bf16 dot loop (bf16 pairs widened with a
 * shift and a mask, then FMA; 4 x 2 chains so everything stays in the 16 ymm registers). */
#include "pn_vec_avx2.h"
#include "probe_body.h"

PN_INTERNAL double pn_bf16_loop_avx2(double seconds)
{
    const __m256i hi_mask = _mm256_set1_epi32((int)0xFFFF0000u);
    const __m256 ye = _mm256_set1_ps(1e-7f), yo = _mm256_set1_ps(2e-7f);
    __m256i x0 = _mm256_set1_epi32(0x3F803F80 + 0);
    __m256 e0 = _mm256_setzero_ps(), o0 = _mm256_setzero_ps();
    __m256i x1 = _mm256_set1_epi32(0x3F803F80 + 1);
    __m256 e1 = _mm256_setzero_ps(), o1 = _mm256_setzero_ps();
    __m256i x2 = _mm256_set1_epi32(0x3F803F80 + 2);
    __m256 e2 = _mm256_setzero_ps(), o2 = _mm256_setzero_ps();
    __m256i x3 = _mm256_set1_epi32(0x3F803F80 + 3);
    __m256 e3 = _mm256_setzero_ps(), o3 = _mm256_setzero_ps();
    const int iters = 4096;
    double flops = 0.0, t0 = pn_now();
    do {
        for (int it = 0; it < iters; it++) {
            PN_KEEP(x0);
            e0 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(x0, 16)), ye, e0);
            o0 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(x0, hi_mask)), yo, o0);
            PN_KEEP(x1);
            e1 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(x1, 16)), ye, e1);
            o1 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(x1, hi_mask)), yo, o1);
            PN_KEEP(x2);
            e2 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(x2, 16)), ye, e2);
            o2 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(x2, hi_mask)), yo, o2);
            PN_KEEP(x3);
            e3 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(x3, 16)), ye, e3);
            o3 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(x3, hi_mask)), yo, o3);
        }
        flops += 2.0 * (double)(sizeof(__m256) / 2) * 4.0 * iters;
    } while (pn_now() - t0 < seconds);
    __m256 s = e0;
    s = _mm256_add_ps(s, e1);
    s = _mm256_add_ps(s, e2);
    s = _mm256_add_ps(s, e3);
    s = _mm256_add_ps(s, o0);
    s = _mm256_add_ps(s, o1);
    s = _mm256_add_ps(s, o2);
    s = _mm256_add_ps(s, o3);
    PN_KEEP(s);
    return flops;
}
