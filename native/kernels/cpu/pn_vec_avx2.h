/* pn_vec_avx2.h — vector primitives for the AVX2 + FMA + F16C instantiation of the kernel bodies.
 * Only files compiled with -mavx2 -mfma -mf16c include it. */
#ifndef PN_VEC_H
#define PN_VEC_H
#include <immintrin.h>

#include "pn_internal.h"

#define PN_SFX(name) name##_avx2
#define PN_ISA_ID PN_ISA_AVX2
#define VLEN 8
#define PN_MR 6   /* merge register block: 6 x 16 (12 ymm accumulators) */
#define PN_NV 2
typedef __m256 VF;

PN_ALWAYS_INLINE VF vzero(void) { return _mm256_setzero_ps(); }
PN_ALWAYS_INLINE VF vset1(float x) { return _mm256_set1_ps(x); }
PN_ALWAYS_INLINE VF vfma(VF a, VF b, VF c) { return _mm256_fmadd_ps(a, b, c); }
PN_ALWAYS_INLINE VF vadd(VF a, VF b) { return _mm256_add_ps(a, b); }
PN_ALWAYS_INLINE VF vmul(VF a, VF b) { return _mm256_mul_ps(a, b); }

PN_ALWAYS_INLINE VF vload_f32(const float* p) { return _mm256_loadu_ps(p); }
PN_ALWAYS_INLINE VF vload_f32a(const float* p) { return _mm256_load_ps(p); }
PN_ALWAYS_INLINE VF vload_f16(const uint16_t* p)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(const void*)p));
}
PN_ALWAYS_INLINE VF vload_bf16(const uint16_t* p)
{
    __m128i h = _mm_loadu_si128((const __m128i*)(const void*)p);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
/* Sets the quiet bit of NaN lanes. */
PN_ALWAYS_INLINE VF vquiet(VF v)
{
    __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    return _mm256_or_ps(v, _mm256_and_ps(nan, _mm256_castsi256_ps(_mm256_set1_epi32(0x00400000))));
}

PN_ALWAYS_INLINE __m128i pn_to_f16(VF v) { return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT); }
PN_ALWAYS_INLINE __m128i pn_to_bf16(VF v)
{
    __m256i u = _mm256_castps_si256(v);
    __m256i hi = _mm256_srli_epi32(u, 16);
    __m256i rounded = _mm256_srli_epi32(
        _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)),
                         _mm256_and_si256(hi, _mm256_set1_epi32(1))), 16);
    __m256i quiet = _mm256_or_si256(hi, _mm256_set1_epi32(0x40));
    __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    __m256i r = _mm256_blendv_epi8(rounded, quiet, nan);
    return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
}

PN_ALWAYS_INLINE void vstore_f32(float* p, VF v) { _mm256_storeu_ps(p, v); }
PN_ALWAYS_INLINE void vstore_f16(uint16_t* p, VF v)
{
    _mm_storeu_si128((__m128i*)(void*)p, pn_to_f16(v));
}
PN_ALWAYS_INLINE void vstore_bf16(uint16_t* p, VF v)
{
    _mm_storeu_si128((__m128i*)(void*)p, pn_to_bf16(v));
}
/* Non-temporal stores: p aligned to the stored width (32 bytes f32, 16 bytes 16-bit). */
PN_ALWAYS_INLINE void vstream_f32(float* p, VF v) { _mm256_stream_ps(p, v); }
PN_ALWAYS_INLINE void vstream_f16(uint16_t* p, VF v)
{
    _mm_stream_si128((__m128i*)(void*)p, pn_to_f16(v));
}
PN_ALWAYS_INLINE void vstream_bf16(uint16_t* p, VF v)
{
    _mm_stream_si128((__m128i*)(void*)p, pn_to_bf16(v));
}
PN_ALWAYS_INLINE void vsfence(void) { _mm_sfence(); }
PN_ALWAYS_INLINE void vprefetch(const void* p) { _mm_prefetch((const char*)p, _MM_HINT_T0); }

/* Optimisation barrier: the compiler must keep x in a register and assume it changed. */
#define PN_KEEP(x) __asm__ volatile("" : "+x"(x))

#endif
