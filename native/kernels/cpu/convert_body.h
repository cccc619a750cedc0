/* convert_body.h — dtype conversion of a range, instantiated once per ISA. Same dtype is a
 * copy (bits kept); bf16 -> f32 quiets NaN explicitly (the other paths quiet in the converting
 * instruction or scalar rule). Large non-aliased outputs use non-temporal stores. */
#include "pn_vec_common.h"

#define CVT_U 4

PN_ALWAYS_INLINE VF cvt_load(int32_t S, int32_t D, const void* src, int64_t j)
{
    VF v = vload_dt(S, src, j);
    return (S == PN_DTYPE_BF16 && D == PN_DTYPE_F32) ? vquiet(v) : v;
}

PN_ALWAYS_INLINE VF cvt_load_part(int32_t S, int32_t D, const void* src, int64_t j, int64_t t)
{
    VF v = vload_part(S, src, j, t);
    return (S == PN_DTYPE_BF16 && D == PN_DTYPE_F32) ? vquiet(v) : v;
}

PN_ALWAYS_INLINE void cvt_impl(const pn_convert_ctx* c, int32_t S, int32_t D, int64_t j,
                               int64_t e, int stream)
{
    if (stream) {
        size_t es = pn_dtype_size(D);
        size_t width = (size_t)VLEN * es;
        size_t mis = (size_t)(((uintptr_t)c->dst + (size_t)j * es) % width);
        if (mis % es != 0) {
            stream = 0;
        } else if (mis != 0) {
            int64_t peel = (int64_t)((width - mis) / es);
            if (peel > e - j) peel = e - j;
            vstore_part(D, c->dst, j, peel, cvt_load_part(S, D, c->src, j, peel));
            j += peel;
        }
    }
    if (stream) {
        for (; j + CVT_U * VLEN <= e; j += CVT_U * VLEN) {
            VF v[CVT_U];
            for (int u = 0; u < CVT_U; u++) v[u] = cvt_load(S, D, c->src, j + u * VLEN);
            for (int u = 0; u < CVT_U; u++) vstream_dt(D, c->dst, j + u * VLEN, v[u]);
        }
        for (; j + VLEN <= e; j += VLEN) vstream_dt(D, c->dst, j, cvt_load(S, D, c->src, j));
        vsfence();
    } else {
        for (; j + CVT_U * VLEN <= e; j += CVT_U * VLEN) {
            VF v[CVT_U];
            for (int u = 0; u < CVT_U; u++) v[u] = cvt_load(S, D, c->src, j + u * VLEN);
            for (int u = 0; u < CVT_U; u++) vstore_dt(D, c->dst, j + u * VLEN, v[u]);
        }
        for (; j + VLEN <= e; j += VLEN) vstore_dt(D, c->dst, j, cvt_load(S, D, c->src, j));
    }
    if (j < e) vstore_part(D, c->dst, j, e - j, cvt_load_part(S, D, c->src, j, e - j));
}

#define CVT_CASE(S, D)                                                                     \
    case (S) * 3 + (D): cvt_impl(c, S, D, begin, end, stream); break;

PN_INTERNAL void PN_SFX(pn_convert_range)(const pn_convert_ctx* c, int64_t begin, int64_t end)
{
    if (c->src_dtype == c->dst_dtype) {
        if (c->src != c->dst) {
            size_t es = pn_dtype_size(c->src_dtype);
            memcpy((unsigned char*)c->dst + (size_t)begin * es,
                   (const unsigned char*)c->src + (size_t)begin * es, (size_t)(end - begin) * es);
        }
        return;
    }
    /* Stream when the range is large and not in place. */
    int stream = c->src != (const void*)c->dst &&
                 (end - begin) * (int64_t)pn_dtype_size(c->dst_dtype) >= ((int64_t)1 << 16) &&
                 c->stream_ok;
    switch (c->src_dtype * 3 + c->dst_dtype) {
        CVT_CASE(PN_DTYPE_F32, PN_DTYPE_F16)
        CVT_CASE(PN_DTYPE_F32, PN_DTYPE_BF16)
        CVT_CASE(PN_DTYPE_F16, PN_DTYPE_F32)
        CVT_CASE(PN_DTYPE_F16, PN_DTYPE_BF16)
        CVT_CASE(PN_DTYPE_BF16, PN_DTYPE_F32)
        CVT_CASE(PN_DTYPE_BF16, PN_DTYPE_F16)
    default: break;
    }
}
