/* test_scale.c — pn_cpu_scale_rows / pn_cpu_scale_cols (and inverse) against a double
 * reference: every W / l dtype pair, odd shapes, threads 1..3. */
#include "test_common.h"

static void run_case(int cols_mode, int w_dt, int l_dt, int64_t rows, int64_t cols, int inverse,
                     int threads)
{
    int64_t nl = cols_mode ? cols : rows;
    gbuf w = gbuf_new((size_t)(rows * cols) * dsize(w_dt), dsize(w_dt) * (size_t)(rows % 3));
    gbuf l = gbuf_new((size_t)nl * dsize(l_dt), 0);
    fill_random(w_dt, w.p, rows * cols);
    fill_random(l_dt, l.p, nl);
    double* ref = (double*)malloc((size_t)(rows * cols + 1) * sizeof(double));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            double lv = get_val(l_dt, l.p, cols_mode ? c : r);
            double wv = get_val(w_dt, w.p, r * cols + c);
            ref[r * cols + c] = inverse ? wv / lv : wv * lv;
        }
    pn_status st = cols_mode ? pn_cpu_scale_cols(w_dt, w.p, rows, cols, l_dt, l.p, inverse, threads)
                             : pn_cpu_scale_rows(w_dt, w.p, rows, cols, l_dt, l.p, inverse, threads);
    CHECK(st == PN_OK, "status %d (%s)", st, pn_last_error());
    int bad = 0;
    for (int64_t x = 0; x < rows * cols && bad < 3; x++) {
        double got = get_val(w_dt, w.p, x);
        double tol = atol_of(w_dt) + (rtol_of(w_dt) + 3e-7) * fabs(ref[x]);
        if (!(fabs(got - ref[x]) <= tol)) {
            bad++;
            CHECK(0, "%s W=%s l=%s %lldx%lld inv=%d t=%d index %lld expected %.9g got %.9g",
                  cols_mode ? "cols" : "rows", dname(w_dt), dname(l_dt), (long long)rows,
                  (long long)cols, inverse, threads, (long long)x, ref[x], got);
        }
    }
    CHECK(gbuf_guards_ok(&w), "W guard overwritten");
    gbuf_free(&w);
    gbuf_free(&l);
    free(ref);
}

int main(void)
{
    static const int64_t shapes[][2] = {{1, 1}, {1, 37}, {7, 129}, {67, 45}, {130, 257}, {3, 200}, {0, 5}, {5, 0}};
    int isas[3];
    int nisa = isa_list(isas);
    rng_seed(4);
    for (int ii = 0; ii < nisa; ii++) {
        CHECK(pn_set_isa(isas[ii]) == PN_OK, "set isa");
        for (int cm = 0; cm < 2; cm++)
            for (int wd = 0; wd < 3; wd++)
                for (int ld = 0; ld < 3; ld++)
                    for (int inv = 0; inv < 2; inv++) {
                        CTX("isa=%s %s W=%s l=%s inv=%d", isa_name(isas[ii]), cm ? "cols" : "rows",
                            dname(wd), dname(ld), inv);
                        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                            run_case(cm, wd, ld, shapes[s][0], shapes[s][1], inv, 1 + (int)(s % 3));
                        run_case(cm, wd, ld, 389, 517, inv, 2 + inv);
                    }
        /* every row length 0..70 (vector tails within rows) */
        for (int64_t c = 0; c <= 70; c++) {
            CTX("isa=%s tails cols=%lld", isa_name(isas[ii]), (long long)c);
            run_case((int)(c & 1), (int)(c % 3), (int)((c / 3) % 3), 3, c, (int)((c / 2) & 1), 1);
        }
    }
    pn_set_isa(-1);
    return test_finish("test_scale");
}
