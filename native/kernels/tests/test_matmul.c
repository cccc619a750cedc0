/* test_matmul.c — pn_cpu_matmul against a double reference on fresh random data: every ISA the
 * CPU runs, threads 1..3, W f32/f16/bf16 in both layouts (n x k and k x n), accumulate on and
 * off, m = 1, 2 (GEMV) and odd m/n/k around the register blocks and the k block, outputs
 * poisoned with NaN (without accumulate) and guarded against over-writes, inputs checked
 * unmodified, NaN/Inf in W propagated, thread-count independence, and argument errors that
 * leave y as it was. */
#include "test_common.h"

typedef struct mm_shape {
    int64_t m, n, k;
} mm_shape;

static uint32_t poison_bits(void) { return 0xFFC0DEADu; }

/* y_ref = (accumulate ? y0 : 0) + x . B in double; mag = sum of |terms| (for the tolerance). */
static void reference(const float* x, int w_dt, const void* w, int im, int64_t m, int64_t n,
                      int64_t k, const float* y0, int acc, double* ref, double* mag)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = acc ? (double)y0[i * n + j] : 0.0, a = fabs(s);
            for (int64_t p = 0; p < k; p++) {
                double b = get_val(w_dt, w, im ? p * n + j : j * k + p);
                double t = (double)x[i * k + p] * b;
                s += t;
                a += fabs(t);
            }
            ref[i * n + j] = s;
            mag[i * n + j] = a;
        }
}

static void run_case(mm_shape s, int w_dt, int im, int acc, int threads, int specials)
{
    const int64_t m = s.m, n = s.n, k = s.k;
    const size_t wbytes = (size_t)(n * k) * dsize(w_dt);
    gbuf x = gbuf_new((size_t)(m * k) * 4, 4 * (size_t)(k % 3));
    gbuf w = gbuf_new(wbytes, dsize(w_dt) * (size_t)(n % 2));
    gbuf y = gbuf_new((size_t)(m * n) * 4, 4 * (size_t)(m % 4));
    fill_random(PN_DTYPE_F32, x.p, m * k);
    fill_random(w_dt, w.p, n * k);
    if (specials) {
        set_val(w_dt, w.p, (n * k) / 2, NAN);
        set_val(w_dt, w.p, (n * k) / 3, INFINITY);
    }
    float* y0 = (float*)malloc((size_t)(m * n + 1) * 4);
    if (acc) fill_random(PN_DTYPE_F32, y.p, m * n);
    else for (int64_t i = 0; i < m * n; i++) memcpy((float*)y.p + i, &(uint32_t){poison_bits()}, 4);
    memcpy(y0, y.p, (size_t)(m * n) * 4);
    unsigned char* x0 = (unsigned char*)malloc((size_t)(m * k) * 4 + 1);
    unsigned char* w0 = (unsigned char*)malloc(wbytes + 1);
    memcpy(x0, x.p, (size_t)(m * k) * 4);
    memcpy(w0, w.p, wbytes);
    double* ref = (double*)malloc((size_t)(m * n + 1) * sizeof(double));
    double* mag = (double*)malloc((size_t)(m * n + 1) * sizeof(double));
    reference((const float*)x.p, w_dt, w.p, im, m, n, k, y0, acc, ref, mag);

    pn_status st = pn_cpu_matmul(m, n, k, (const float*)x.p, w_dt, w.p, im, (float*)y.p, acc, threads);
    CHECK(st == PN_OK, "status %d (%s)", st, pn_last_error());
    int bad = 0;
    const double eps = 1.2e-7 * 4.0 * sqrt((double)k + 1.0);
    for (int64_t e = 0; e < m * n && bad < 3; e++) {
        double got = ((const float*)y.p)[e];
        double tol = 2e-7 * fabs(ref[e]) + eps * mag[e];
        if (!close_enough(got, ref[e], tol)) {
            bad++;
            CHECK(0, "W %s %s m=%lld n=%lld k=%lld acc=%d t=%d at (%lld,%lld): expected %.9g got %.9g",
                  dname(w_dt), im ? "k x n" : "n x k", (long long)m, (long long)n, (long long)k,
                  acc, threads, (long long)(e / n), (long long)(e % n), ref[e], got);
        }
    }
    CHECK(gbuf_guards_ok(&y), "y guard overwritten (m=%lld n=%lld k=%lld)", (long long)m,
          (long long)n, (long long)k);
    CHECK(gbuf_guards_ok(&x) && gbuf_guards_ok(&w), "input guard overwritten");
    CHECK(memcmp(x0, x.p, (size_t)(m * k) * 4) == 0, "x modified");
    CHECK(memcmp(w0, w.p, wbytes) == 0, "W modified");
    free(ref);
    free(mag);
    free(x0);
    free(w0);
    free(y0);
    gbuf_free(&x);
    gbuf_free(&w);
    gbuf_free(&y);
}

