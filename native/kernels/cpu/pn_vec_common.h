/* pn_vec_common.h — dtype-generic loads/stores over the per-ISA primitives of PN_VEC_H.
 * Included by every kernel body after one pn_vec_<isa>.h. `dt` is a compile-time constant at
 * every hot call site (the callers switch on the dtype outside their loops), so these fold. */
#ifndef PN_VEC_COMMON_H
#define PN_VEC_COMMON_H

#ifndef PN_VEC_H
#error "include one pn_vec_<isa>.h first"
/* The entry points every ISA instantiates (the table in kernels_<isa>.c points at them). */
PN_INTERNAL void PN_SFX(pn_affine_range)(const pn_affine_ctx* c, int64_t begin, int64_t end);
PN_INTERNAL void PN_SFX(pn_convert_range)(const pn_convert_ctx* c, int64_t begin, int64_t end);
PN_INTERNAL void PN_SFX(pn_scale_rows_range)(const pn_scale_ctx* c, int64_t r0, int64_t r1);
PN_INTERNAL void PN_SFX(pn_scale_cols_range)(const pn_scale_ctx* c, int64_t r0, int64_t r1);
PN_INTERNAL void PN_SFX(pn_merge_chunk)(const pn_merge_ctx* c, int64_t chunk);
PN_INTERNAL void PN_SFX(pn_rmw_range)(float* p, int64_t nwords);
PN_INTERNAL double PN_SFX(pn_fma_loop)(double seconds);
PN_INTERNAL double PN_SFX(pn_bf16_loop)(double seconds);

#endif

/* 1 where the ISA has the deinterleaved bf16 pair primitives (vload2_bf16 / vstore2_bf16 /
 * vstream2_bf16: 2*VLEN bf16, even elements in one vector, odd in the other). */
#ifndef PN_BF16_DEINT
#define PN_BF16_DEINT 0
#endif

/* The largest element size times VLEN: the stack buffer of a partial vector. */
#define PN_VBYTES (VLEN * 4)

PN_ALWAYS_INLINE VF vload_dt(int32_t dt, const void* p, int64_t i)
{
    if (dt == PN_DTYPE_F32) return vload_f32((const float*)p + i);
    if (dt == PN_DTYPE_F16) return vload_f16((const uint16_t*)p + i);
    return vload_bf16((const uint16_t*)p + i);
}

PN_ALWAYS_INLINE void vstore_dt(int32_t dt, void* p, int64_t i, VF v)
{
    if (dt == PN_DTYPE_F32) vstore_f32((float*)p + i, v);
    else if (dt == PN_DTYPE_F16) vstore_f16((uint16_t*)p + i, v);
    else vstore_bf16((uint16_t*)p + i, v);
}

PN_ALWAYS_INLINE void vstream_dt(int32_t dt, void* p, int64_t i, VF v)
{
    if (dt == PN_DTYPE_F32) vstream_f32((float*)p + i, v);
    else if (dt == PN_DTYPE_F16) vstream_f16((uint16_t*)p + i, v);
    else vstream_bf16((uint16_t*)p + i, v);
}

/* Partial vectors (t < VLEN elements) go through a small stack buffer: the unused lanes read
 * zeros and nothing outside [i, i + t) is touched. */
PN_ALWAYS_INLINE VF vload_part(int32_t dt, const void* p, int64_t i, int64_t t)
{
    _Alignas(64) unsigned char buf[PN_VBYTES] = {0};
    size_t es = pn_dtype_size(dt);
    memcpy(buf, (const unsigned char*)p + (size_t)i * es, (size_t)t * es);
    return vload_dt(dt, buf, 0);
}

PN_ALWAYS_INLINE void vstore_part(int32_t dt, void* p, int64_t i, int64_t t, VF v)
{
    _Alignas(64) unsigned char buf[PN_VBYTES];
    size_t es = pn_dtype_size(dt);
    vstore_dt(dt, buf, 0, v);
    memcpy((unsigned char*)p + (size_t)i * es, buf, (size_t)t * es);
}

/* The entry points every ISA instantiates (the table in kernels_<isa>.c points at them). */
PN_INTERNAL void PN_SFX(pn_affine_range)(const pn_affine_ctx* c, int64_t begin, int64_t end);
PN_INTERNAL void PN_SFX(pn_convert_range)(const pn_convert_ctx* c, int64_t begin, int64_t end);
PN_INTERNAL void PN_SFX(pn_scale_rows_range)(const pn_scale_ctx* c, int64_t r0, int64_t r1);
PN_INTERNAL void PN_SFX(pn_scale_cols_range)(const pn_scale_ctx* c, int64_t r0, int64_t r1);
PN_INTERNAL void PN_SFX(pn_merge_chunk)(const pn_merge_ctx* c, int64_t chunk);
PN_INTERNAL void PN_SFX(pn_rmw_range)(float* p, int64_t nwords);
PN_INTERNAL double PN_SFX(pn_fma_loop)(double seconds);
PN_INTERNAL double PN_SFX(pn_bf16_loop)(double seconds);

#endif
