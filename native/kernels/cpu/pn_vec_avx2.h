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
/* Deinterleaved bf16 pairs (PN_BF16_DEINT): 2 * VLEN bf16 values load as one vector, even
 * elements to *e (x << 16), odd elements to *o (x & 0xFFFF0000), both exact. The store is the
 * inverse: RNE per lane (bits + 0x7FFF + lsb), low halves from the even vector shifted down, high
 * halves from the odd one (a word blend, no pack or lane crossing). NaN lanes take the exact rule
 * of pn_f32_to_bf16 ((bits >> 16) | 0x40) on a rarely taken branch. */
#define PN_BF16_DEINT 1
PN_ALWAYS_INLINE void vload2_bf16(const uint16_t* p, VF* e, VF* o)
{
    __m256i x = _mm256_loadu_si256((const __m256i*)(const void*)p);
    __asm__("" : "+x"(x)); /* one load, not two (the and would re-read memory) */
    *e = _mm256_castsi256_ps(_mm256_slli_epi32(x, 16));
    *o = _mm256_castsi256_ps(_mm256_and_si256(x, _mm256_set1_epi32((int)0xFFFF0000u)));
}
/* RNE of every lane, the bf16 result in the upper 16 bits (lower bits garbage); no NaN rule. */
PN_ALWAYS_INLINE __m256i pn_bf16_rne_hi(VF v)
{
    __m256i u = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    return _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), lsb);
}
/* Exact rule per lane (NaN included), the bf16 result in the lower 16 bits, upper bits zero. */
PN_ALWAYS_INLINE __m256i pn_bf16_exact_lo(VF v)
{
    __m256i rounded = _mm256_srli_epi32(pn_bf16_rne_hi(v), 16);
    __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(_mm256_castps_si256(v), 16),
                                    _mm256_set1_epi32(0x40));
    __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    return _mm256_blendv_epi8(rounded, quiet, nan);
}
PN_ALWAYS_INLINE __m256i pn_to_bf16x2(VF e, VF o)
{
    __m256 nan = _mm256_cmp_ps(e, o, _CMP_UNORD_Q); /* a lane of e or of o is NaN */
    if (__builtin_expect(_mm256_testz_ps(nan, nan), 1))
        return _mm256_blend_epi16(_mm256_srli_epi32(pn_bf16_rne_hi(e), 16), pn_bf16_rne_hi(o),
                                  0xAA);
    return _mm256_blend_epi16(pn_bf16_exact_lo(e), _mm256_slli_epi32(pn_bf16_exact_lo(o), 16),
                              0xAA);
}
PN_ALWAYS_INLINE void vstore2_bf16(uint16_t* p, VF e, VF o)
{
    _mm256_storeu_si256((__m256i*)(void*)p, pn_to_bf16x2(e, o));
}
/* Non-temporal: p 32-byte aligned. */
PN_ALWAYS_INLINE void vstream2_bf16(uint16_t* p, VF e, VF o)
{
    _mm256_stream_si256((__m256i*)(void*)p, pn_to_bf16x2(e, o));
}

/* Non-finite tracking (pn_cpu_affine_ex): lanes where !(|v| <= limit), NaN included. */
typedef __m256 VBAD;
PN_ALWAYS_INLINE VBAD vbad_none(void) { return _mm256_setzero_ps(); }
PN_ALWAYS_INLINE VBAD vbad_note(VBAD b, VF v, VF limit)
{
    VF mag = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)));
    return _mm256_or_ps(b, _mm256_cmp_ps(mag, limit, _CMP_NLE_UQ));
}
PN_ALWAYS_INLINE int vbad_any(VBAD b) { return _mm256_movemask_ps(b) != 0; }

PN_ALWAYS_INLINE void vsfence(void) { _mm_sfence(); }
PN_ALWAYS_INLINE void vprefetch(const void* p) { _mm_prefetch((const char*)p, _MM_HINT_T0); }

/* Optimisation barrier: the compiler must keep x in a register and assume it changed. */
#define PN_KEEP(x) __asm__ volatile("" : "+x"(x))

#endif
