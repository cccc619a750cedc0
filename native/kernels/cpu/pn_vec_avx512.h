/* pn_vec_avx512.h — vector primitives for the AVX-512 (F/BW/VL) instantiation of the kernel
 * bodies. Only files compiled with the AVX-512 flags include it. The f32 -> bf16 rounding uses
 * the integer sequence (not VCVTNEPS2BF16, which flushes subnormal inputs to zero). */
#ifndef PN_VEC_H
#define PN_VEC_H
#include <immintrin.h>

#include "pn_internal.h"

#define PN_SFX(name) name##_avx512
#define PN_ISA_ID PN_ISA_AVX512
#define VLEN 16
#define PN_MR 8   /* merge register block: 8 x 32 (16 zmm accumulators) */
#define PN_NV 2
typedef __m512 VF;

PN_ALWAYS_INLINE VF vzero(void) { return _mm512_setzero_ps(); }
PN_ALWAYS_INLINE VF vset1(float x) { return _mm512_set1_ps(x); }
PN_ALWAYS_INLINE VF vfma(VF a, VF b, VF c) { return _mm512_fmadd_ps(a, b, c); }
PN_ALWAYS_INLINE VF vadd(VF a, VF b) { return _mm512_add_ps(a, b); }
PN_ALWAYS_INLINE VF vmul(VF a, VF b) { return _mm512_mul_ps(a, b); }

PN_ALWAYS_INLINE VF vload_f32(const float* p) { return _mm512_loadu_ps(p); }
PN_ALWAYS_INLINE VF vload_f32a(const float* p) { return _mm512_load_ps(p); }
PN_ALWAYS_INLINE VF vload_f16(const uint16_t* p)
{
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(const void*)p));
}
PN_ALWAYS_INLINE VF vload_bf16(const uint16_t* p)
{
    __m256i h = _mm256_loadu_si256((const __m256i*)(const void*)p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
PN_ALWAYS_INLINE VF vquiet(VF v)
{
    __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    return _mm512_castsi512_ps(_mm512_mask_or_epi32(_mm512_castps_si512(v), nan,
                                                    _mm512_castps_si512(v),
                                                    _mm512_set1_epi32(0x00400000)));
}

PN_ALWAYS_INLINE __m256i pn_to_f16(VF v) { return _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT); }
PN_ALWAYS_INLINE __m256i pn_to_bf16(VF v)
{
    __m512i u = _mm512_castps_si512(v);
    __m512i hi = _mm512_srli_epi32(u, 16);
    __m512i rounded = _mm512_srli_epi32(
        _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)),
                         _mm512_and_si512(hi, _mm512_set1_epi32(1))), 16);
    __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    __m512i r = _mm512_mask_or_epi32(rounded, nan, hi, _mm512_set1_epi32(0x40));
    return _mm512_cvtepi32_epi16(r);
}

PN_ALWAYS_INLINE void vstore_f32(float* p, VF v) { _mm512_storeu_ps(p, v); }
PN_ALWAYS_INLINE void vstore_f16(uint16_t* p, VF v)
{
    _mm256_storeu_si256((__m256i*)(void*)p, pn_to_f16(v));
}
PN_ALWAYS_INLINE void vstore_bf16(uint16_t* p, VF v)
{
    _mm256_storeu_si256((__m256i*)(void*)p, pn_to_bf16(v));
}
/* Non-temporal stores: p aligned to the stored width (64 bytes f32, 32 bytes 16-bit). */
PN_ALWAYS_INLINE void vstream_f32(float* p, VF v) { _mm512_stream_ps(p, v); }
PN_ALWAYS_INLINE void vstream_f16(uint16_t* p, VF v)
{
    _mm256_stream_si256((__m256i*)(void*)p, pn_to_f16(v));
}
PN_ALWAYS_INLINE void vstream_bf16(uint16_t* p, VF v)
{
    _mm256_stream_si256((__m256i*)(void*)p, pn_to_bf16(v));
}
/* Deinterleaved bf16 pairs (PN_BF16_DEINT), as in pn_vec_avx2.h: 2 * VLEN bf16 values load as
 * one vector, even elements to *e (x << 16), odd elements to *o (x & 0xFFFF0000). The store
 * rounds every lane (bits + 0x7FFF + lsb) and takes the low words from the even vector shifted
 * down, the high words from the odd one (a word blend); NaN lanes take the exact rule of
 * pn_f32_to_bf16 ((bits >> 16) | 0x40) on a rarely taken branch. */
