/* bench_kernels.c — timing of the memory/compute-critical kernels against the library's own
 * probes (not a ctest test).
 * Usage: bench_kernels [threads=2] [GiB of cold copies=1] [isa=-1] [merge|affine|all] [rounds=1]
 * Each case cycles through copies of its buffers totalling >= the given GiB so the caches do not
 * help; buffers are allocated and touched outside the timing. A case's time is the median per
 * call over one pass; with rounds > 1 the best round is kept. The probes (memory RMW and FMA)
 * are the best of 3 runs, so the roofline ratio is conservative on a noisy machine.
 * On a machine shared with other work the wall times include time slices lost to other
 * processes; the "cpu" columns divide the process CPU time by the thread count instead (probes
 * normalised the same way), an estimate of the idle-machine figure (bandwidth sharing is not
 * removed by it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peft_native.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
/* CPU seconds of the whole process (all threads). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static int cmpd(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}
static const char* dn(int d) { return d == 0 ? "f32" : d == 1 ? "f16" : "bf16"; }
static size_t ds(int d) { return d == 0 ? 4 : 2; }

static void* alloc_fill(size_t bytes, int dt, float v)
{
    void* p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    size_t n = bytes / ds(dt);
    if (dt == 0) for (size_t i = 0; i < n; i++) ((float*)p)[i] = v * (float)(1 + (int)(i % 7)) * 0.125f;
    else {
        uint16_t h = dt == 1 ? 0x2E66 /* ~0.1 */ : 0x3DCD /* ~0.1 */;
        for (size_t i = 0; i < n; i++) ((uint16_t*)p)[i] = h;
    }
    return p;
}

