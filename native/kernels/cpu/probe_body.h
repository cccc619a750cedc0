/* probe_body.h — machine probes (memory read-modify-write, f32 FMA chains), once per ISA. */
#include "pn_vec_common.h"

#define RMW_U 4

PN_INTERNAL void PN_SFX(pn_rmw_range)(float* p, int64_t n)
{
    /* w * 1 + (-0): one FMA per word that leaves every finite value (-0 included) as it was. */
    const VF one = vset1(1.0f), zero = vset1(-0.0f);
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

/* 12 independent FMA chains in named registers (enough for 2 FMA pipes x 5-6 cycles latency). */
PN_INTERNAL double PN_SFX(pn_fma_loop)(double seconds)
{
    const VF m = vset1(0.99999994f), a = vset1(1e-7f);
    VF c0 = vset1(1.00f), c1 = vset1(1.01f), c2 = vset1(1.02f), c3 = vset1(1.03f);
    VF c4 = vset1(1.04f), c5 = vset1(1.05f), c6 = vset1(1.06f), c7 = vset1(1.07f);
    VF c8 = vset1(1.08f), c9 = vset1(1.09f), c10 = vset1(1.10f), c11 = vset1(1.11f);
    const int iters = 4096;
    double flops = 0.0, t0 = pn_now();
    do {
        for (int it = 0; it < iters; it++) {
            c0 = vfma(c0, m, a); c1 = vfma(c1, m, a); c2 = vfma(c2, m, a);
            c3 = vfma(c3, m, a); c4 = vfma(c4, m, a); c5 = vfma(c5, m, a);
            c6 = vfma(c6, m, a); c7 = vfma(c7, m, a); c8 = vfma(c8, m, a);
            c9 = vfma(c9, m, a); c10 = vfma(c10, m, a); c11 = vfma(c11, m, a);
            PN_KEEP(c0); PN_KEEP(c1); PN_KEEP(c2); PN_KEEP(c3); PN_KEEP(c4); PN_KEEP(c5);
            PN_KEEP(c6); PN_KEEP(c7); PN_KEEP(c8); PN_KEEP(c9); PN_KEEP(c10); PN_KEEP(c11);
        }
        flops += 2.0 * iters * 12.0 * VLEN;
    } while (pn_now() - t0 < seconds);
    VF s = vfma(c0, c1, vfma(c2, c3, vfma(c4, c5, vfma(c6, c7, vfma(c8, c9, vmul(c10, c11))))));
    PN_KEEP(s);
    return flops;
}