#define PN_BF16_DEINT 1
PN_ALWAYS_INLINE void vload2_bf16(const uint16_t* p, VF* e, VF* o)
{
    __m512i x = _mm512_loadu_si512((const void*)p);
    *e = _mm512_castsi512_ps(_mm512_slli_epi32(x, 16));
    *o = _mm512_castsi512_ps(_mm512_and_si512(x, _mm512_set1_epi32((int)0xFFFF0000u)));
}
/* RNE of every lane, the bf16 result in the upper 16 bits (lower bits garbage); no NaN rule. */
PN_ALWAYS_INLINE __m512i pn_bf16_rne_hi(VF v)
{
    __m512i u = _mm512_castps_si512(v);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    return _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), lsb);
}
/* Exact rule per lane (NaN included), the bf16 result in the lower 16 bits, upper bits zero. */
PN_ALWAYS_INLINE __m512i pn_bf16_exact_lo(VF v)
{
    __m512i rounded = _mm512_srli_epi32(pn_bf16_rne_hi(v), 16);
    __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    return _mm512_mask_or_epi32(rounded, nan, _mm512_srli_epi32(_mm512_castps_si512(v), 16),
                                _mm512_set1_epi32(0x40));
}
PN_ALWAYS_INLINE __m512i pn_to_bf16x2(VF e, VF o)
{
    const __mmask32 odd = (__mmask32)0xAAAAAAAAu; /* word lanes taken from the second operand */
    if (__builtin_expect(_mm512_cmp_ps_mask(e, o, _CMP_UNORD_Q) == 0, 1))
        return _mm512_mask_blend_epi16(odd, _mm512_srli_epi32(pn_bf16_rne_hi(e), 16),
                                       pn_bf16_rne_hi(o));
    return _mm512_mask_blend_epi16(odd, pn_bf16_exact_lo(e),
                                   _mm512_slli_epi32(pn_bf16_exact_lo(o), 16));
}
PN_ALWAYS_INLINE void vstore2_bf16(uint16_t* p, VF e, VF o)
{
    _mm512_storeu_si512((void*)p, pn_to_bf16x2(e, o));
}
/* Non-temporal: p 64-byte aligned. */
PN_ALWAYS_INLINE void vstream2_bf16(uint16_t* p, VF e, VF o)
{
    _mm512_stream_si512((void*)p, pn_to_bf16x2(e, o));
}

/* Non-finite tracking (pn_cpu_affine_ex): lanes where !(|v| <= limit), NaN included. */
typedef __mmask16 VBAD;
PN_ALWAYS_INLINE VBAD vbad_none(void) { return 0; }
PN_ALWAYS_INLINE VBAD vbad_note(VBAD b, VF v, VF limit)
{
    return (VBAD)(b | _mm512_cmp_ps_mask(_mm512_abs_ps(v), limit, _CMP_NLE_UQ));
}
PN_ALWAYS_INLINE int vbad_any(VBAD b) { return b != 0; }

PN_ALWAYS_INLINE void vsfence(void) { _mm_sfence(); }
PN_ALWAYS_INLINE void vprefetch(const void* p) { _mm_prefetch((const char*)p, _MM_HINT_T0); }

/* Optimisation barrier: the compiler must keep x in a register and assume it changed. */
#define PN_KEEP(x) __asm__ volatile("" : "+v"(x))

#endif