int main(int argc, char** argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    double gib = argc > 2 ? atof(argv[2]) : 1.0;
    int isa = argc > 3 ? atoi(argv[3]) : -1;
    const char* only = argc > 4 ? argv[4] : ""; /* "merge" or "affine": run only those cases */
    int rounds = argc > 5 ? atoi(argv[5]) : 1;
    if (rounds < 1) rounds = 1;
    if (pn_set_isa(isa) != PN_OK) { fprintf(stderr, "%s\n", pn_last_error()); return 1; }
    pn_capabilities caps;
    memset(&caps, 0, sizeof caps);
    caps.struct_size = sizeof caps;
    pn_get_capabilities(&caps);
    const size_t cold = (size_t)(gib * (double)(1u << 30));

    /* probes */
    size_t pb = cold;
    float* probe = (float*)alloc_fill(pb, 0, 1.0f);
    double sec = 0, fma = 0, bf = 0, x = 0, fma_cpu = 0, bw_cpu = 0;
    for (int i = 0; i < 3; i++) {
        double w0 = now(), c0 = cpu_now();
        pn_probe_memory_rmw(probe, (int64_t)pb, 1, threads, &x);
        double w1 = now(), c1 = cpu_now();
        if (sec == 0 || x < sec) sec = x;
        double xb = 2.0 * (double)pb / ((c1 - c0) / threads);
        if (xb > bw_cpu) bw_cpu = xb;
        (void)w0; (void)w1;
    }
    double bw = 2.0 * (double)pb / sec; /* bytes read + written per second */
    free(probe);
    for (int i = 0; i < 3; i++) {
        double w0 = now(), c0 = cpu_now();
        pn_probe_fma_f32(200, threads, &x);
        double w1 = now(), c1 = cpu_now();
        if (x > fma) fma = x;
        double xc = x * (w1 - w0) / ((c1 - c0) / threads);
        if (xc > fma_cpu) fma_cpu = xc;
        pn_probe_bf16_dot(100, threads, &x);
        if (x > bf) bf = x;
    }
    if (bw_cpu < bw) bw_cpu = bw;
    if (fma_cpu < fma) fma_cpu = fma;
    printf("isa=%d threads=%d  probes: rmw %.2f GB/s (read+write), fma %.1f GFLOP/s, bf16 dot %.1f GFLOP/s\n",
           caps.active_isa, threads, bw * 1e-9, fma, bf);
    printf("cpu-normalised probes: rmw %.2f GB/s, fma %.1f GFLOP/s\n", bw_cpu * 1e-9, fma_cpu);
    printf("%-34s %10s %9s %9s %9s %10s %9s\n", "case", "ms", "GB/s", "GFLOP/s", "roofline",
           "cpu-ms", "cpu-roof");

    const int64_t N = 4096;
    const int dts[3] = {0, 2, 1};
    for (int di = 0; di < 3 && strcmp(only, "affine") != 0; di++) {
        int dt = dts[di];
        size_t wbytes = (size_t)(N * N) * ds(dt);
        int copies = (int)((cold + wbytes - 1) / wbytes);
        if (copies < 2) copies = 2;
        void** w = (void**)malloc(sizeof(void*) * (size_t)copies);
        for (int c = 0; c < copies; c++) w[c] = alloc_fill(wbytes, dt, 0.5f);
        static const int ranks[3] = {8, 16, 64};
        for (int ri = 0; ri < 3; ri++) {
            int r = ranks[ri];
            void* a = alloc_fill((size_t)(r * N) * ds(dt), dt, 0.01f);
            void* b = alloc_fill((size_t)(N * r) * ds(dt), dt, 0.01f);
            pn_lowrank_factor f = {b, a, dt, r, 0.5f, 0};
            int calls = copies;
            double* t = (double*)malloc(sizeof(double) * (size_t)calls);
            double tm = 1e30, tc = 1e30;
            for (int round = 0; round < rounds; round++) {
                double c0 = cpu_now();
                for (int i = 0; i < calls; i++) {
                    double t0 = now();
                    pn_cpu_lowrank_merge(dt, w[i % copies], N, N, 0, 1, &f, threads);
                    t[i] = now() - t0;
                }
                double cc = (cpu_now() - c0) / threads / calls;
                if (cc < tc) tc = cc;
                qsort(t, (size_t)calls, sizeof(double), cmpd);
                if (t[calls / 2] < tm) tm = t[calls / 2];
            }
            double bytes = 2.0 * (double)wbytes, flops = 2.0 * (double)N * (double)N * r;
            double roof = (bytes / bw > flops / (fma * 1e9) ? bytes / bw : flops / (fma * 1e9)) / tm;
            double roofc = (bytes / bw_cpu > flops / (fma_cpu * 1e9) ? bytes / bw_cpu
                                                                     : flops / (fma_cpu * 1e9)) / tc;
            char name[64];
            snprintf(name, sizeof name, "merge 4096x4096 %s r=%d", dn(dt), r);
            printf("%-34s %10.3f %9.2f %9.1f %9.2f %10.3f %9.2f\n", name, tm * 1e3,
                   bytes / tm * 1e-9, flops / tm * 1e-9, roof, tc * 1e3, roofc);
            fflush(stdout);
            free(t);
            free(a);
            free(b);
        }
        for (int c = 0; c < copies; c++) free(w[c]);
        free(w);
    }

    for (int di = 0; di < 3 && strcmp(only, "merge") != 0; di++) {
        int dt = dts[di];
        static const int ks[3] = {2, 4, 8};
        for (int ki = 0; ki < 3; ki++) {
            int k = ks[ki];
            size_t xb = (size_t)(N * N) * ds(dt);
            size_t set = xb * (size_t)(k + 1);
            int sets = (int)((cold + set - 1) / set);
            if (sets < 2) sets = 2;
            void** bufs = (void**)malloc(sizeof(void*) * (size_t)(sets * (k + 1)));
            for (int i = 0; i < sets * (k + 1); i++) bufs[i] = alloc_fill(xb, dt, 1.0f);
            float wts[8] = {0.5f, -0.25f, 1.0f, 2.0f, 0.125f, -1.0f, 0.75f, 0.3f};
            int calls = sets * 2;
            double* t = (double*)malloc(sizeof(double) * (size_t)calls);
            double tm = 1e30, tc = 1e30;
            for (int round = 0; round < rounds; round++) {
                double c0 = cpu_now();
                for (int i = 0; i < calls; i++) {
                    void** s = bufs + (size_t)(i % sets) * (size_t)(k + 1);
                    double t0 = now();
                    pn_cpu_affine(dt, dt, N * N, k, (const void* const*)s, wts, 0.0f, s[k], threads);
                    t[i] = now() - t0;
                }
                double cc = (cpu_now() - c0) / threads / calls;
                if (cc < tc) tc = cc;
                qsort(t, (size_t)calls, sizeof(double), cmpd);
                if (t[calls / 2] < tm) tm = t[calls / 2];
            }
            double bytes = (double)(k + 1) * (double)xb;
            char name[64];
            snprintf(name, sizeof name, "affine 4096x4096 %s k=%d", dn(dt), k);
            printf("%-34s %10.3f %9.2f %9.1f %9.2f %10.3f %9.2f\n", name, tm * 1e3,
                   bytes / tm * 1e-9, 2.0 * k * (double)N * N / tm * 1e-9, bytes / bw / tm,
                   tc * 1e3, bytes / bw_cpu / tc);
            fflush(stdout);
            for (int i = 0; i < sets * (k + 1); i++) free(bufs[i]);
            free(bufs);
            free(t);
        }
    }
    return 0;
}
