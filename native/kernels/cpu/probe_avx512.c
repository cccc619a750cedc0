/* probe_avx512.c — AVX-512 probes: probe_body.h plus the bf16 dot loop: VDPBF16PS chains when
 * the CPU has AVX512_BF16 (checked at run time), else shift/mask widening + FMA. */
#include "pn_vec_avx512.h"
#include "probe_body.h"

PN_INTERNAL double pn_bf16_loop_avx512(double seconds)
{
    const int iters = 4096;
    double flops = 0.0, t0 = pn_now();
    if (pn_cpu_has_avx512_bf16) {
        __m512 acc[16];
        __m512i x = _mm512_set1_epi32(0x3F803F80), y = _mm512_set1_epi32(0x33D633D6);
        for (int c = 0; c < 16; c++) acc[c] = _mm512_setzero_ps();
        do {
            for (int it = 0; it < iters; it++) {
                PN_KEEP(x);
#pragma GCC unroll 16
                for (int c = 0; c < 16; c++)
                    acc[c] = _mm512_dpbf16_ps(acc[c], (__m512bh)x, (__m512bh)y);
            }
            flops += 2.0 * 32.0 * 16.0 * iters;
        } while (pn_now() - t0 < seconds);
        for (int c = 1; c < 16; c++) acc[0] = _mm512_add_ps(acc[0], acc[c]);
        PN_KEEP(acc[0]);
        return flops;
    }
    __m512i x[8];
    __m512 acc[16];
    const __m512i hi_mask = _mm512_set1_epi32((int)0xFFFF0000u);
    const __m512 ye = _mm512_set1_ps(1e-7f), yo = _mm512_set1_ps(2e-7f);
    for (int c = 0; c < 8; c++) x[c] = _mm512_set1_epi32(0x3F803F80 + c);
    for (int c = 0; c < 16; c++) acc[c] = _mm512_setzero_ps();
    do {
        for (int it = 0; it < iters; it++) {
#pragma GCC unroll 8
            for (int c = 0; c < 8; c++) {
                PN_KEEP(x[c]);
                __m512 xe = _mm512_castsi512_ps(_mm512_slli_epi32(x[c], 16));
                __m512 xo = _mm512_castsi512_ps(_mm512_and_si512(x[c], hi_mask));
                acc[2 * c] = _mm512_fmadd_ps(xe, ye, acc[2 * c]);
                acc[2 * c + 1] = _mm512_fmadd_ps(xo, yo, acc[2 * c + 1]);
            }
        }
        flops += 2.0 * 32.0 * 8.0 * iters;
    } while (pn_now() - t0 < seconds);
    for (int c = 1; c < 16; c++) acc[0] = _mm512_add_ps(acc[0], acc[c]);
    PN_KEEP(acc[0]);
    return flops;
}
