/* test_affine.c — pn_cpu_affine against a double reference: every dtype pair, n = 0..200 (all
 * tails) with k = 1..9, odd start offsets, threads 1..3, in place, the non-temporal path. */
#include "test_common.h"

static int g_specials = 0;

static void run_case(int in_dt, int out_dt, int64_t n, int k, int threads, size_t shift,
                     int in_place)
{
    gbuf in[9];
    const void* ptrs[9];
    float w[9];
    for (int i = 0; i < k; i++) {
        in[i] = gbuf_new((size_t)n * dsize(in_dt), (size_t)(i % 3) * dsize(in_dt));
        fill_random(in_dt, in[i].p, n);
        if (g_specials && i == 0) plant_specials(in_dt, in[i].p, n);
        ptrs[i] = in[i].p;
        w[i] = rng_val() * 2.0f;
    }
    float c = rng_val();
    gbuf out = gbuf_new((size_t)n * dsize(out_dt), shift);
    if (in_place) {
        ptrs[k - 1] = out.p;
        fill_random(out_dt, out.p, n);
    } else {
        memset(out.p, 0xFF, (size_t)n * dsize(out_dt));
    }
    double* ref = (double*)malloc((size_t)(n ? n : 1) * sizeof(double));
    double* mag = (double*)malloc((size_t)(n ? n : 1) * sizeof(double));
    for (int64_t j = 0; j < n; j++) {
        double s = c, m = fabs((double)c);
        for (int i = 0; i < k; i++) {
            double t = (double)w[i] * get_val(in_dt, ptrs[i], j);
            s += t;
            m += fabs(t);
        }
        ref[j] = s;
        mag[j] = m;
    }
    pn_status st = pn_cpu_affine(in_dt, out_dt, n, k, ptrs, w, c, out.p, threads);
    CHECK(st == PN_OK, "status %d (%s)", st, pn_last_error());
    int bad = 0;
    for (int64_t j = 0; j < n && bad < 3; j++) {
        double got = get_val(out_dt, out.p, j);
        double tol = atol_of(out_dt) + rtol_of(out_dt) * fabs(ref[j]) + 1e-7 * (k + 1) * mag[j];
        if (!close_enough(got, ref[j], tol)) {
            bad++;
            CHECK(0, "%s->%s n=%lld k=%d t=%d inplace=%d index %lld expected %.9g got %.9g",
                  dname(in_dt), dname(out_dt), (long long)n, k, threads, in_place, (long long)j,
                  ref[j], got);
        }
    }
    CHECK(gbuf_guards_ok(&out), "out guard overwritten");
    for (int i = 0; i < k; i++) {
        CHECK(gbuf_guards_ok(&in[i]), "input guard overwritten");
        gbuf_free(&in[i]);
    }
    gbuf_free(&out);
    free(ref);
    free(mag);
}

int main(void)
{
    int isas[3];
    int nisa = isa_list(isas);
    rng_seed(2);
    for (int ii = 0; ii < nisa; ii++) {
        CHECK(pn_set_isa(isas[ii]) == PN_OK, "set isa");
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) {
                for (int64_t n = 0; n <= 200; n++) {
                    CTX("isa=%s %s->%s n=%lld", isa_name(isas[ii]), dname(a), dname(b), (long long)n);
                    run_case(a, b, n, 1 + (int)(n % 9), 1 + (int)(n % 3), (size_t)(n % 5) * dsize(b), 0);
                }
                for (int k = 1; k <= 9; k++) {
                    CTX("isa=%s %s->%s k=%d", isa_name(isas[ii]), dname(a), dname(b), k);
                    run_case(a, b, 1031 + 64 * k, k, 1, dsize(b), 0);
                    if (a == b) run_case(a, b, 1031, k, 1, 0, 1);
                }
                /* NaN / Inf planted in the first input propagate */
                g_specials = 1;
                CTX("isa=%s %s->%s specials", isa_name(isas[ii]), dname(a), dname(b));
                run_case(a, b, 3001, 3, 1, 0, 0);
                g_specials = 0;
                /* several threads (>= 2 x 64K elements), in place too */
                CTX("isa=%s %s->%s threads", isa_name(isas[ii]), dname(a), dname(b));
                run_case(a, b, 200003, 3, 2, dsize(b), 0);
                run_case(a, b, 200003, 1, 3, 0, a == b);
                /* non-temporal path: >= 4 MiB out, misaligned by one element */
                if ((a + b) % 2 == 0) {
                    CTX("isa=%s %s->%s stream", isa_name(isas[ii]), dname(a), dname(b));
                    run_case(a, b, ((int64_t)4 << 20) / (int64_t)dsize(b) + 13, 2, 2, dsize(b), 0);
                }
            }
    }
    pn_set_isa(-1);
    return test_finish("test_affine");
}
