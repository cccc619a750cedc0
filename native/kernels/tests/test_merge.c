/* test_merge.c — pn_cpu_lowrank_merge against a double reference: W f32/f16/bf16, factors of
 * mixed dtypes, several factors, ranks 1/7/16/33/256, odd shapes, transpose 0/1, threads 1..3. */
#include "test_common.h"

typedef struct fac {
    gbuf a, b;
    int dt, rank;
    float scale;
} fac;

static void run_case(int w_dt, int64_t out_f, int64_t in_f, int transpose, int count,
                     const int* ranks, const int* dts, int threads)
{
    const int64_t rows = transpose ? in_f : out_f, cols = transpose ? out_f : in_f;
    fac f[4];
    pn_lowrank_factor pf[4];
    int64_t R = 0;
    for (int i = 0; i < count; i++) {
        f[i].dt = dts[i];
        f[i].rank = ranks[i];
        f[i].scale = rng_val();
        f[i].b = gbuf_new((size_t)(out_f * ranks[i]) * dsize(dts[i]), (size_t)i * dsize(dts[i]));
        f[i].a = gbuf_new((size_t)(ranks[i] * in_f) * dsize(dts[i]), (size_t)i * dsize(dts[i]));
        fill_random(dts[i], f[i].b.p, out_f * ranks[i]);
        fill_random(dts[i], f[i].a.p, ranks[i] * in_f);
        pf[i].a = f[i].a.p;
        pf[i].b = f[i].b.p;
        pf[i].dtype = dts[i];
        pf[i].rank = ranks[i];
        pf[i].scale = f[i].scale;
        pf[i].reserved = 0;
        R += ranks[i];
    }
    gbuf w = gbuf_new((size_t)(rows * cols) * dsize(w_dt), dsize(w_dt) * (size_t)(count % 3));
    fill_random(w_dt, w.p, rows * cols);
    if (rows * cols > 1000) plant_specials(w_dt, w.p, rows * cols);
    double* ref = (double*)malloc((size_t)(rows * cols + 1) * sizeof(double));
    double* mag = (double*)malloc((size_t)(rows * cols + 1) * sizeof(double));
    for (int64_t o = 0; o < out_f; o++)
        for (int64_t i = 0; i < in_f; i++) {
            int64_t idx = transpose ? i * out_f + o : o * in_f + i;
            double s = get_val(w_dt, w.p, idx), m = fabs(s);
            for (int q = 0; q < count; q++)
                for (int r = 0; r < f[q].rank; r++) {
                    double t = (double)f[q].scale * get_val(f[q].dt, f[q].b.p, o * f[q].rank + r) *
                               get_val(f[q].dt, f[q].a.p, r * in_f + i);
                    s += t;
                    m += fabs(t);
                }
            ref[idx] = s;
            mag[idx] = m;
        }
    pn_status st = pn_cpu_lowrank_merge(w_dt, w.p, out_f, in_f, transpose, count, pf, threads);
    CHECK(st == PN_OK, "status %d (%s)", st, pn_last_error());
    int bad = 0;
    double acc_eps = 1.2e-7 * sqrt((double)R + 1.0) * 4.0;
    for (int64_t x = 0; x < rows * cols && bad < 3; x++) {
        double got = get_val(w_dt, w.p, x);
        double tol = atol_of(w_dt) + rtol_of(w_dt) * fabs(ref[x]) + acc_eps * mag[x];
        if (!close_enough(got, ref[x], tol)) {
            bad++;
            CHECK(0, "W %s %lldx%lld T=%d count=%d R=%lld t=%d index (%lld,%lld) expected %.9g got %.9g",
                  dname(w_dt), (long long)out_f, (long long)in_f, transpose, count, (long long)R,
                  threads, (long long)(x / cols), (long long)(x % cols), ref[x], got);
        }
    }
    CHECK(gbuf_guards_ok(&w), "W guard overwritten");
    gbuf_free(&w);
    for (int i = 0; i < count; i++) {
        CHECK(gbuf_guards_ok(&f[i].a) && gbuf_guards_ok(&f[i].b), "factor guard overwritten");
        gbuf_free(&f[i].a);
        gbuf_free(&f[i].b);
    }
    free(ref);
    free(mag);
}

int main(void)
{
    static const int64_t shapes[][2] = {{1, 1}, {1, 37}, {7, 129}, {67, 45}, {130, 257}, {13, 16}, {6, 8}};
    static const int ranks[] = {1, 7, 16, 33};
    int isas[3];
    int nisa = isa_list(isas);
    rng_seed(3);
    for (int ii = 0; ii < nisa; ii++) {
        CHECK(pn_set_isa(isas[ii]) == PN_OK, "set isa");
        for (int wd = 0; wd < 3; wd++)
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                for (int T = 0; T < 2; T++)
                    for (int ri = 0; ri < 4; ri++) {
                        int r1[1] = {ranks[ri]}, d1[1] = {(wd + ri) % 3};
                        int t = 1 + (int)((s + (size_t)ri) % 3);
                        CTX("isa=%s W=%s shape=%lldx%lld T=%d r=%d", isa_name(isas[ii]), dname(wd),
                            (long long)shapes[s][0], (long long)shapes[s][1], T, ranks[ri]);
                        run_case(wd, shapes[s][0], shapes[s][1], T, 1, r1, d1, t);
                    }
        /* several factors of mixed dtypes, big rank, threads on a larger W */
        for (int wd = 0; wd < 3; wd++)
            for (int T = 0; T < 2; T++) {
                int r3[3] = {7, 1, 16}, d3[3] = {0, 1, 2};
                CTX("isa=%s W=%s multi T=%d", isa_name(isas[ii]), dname(wd), T);
                run_case(wd, 67, 45, T, 3, r3, d3, 2);
                run_case(wd, 301, 263, T, 3, r3, d3, 3);
                int r2[2] = {256, 3}, d2[2] = {wd, (wd + 1) % 3};
                run_case(wd, 61, 150, T, 2, r2, d2, 2);
                int r1[1] = {8}, d1[1] = {wd};
                run_case(wd, 517, 389, T, 1, r1, d1, 1 + T * 2);
                run_case(wd, 401, 337, T, 3, r3, d3, 2 + T); /* > 2 x 64K elements: threads run */
            }
    }
    pn_set_isa(-1);
    return test_finish("test_merge");
}
