/* probe_body.h — machine probes (memory read-modify-write, f32 FMA chains), once per ISA. */
#include "pn_vec_common.h"

#define RMW_U 4

PN_INTERNAL void PN_SFX(pn_rmw_range)(float* p, int64_t n)
{
    const VF one = vset1(1.0f), zero = vzero();
    int64_t j = 0;
    for (; j + RMW_U * VLEN <= n; j += RMW_U * VLEN) {
        VF v[RMW_U];
        for (int u = 0; u < RMW_U; u++) v[u] = vfma(vload_f32(p + j + u * VLEN), one, zero);
        for (int u = 0; u < RMW_U; u++) vstore_f32(p + j + u * VLEN, v[u]);
    }
    for (; j + VLEN <= n; j += VLEN) vstore_f32(p + j, vfma(vload_f32(p + j), one, zero));
    if (j < n)
        vstore_part(PN_DTYPE_F32, p, j, n - j,
                    vfma(vload_part(PN_DTYPE_F32, p, j, n - j), one, zero));
}

PN_INTERNAL double PN_SFX(pn_fma_loop)(double seconds)
{
    VF acc[PN_FMA_CHAINS];
    const VF m = vset1(0.99999994f), a = vset1(1e-7f);
    for (int i = 0; i < PN_FMA_CHAINS; i++) acc[i] = vset1(1.0f + 0.01f * (float)i);
    const int iters = 4096;
    double flops = 0.0, t0 = pn_now();
    do {
        for (int it = 0; it < iters; it++) {
#pragma GCC unroll 32
            for (int i = 0; i < PN_FMA_CHAINS; i++) {
                acc[i] = vfma(acc[i], m, a);
                PN_KEEP(acc[i]);
            }
        }
        flops += 2.0 * iters * PN_FMA_CHAINS * VLEN;
    } while (pn_now() - t0 < seconds);
    VF s = acc[0];
    for (int i = 1; i < PN_FMA_CHAINS; i++) s = vfma(s, m, acc[i]);
    PN_KEEP(s);
    return flops;
}
