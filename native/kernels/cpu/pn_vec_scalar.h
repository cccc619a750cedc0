/* pn_vec_scalar.h — one-lane "vector" primitives: the portable C instantiation of the kernel
 * bodies (any CPU). Conversions are the exact scalar rules of pn_internal.h. */
#ifndef PN_VEC_H
#define PN_VEC_H
#include "pn_internal.h"

#define PN_SFX(name) name##_scalar
#define PN_ISA_ID PN_ISA_SCALAR
#define VLEN 1
#define PN_MR 4   /* merge register block: 4 x 4 scalars */
#define PN_NV 4
typedef float VF;

PN_ALWAYS_INLINE VF vzero(void) { return 0.0f; }
PN_ALWAYS_INLINE VF vset1(float x) { return x; }
/* Plain multiply-add (two roundings; the library is built with -ffp-contract=off). */
PN_ALWAYS_INLINE VF vfma(VF a, VF b, VF c) { return a * b + c; }
PN_ALWAYS_INLINE VF vadd(VF a, VF b) { return a + b; }
PN_ALWAYS_INLINE VF vmul(VF a, VF b) { return a * b; }

PN_ALWAYS_INLINE VF vload_f32(const float* p) { return *p; }
PN_ALWAYS_INLINE VF vload_f32a(const float* p) { return *p; }
PN_ALWAYS_INLINE VF vload_f16(const uint16_t* p) { return pn_f16_to_f32(*p); }
PN_ALWAYS_INLINE VF vload_bf16(const uint16_t* p) { return pn_bf16_widen(*p); }
PN_ALWAYS_INLINE VF vquiet(VF v)
{
    uint32_t u = pn_f32_bits(v);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) u |= 0x00400000u;
    return pn_bits_f32(u);
}
PN_ALWAYS_INLINE void vstore_f32(float* p, VF v) { *p = v; }
PN_ALWAYS_INLINE void vstore_f16(uint16_t* p, VF v) { *p = pn_f32_to_f16(v); }
PN_ALWAYS_INLINE void vstore_bf16(uint16_t* p, VF v) { *p = pn_f32_to_bf16(v); }
PN_ALWAYS_INLINE void vstream_f32(float* p, VF v) { *p = v; }
PN_ALWAYS_INLINE void vstream_f16(uint16_t* p, VF v) { *p = pn_f32_to_f16(v); }
PN_ALWAYS_INLINE void vstream_bf16(uint16_t* p, VF v) { *p = pn_f32_to_bf16(v); }
/* Non-finite tracking (pn_cpu_affine_ex): !(|v| <= limit), NaN included. */
typedef int VBAD;
PN_ALWAYS_INLINE VBAD vbad_none(void) { return 0; }
PN_ALWAYS_INLINE VBAD vbad_note(VBAD b, VF v, VF limit) { return b | !(v <= limit && v >= -limit); }
PN_ALWAYS_INLINE int vbad_any(VBAD b) { return b; }
PN_ALWAYS_INLINE void vsfence(void) {}
PN_ALWAYS_INLINE void vprefetch(const void* p) { (void)p; }

/* Optimisation barrier: the compiler must keep x in a register and assume it changed. */
#if defined(__x86_64__) || defined(__i386__)
#define PN_KEEP(x) __asm__ volatile("" : "+x"(x))
#elif defined(__aarch64__)
#define PN_KEEP(x) __asm__ volatile("" : "+w"(x))
#else
#define PN_KEEP(x) __asm__ volatile("" : "+g"(x))
#endif

#endif
