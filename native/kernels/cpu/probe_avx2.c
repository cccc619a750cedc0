/* probe_avx2.c — AVX2 probes: probe_body.h plus the bf16 dot loop (bf16 pairs widened with a
 * shift and a mask, then FMA). */
#include "pn_vec_avx2.h"
#include "probe_body.h"

PN_INTERNAL double pn_bf16_loop_avx2(double seconds)
{
    __m256i x[6];
    __m256 acc[12];
    const __m256i hi_mask = _mm256_set1_epi32((int)0xFFFF0000u);
    const __m256 ye = _mm256_set1_ps(1e-7f), yo = _mm256_set1_ps(2e-7f);
    for (int c = 0; c < 6; c++) x[c] = _mm256_set1_epi32(0x3F803F80 + c);
    for (int c = 0; c < 12; c++) acc[c] = _mm256_setzero_ps();
    const int iters = 4096;
    double flops = 0.0, t0 = pn_now();
    do {
        for (int it = 0; it < iters; it++) {
#pragma GCC unroll 6
            for (int c = 0; c < 6; c++) {
                PN_KEEP(x[c]);
                __m256 xe = _mm256_castsi256_ps(_mm256_slli_epi32(x[c], 16));
                __m256 xo = _mm256_castsi256_ps(_mm256_and_si256(x[c], hi_mask));
                acc[2 * c] = _mm256_fmadd_ps(xe, ye, acc[2 * c]);
                acc[2 * c + 1] = _mm256_fmadd_ps(xo, yo, acc[2 * c + 1]);
            }
        }
        flops += 2.0 * 16.0 * 6.0 * iters;
    } while (pn_now() - t0 < seconds);
    for (int c = 1; c < 12; c++) acc[0] = _mm256_add_ps(acc[0], acc[c]);
    PN_KEEP(acc[0]);
    return flops;
}
