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

/* Bit-exact check of the FMA ISAs (avx2, avx512): every W element is W + acc with acc the fused
 * multiply-add chain over the packed rank in order (acc = 0; acc = fma(s_f * b, a, acc)), then
 * rounded once to the W dtype. NaN results only need to be NaN, except that a NaN already in W
 * (with a non-NaN acc) must come back as the quiet bf16 of that NaN. Covers the edge tiles
 * (column counts around the 16/32-column register block) and NaN / Inf in W and in the factors. */
static void exact_case(int w_dt, int64_t out_f, int64_t in_f, int transpose, int count,
                       const int* ranks, const int* dts, int threads, int specials)
{
    const int64_t rows = transpose ? in_f : out_f, cols = transpose ? out_f : in_f;
    fac f[4];
    pn_lowrank_factor pf[4];
    for (int i = 0; i < count; i++) {
        f[i].dt = dts[i];
        f[i].rank = ranks[i];
        f[i].scale = rng_val();
        f[i].b = gbuf_new((size_t)(out_f * ranks[i]) * dsize(dts[i]), 0);
        f[i].a = gbuf_new((size_t)(ranks[i] * in_f) * dsize(dts[i]), dsize(dts[i]));
        fill_random(dts[i], f[i].b.p, out_f * ranks[i]);
        fill_random(dts[i], f[i].a.p, ranks[i] * in_f);
        if (specials && i == 0) {
            set_val(dts[i], f[i].b.p, (out_f * ranks[i]) / 2, NAN);
            set_val(dts[i], f[i].a.p, (ranks[i] * in_f) / 3, INFINITY);
            if (dts[i] == PN_DTYPE_F32) {
                /* NaNs whose low payload bits make the bf16 rounding bias overflow */
                uint32_t n1 = 0x7FFFFFFFu, n2 = 0xFFBFFFFFu;
                memcpy((float*)f[i].b.p + (out_f * ranks[i]) / 5, &n1, 4);
                memcpy((float*)f[i].a.p + (ranks[i] * in_f) * 3 / 4, &n2, 4);
            }
        }
        pf[i].a = f[i].a.p;
        pf[i].b = f[i].b.p;
        pf[i].dtype = dts[i];
        pf[i].rank = ranks[i];
        pf[i].scale = f[i].scale;
        pf[i].reserved = 0;
    }
    const size_t wb = (size_t)(rows * cols) * dsize(w_dt);
    gbuf w = gbuf_new(wb, dsize(w_dt));
    fill_random(w_dt, w.p, rows * cols);
    if (specials) plant_specials(w_dt, w.p, rows * cols);
    if (specials && rows * cols > 2) {
        set_val(w_dt, w.p, 1, NAN);
        set_val(w_dt, w.p, rows * cols - 1, -INFINITY);
    }
    unsigned char* w0 = (unsigned char*)malloc(wb ? wb : 1);
    memcpy(w0, w.p, wb);
    pn_status st = pn_cpu_lowrank_merge(w_dt, w.p, out_f, in_f, transpose, count, pf, threads);
    CHECK(st == PN_OK, "status %d (%s)", st, pn_last_error());
    int bad = 0;
    for (int64_t x = 0; x < rows * cols && bad < 3; x++) {
        const int64_t i = x / cols, jj = x % cols;
        const int64_t o = transpose ? jj : i, c = transpose ? i : jj; /* out / in feature */
        float acc = 0.0f;
        for (int q = 0; q < count; q++)
            for (int r = 0; r < f[q].rank; r++) {
                float bv = (float)get_val(f[q].dt, f[q].b.p, o * f[q].rank + r);
                float av = (float)get_val(f[q].dt, f[q].a.p, r * in_f + c);
                float l = transpose ? av : bv, rt = transpose ? bv : av;
                acc = fmaf(l * f[q].scale, rt, acc);
            }
        const float wv = (float)get_val(w_dt, w0, x);
        const float e = wv + acc;
        double got = get_val(w_dt, w.p, x);
        int ok;
        if (isnan(wv) && !isnan(acc) && w_dt == PN_DTYPE_BF16) {
            uint16_t in = ((const uint16_t*)(const void*)w0)[x];
            ok = ((const uint16_t*)w.p)[x] == (uint16_t)(in | 0x40);
        } else if (isnan(e)) {
            ok = isnan(got);
        } else if (w_dt == PN_DTYPE_F32) {
            ok = f2u((float)got) == f2u(e);
        } else {
            uint16_t want = w_dt == PN_DTYPE_F16 ? ref_f32_to_f16(e) : ref_f32_to_bf16(e);
            ok = ((const uint16_t*)w.p)[x] == want;
        }
        if (!ok) {
            bad++;
            CHECK(0, "exact W %s %lldx%lld T=%d t=%d at (%lld,%lld): w %.9g acc %.9g want %.9g got %.9g",
                  dname(w_dt), (long long)out_f, (long long)in_f, transpose, threads,
                  (long long)i, (long long)jj, wv, acc, e, got);
        } else {
            g_checks++;
        }
    }
    CHECK(gbuf_guards_ok(&w), "W guard overwritten");
    gbuf_free(&w);
    free(w0);
    for (int i = 0; i < count; i++) {
        CHECK(gbuf_guards_ok(&f[i].a) && gbuf_guards_ok(&f[i].b), "factor guard overwritten");
        gbuf_free(&f[i].a);
        gbuf_free(&f[i].b);
    }
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
    /* bit-exact: the vector ISAs, every W dtype, column counts around the register block */
    static const int64_t ecols[] = {1, 8, 15, 16, 17, 31, 32, 33, 47, 64, 65, 100};
    for (int ii = 1; ii < nisa; ii++) {
        CHECK(pn_set_isa(isas[ii]) == PN_OK, "set isa");
        for (int wd = 0; wd < 3; wd++)
            for (size_t ci = 0; ci < sizeof ecols / sizeof ecols[0]; ci++)
                for (int T = 0; T < 2; T++)
                    for (int sp = 0; sp < 2; sp++) {
                        const int64_t nrows = 1 + (int64_t)((ci * 5 + (size_t)wd) % 19);
                        int r1[1] = {1 + (int)(ci % 9) * 3}, d1[1] = {(wd + (int)ci) % 3};
                        CTX("isa=%s exact W=%s rows=%lld cols=%lld T=%d specials=%d",
                            isa_name(isas[ii]), dname(wd), (long long)nrows,
                            (long long)ecols[ci], T, sp);
                        /* stored W is rows x cols: out_f x in_f, or in_f x out_f transposed */
                        if (T) exact_case(wd, ecols[ci], nrows, 1, 1, r1, d1, 1, sp);
                        else exact_case(wd, nrows, ecols[ci], 0, 1, r1, d1, 1, sp);
                    }
        for (int wd = 0; wd < 3; wd++)
            for (int T = 0; T < 2; T++) {
                int r3[3] = {7, 1, 16}, d3[3] = {2, 1, 0};
                CTX("isa=%s exact multi W=%s T=%d", isa_name(isas[ii]), dname(wd), T);
                exact_case(wd, 133, 291, T, 3, r3, d3, 2, 1);
                exact_case(wd, 401, 337, T, 3, r3, d3, 3, 1);
            }
    }
    pn_set_isa(-1);
    return test_finish("test_merge");
}
