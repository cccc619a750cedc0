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
PN_ALWAYS_INLINE void vsfence(void) { _mm_sfence(); }
PN_ALWAYS_INLINE void vprefetch(const void* p) { _mm_prefetch((const char*)p, _MM_HINT_T0); }

/* Optimisation barrier: the compiler must keep x in a register and assume it changed. */
#define PN_KEEP(x) __asm__ volatile("" : "+v"(x))

#endif
