/* scale_body.h — (IA)^3 row / column scaling in place, instantiated once per ISA. */
#include "pn_vec_common.h"

#define SCL_U 4

PN_ALWAYS_INLINE void scl_row_scalar(int32_t WD, void* row, int64_t n, VF s)
{
    int64_t j = 0;
    for (; j + SCL_U * VLEN <= n; j += SCL_U * VLEN) {
        VF v[SCL_U];
        for (int u = 0; u < SCL_U; u++) v[u] = vmul(vload_dt(WD, row, j + u * VLEN), s);
        for (int u = 0; u < SCL_U; u++) vstore_dt(WD, row, j + u * VLEN, v[u]);
    }
    for (; j + VLEN <= n; j += VLEN) vstore_dt(WD, row, j, vmul(vload_dt(WD, row, j), s));
    if (j < n) vstore_part(WD, row, j, n - j, vmul(vload_part(WD, row, j, n - j), s));
}

PN_ALWAYS_INLINE void scl_row_vector(int32_t WD, void* row, int64_t n, const float* l)
{
    int64_t j = 0;
    for (; j + SCL_U * VLEN <= n; j += SCL_U * VLEN) {
        VF v[SCL_U];
        for (int u = 0; u < SCL_U; u++)
            v[u] = vmul(vload_dt(WD, row, j + u * VLEN), vload_f32(l + j + u * VLEN));
        for (int u = 0; u < SCL_U; u++) vstore_dt(WD, row, j + u * VLEN, v[u]);
    }
    for (; j + VLEN <= n; j += VLEN)
        vstore_dt(WD, row, j, vmul(vload_dt(WD, row, j), vload_f32(l + j)));
    if (j < n)
        vstore_part(WD, row, j, n - j,
                    vmul(vload_part(WD, row, j, n - j), vload_part(PN_DTYPE_F32, l, j, n - j)));
}

PN_ALWAYS_INLINE void scl_rows_impl(const pn_scale_ctx* c, int32_t WD, int64_t r0, int64_t r1)
{
    size_t rb = (size_t)c->cols * pn_dtype_size(WD);
    for (int64_t r = r0; r < r1; r++) {
        float s = pn_load_scalar(c->l_dtype, c->l, r);
        if (c->inverse) s = 1.0f / s;
        scl_row_scalar(WD, (unsigned char*)c->w + (size_t)r * rb, c->cols, vset1(s));
    }
}

PN_ALWAYS_INLINE void scl_cols_impl(const pn_scale_ctx* c, int32_t WD, int64_t r0, int64_t r1)
{
    size_t rb = (size_t)c->cols * pn_dtype_size(WD);
    for (int64_t r = r0; r < r1; r++)
        scl_row_vector(WD, (unsigned char*)c->w + (size_t)r * rb, c->cols, c->lv);
}

PN_INTERNAL void PN_SFX(pn_scale_rows_range)(const pn_scale_ctx* c, int64_t r0, int64_t r1)
{
    switch (c->w_dtype) {
    case PN_DTYPE_F32: scl_rows_impl(c, PN_DTYPE_F32, r0, r1); break;
    case PN_DTYPE_F16: scl_rows_impl(c, PN_DTYPE_F16, r0, r1); break;
    default: scl_rows_impl(c, PN_DTYPE_BF16, r0, r1); break;
    }
}

PN_INTERNAL void PN_SFX(pn_scale_cols_range)(const pn_scale_ctx* c, int64_t r0, int64_t r1)
{
    switch (c->w_dtype) {
    case PN_DTYPE_F32: scl_cols_impl(c, PN_DTYPE_F32, r0, r1); break;
    case PN_DTYPE_F16: scl_cols_impl(c, PN_DTYPE_F16, r0, r1); break;
    default: scl_cols_impl(c, PN_DTYPE_BF16, r0, r1); break;
    }
}