/* The same product on 1, 2 and 3 threads is bit-identical. */
static void thread_independence(int w_dt, int im)
{
    const int64_t m = 37, n = 203, k = 611;
    float* x = (float*)malloc((size_t)(m * k) * 4);
    void* w = malloc((size_t)(n * k) * dsize(w_dt));
    float* y1 = (float*)malloc((size_t)(m * n) * 4);
    float* y2 = (float*)malloc((size_t)(m * n) * 4);
    fill_random(PN_DTYPE_F32, x, m * k);
    fill_random(w_dt, w, n * k);
    CHECK(pn_cpu_matmul(m, n, k, x, w_dt, w, im, y1, 0, 1) == PN_OK, "t=1: %s", pn_last_error());
    for (int t = 2; t <= 3; t++) {
        CHECK(pn_cpu_matmul(m, n, k, x, w_dt, w, im, y2, 0, t) == PN_OK, "t=%d: %s", t, pn_last_error());
        CHECK(memcmp(y1, y2, (size_t)(m * n) * 4) == 0, "W %s im=%d: threads 1 and %d differ",
              dname(w_dt), im, t);
    }
    free(x);
    free(w);
    free(y1);
    free(y2);
}

#define EXPECT_BAD(call, what)                                                                \
    do {                                                                                      \
        pn_status st_ = (call);                                                               \
        CHECK(st_ == PN_ERR_INVALID_ARGUMENT, "%s: status %d", what, st_);                    \
        CHECK(strstr(pn_last_error(), "pn_cpu_matmul") != NULL, "%s: message '%s'", what,     \
              pn_last_error());                                                               \
        CHECK(memcmp(y, ycopy, sizeof y) == 0, "%s: y was written", what);                    \
    } while (0)

