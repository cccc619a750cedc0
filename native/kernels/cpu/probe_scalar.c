/* probe_scalar.c — portable probes: probe_body.h plus a scalar bf16 dot loop. */
#include "pn_vec_scalar.h"
#include "probe_body.h"

PN_INTERNAL double pn_bf16_loop_scalar(double seconds)
{
    uint32_t x[6];
    float acc[12];
    const float ye = 1e-7f, yo = 2e-7f;
    for (int c = 0; c < 6; c++) x[c] = 0x3F803F80u + (uint32_t)c;
    for (int c = 0; c < 12; c++) acc[c] = 0.0f;
    const int iters = 4096;
    double flops = 0.0, t0 = pn_now();
    do {
        for (int it = 0; it < iters; it++) {
            for (int c = 0; c < 6; c++) {
                __asm__ volatile("" : "+r"(x[c]));
                float xe = pn_bits_f32(x[c] << 16), xo = pn_bits_f32(x[c] & 0xFFFF0000u);
                acc[2 * c] = xe * ye + acc[2 * c];
                acc[2 * c + 1] = xo * yo + acc[2 * c + 1];
            }
        }
        flops += 2.0 * 2.0 * 6.0 * iters;
    } while (pn_now() - t0 < seconds);
    for (int c = 1; c < 12; c++) acc[0] += acc[c];
    PN_KEEP(acc[0]);
    return flops;
}
