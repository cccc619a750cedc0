/* probe_avx512.c — AVX-512 probes: probe_body.h plus the bf16 dot loop: VDPBF16PS chains when
 * the CPU has AVX512_BF16 (checked at run time), else shift/mask widening + FMA. */
#include "pn_vec_avx512.h"
#include "probe_body.h"

PN_INTERNAL double pn_bf16_loop_avx512(double seconds)
{
    const int iters = 4096;
    double flops = 0.0, t0 = pn_now();
    if (pn_cpu_has_avx512_bf16) {
        __m512i x = _mm512_set1_epi32(0x3F803F80), y = _mm512_set1_epi32(0x33D633D6);
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
               a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        do {
            for (int it = 0; it < iters; it++) {
                PN_KEEP(x);
                __m512bh xb = (__m512bh)x, yb = (__m512bh)y;
                a0 = _mm512_dpbf16_ps(a0, xb, yb); a1 = _mm512_dpbf16_ps(a1, xb, yb);
                a2 = _mm512_dpbf16_ps(a2, xb, yb); a3 = _mm512_dpbf16_ps(a3, xb, yb);
                a4 = _mm512_dpbf16_ps(a4, xb, yb); a5 = _mm512_dpbf16_ps(a5, xb, yb);
                a6 = _mm512_dpbf16_ps(a6, xb, yb); a7 = _mm512_dpbf16_ps(a7, xb, yb);
                a8 = _mm512_dpbf16_ps(a8, xb, yb); a9 = _mm512_dpbf16_ps(a9, xb, yb);
                a10 = _mm512_dpbf16_ps(a10, xb, yb); a11 = _mm512_dpbf16_ps(a11, xb, yb);
            }
            flops += 2.0 * 32.0 * 12.0 * iters;
        } while (pn_now() - t0 < seconds);
        __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                                 _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
        s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
        PN_KEEP(s);
        return flops;
    }
    const __m512i hi_mask = _mm512_set1_epi32((int)0xFFFF0000u);
    const __m512 ye = _mm512_set1_ps(1e-7f), yo = _mm512_set1_ps(2e-7f);
    __m512i x0 = _mm512_set1_epi32(0x3F803F80 + 0);
    __m512 e0 = _mm512_setzero_ps(), o0 = _mm512_setzero_ps();
    __m512i x1 = _mm512_set1_epi32(0x3F803F80 + 1);
    __m512 e1 = _mm512_setzero_ps(), o1 = _mm512_setzero_ps();
    __m512i x2 = _mm512_set1_epi32(0x3F803F80 + 2);
    __m512 e2 = _mm512_setzero_ps(), o2 = _mm512_setzero_ps();
    __m512i x3 = _mm512_set1_epi32(0x3F803F80 + 3);
    __m512 e3 = _mm512_setzero_ps(), o3 = _mm512_setzero_ps();
    __m512i x4 = _mm512_set1_epi32(0x3F803F80 + 4);
    __m512 e4 = _mm512_setzero_ps(), o4 = _mm512_setzero_ps();
    __m512i x5 = _mm512_set1_epi32(0x3F803F80 + 5);
    __m512 e5 = _mm512_setzero_ps(), o5 = _mm512_setzero_ps();
    do {
        for (int it = 0; it < iters; it++) {
            PN_KEEP(x0);
            e0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(x0, 16)), ye, e0);
            o0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(x0, hi_mask)), yo, o0);
            PN_KEEP(x1);
            e1 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(x1, 16)), ye, e1);
            o1 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(x1, hi_mask)), yo, o1);
            PN_KEEP(x2);
            e2 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(x2, 16)), ye, e2);
            o2 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(x2, hi_mask)), yo, o2);
            PN_KEEP(x3);
            e3 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(x3, 16)), ye, e3);
            o3 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(x3, hi_mask)), yo, o3);
            PN_KEEP(x4);
            e4 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(x4, 16)), ye, e4);
            o4 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(x4, hi_mask)), yo, o4);
            PN_KEEP(x5);
            e5 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(x5, 16)), ye, e5);
            o5 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(x5, hi_mask)), yo, o5);
        }
        flops += 2.0 * (double)(sizeof(__m512) / 2) * 6.0 * iters;
    } while (pn_now() - t0 < seconds);
    __m512 s = e0;
    s = _mm512_add_ps(s, e1);
    s = _mm512_add_ps(s, e2);
    s = _mm512_add_ps(s, e3);
    s = _mm512_add_ps(s, e4);
    s = _mm512_add_ps(s, e5);
    s = _mm512_add_ps(s, o0);
    s = _mm512_add_ps(s, o1);
    s = _mm512_add_ps(s, o2);
    s = _mm512_add_ps(s, o3);
    s = _mm512_add_ps(s, o4);
    s = _mm512_add_ps(s, o5);
    PN_KEEP(s);
    return flops;
}