static void argument_errors(void)
{
    float x[6 * 5], y[6 * 4], ycopy[6 * 4];
    uint16_t w[4 * 5];
    fill_random(PN_DTYPE_F32, x, 30);
    fill_random(PN_DTYPE_BF16, w, 20);
    fill_random(PN_DTYPE_F32, y, 24);
    memcpy(ycopy, y, sizeof y);
    CTX("argument errors");
    EXPECT_BAD(pn_cpu_matmul(-1, 4, 5, x, PN_DTYPE_BF16, w, 0, y, 0, 1), "negative m");
    EXPECT_BAD(pn_cpu_matmul(6, -4, 5, x, PN_DTYPE_BF16, w, 0, y, 0, 1), "negative n");
    EXPECT_BAD(pn_cpu_matmul(6, 4, -5, x, PN_DTYPE_BF16, w, 0, y, 0, 1), "negative k");
    EXPECT_BAD(pn_cpu_matmul(6, 4, 5, x, 7, w, 0, y, 0, 1), "unknown dtype");
    EXPECT_BAD(pn_cpu_matmul(6, 4, 5, x, PN_DTYPE_BF16, w, 2, y, 0, 1), "layout flag 2");
    EXPECT_BAD(pn_cpu_matmul(6, 4, 5, x, PN_DTYPE_BF16, w, 0, y, -1, 1), "accumulate -1");
    EXPECT_BAD(pn_cpu_matmul(6, 4, 5, NULL, PN_DTYPE_BF16, w, 0, y, 0, 1), "null x");
    EXPECT_BAD(pn_cpu_matmul(6, 4, 5, x, PN_DTYPE_BF16, NULL, 0, y, 0, 1), "null w");
    EXPECT_BAD(pn_cpu_matmul(6, 4, 5, x, PN_DTYPE_BF16, w, 0, NULL, 0, 1), "null y");
    EXPECT_BAD(pn_cpu_matmul(6, 4, 5, y + 1, PN_DTYPE_F32, w, 0, y, 0, 1), "y overlaps x");
    EXPECT_BAD(pn_cpu_matmul(6, 4, 5, x, PN_DTYPE_F32, y + 2, 0, y, 0, 1), "y overlaps w");
    EXPECT_BAD(pn_cpu_matmul(INT64_MAX / 2, 4, 5, x, PN_DTYPE_BF16, w, 0, y, 0, 1), "overflow");
    /* empty products */
    CHECK(pn_cpu_matmul(0, 4, 5, NULL, PN_DTYPE_F32, w, 0, NULL, 0, 1) == PN_OK, "m = 0");
    CHECK(pn_cpu_matmul(6, 0, 5, x, PN_DTYPE_F32, NULL, 0, NULL, 0, 1) == PN_OK, "n = 0");
    CHECK(pn_cpu_matmul(6, 4, 0, NULL, PN_DTYPE_F32, NULL, 0, y, 1, 1) == PN_OK, "k = 0, acc");
    CHECK(memcmp(y, ycopy, sizeof y) == 0, "k = 0 with accumulate changed y");
    CHECK(pn_cpu_matmul(6, 4, 0, NULL, PN_DTYPE_F32, NULL, 0, y, 0, 1) == PN_OK, "k = 0");
    int zeros = 1;
    for (int i = 0; i < 24; i++) zeros &= y[i] == 0.0f;
    CHECK(zeros, "k = 0 without accumulate must give zeros");
}

int main(void)
{
    static const mm_shape shapes[] = {
        {1, 1, 1},     {1, 37, 29},   {2, 67, 45},    {1, 130, 257}, {2, 203, 8},
        {3, 17, 9},    {5, 16, 16},   {6, 33, 300},   {7, 48, 1},    {13, 95, 130},
        {37, 203, 611}, {64, 64, 64}, {130, 31, 257}, {12, 96, 321}, {6, 15, 7},
    };
    const int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    int isas[3];
    int nisa = isa_list(isas);
    rng_seed(6);
    for (int ii = 0; ii < nisa; ii++) {
        CHECK(pn_set_isa(isas[ii]) == PN_OK, "set isa %d", isas[ii]);
        for (int dt = 0; dt < 3; dt++)
            for (int im = 0; im < 2; im++)
                for (int si = 0; si < nshapes; si++) {
                    const int acc = (si + dt + im) % 2;
                    const int threads = 1 + (si + ii) % 3;
                    CTX("%s W %s %s shape %d", isa_name(isas[ii]), dname(dt), im ? "k x n" : "n x k", si);
                    run_case(shapes[si], dt, im, acc, threads, 0);
                    if (si == 9) run_case(shapes[si], dt, im, !acc, threads, 0);
                }
        for (int dt = 0; dt < 3; dt++)
            for (int im = 0; im < 2; im++) {
                CTX("%s specials W %s im=%d", isa_name(isas[ii]), dname(dt), im);
                run_case((mm_shape){9, 41, 37}, dt, im, 0, 2, 1);
                run_case((mm_shape){1, 41, 37}, dt, im, 1, 2, 1);
                CTX("%s thread independence W %s im=%d", isa_name(isas[ii]), dname(dt), im);
                thread_independence(dt, im);
            }
    }
    pn_set_isa(-1);
    argument_errors();
    return test_finish("test_matmul");
}
