/* test_affine.c — pn_cpu_affine against a double reference: every dtype pair, n = 0..200 (all
 * tails) with k = 1..9, odd start offsets, threads 1..3, in place, the non-temporal path; and
 * pn_cpu_affine_ex: the same bits as pn_cpu_affine with either flag, its non-finite report on
 * planted NaN/Inf anywhere (tails included) and at each output dtype's overflow boundary. */
#include "test_common.h"

static int g_specials = 0;

/* k random inputs of n values (odd start offsets), their pointers and random weights. */
static void new_inputs(int dt, int64_t n, int k, gbuf* in, const void** ptrs, float* w)
{
    for (int i = 0; i < k; i++) {
        in[i] = gbuf_new((size_t)n * dsize(dt), (size_t)(i % 3) * dsize(dt));
        fill_random(dt, in[i].p, n);
        ptrs[i] = in[i].p;
        w[i] = rng_val() * 2.0f;
    }
}

static void run_case(int in_dt, int out_dt, int64_t n, int k, int threads, size_t shift,
                     int in_place)
{
    gbuf in[9];
    const void* ptrs[9];
    float w[9];
    new_inputs(in_dt, n, k, in, ptrs, w);
    if (g_specials) plant_specials(in_dt, in[0].p, n);
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

/* pn_cpu_affine_ex against pn_cpu_affine: same bits, with or without PN_AFFINE_STREAM; the report
 * is 0 on finite data and 1 once a NaN / Inf is planted at `plant` (>= 0) of input `plant_in`. */
static void ex_case(int in_dt, int out_dt, int64_t n, int k, int threads, uint32_t flags,
                    int64_t plant, int plant_in, int plant_inf)
{
    gbuf in[9];
    const void* ptrs[9];
    float w[9];
    new_inputs(in_dt, n, k, in, ptrs, w);
    if (plant >= 0) {
        float v = plant_inf ? (plant & 1 ? -INFINITY : INFINITY) : NAN;
        set_val(in_dt, (void*)ptrs[plant_in], plant, v);
    }
    float c = rng_val();
    gbuf want = gbuf_new((size_t)n * dsize(out_dt), 0), got = gbuf_new((size_t)n * dsize(out_dt), dsize(out_dt));
    memset(want.p, 0xFF, (size_t)n * dsize(out_dt));
    memset(got.p, 0xA5, (size_t)n * dsize(out_dt));
    pn_status st = pn_cpu_affine(in_dt, out_dt, n, k, ptrs, w, c, want.p, threads);
    CHECK(st == PN_OK, "status %d (%s)", st, pn_last_error());
    int32_t report = 7;
    st = pn_cpu_affine_ex(in_dt, out_dt, n, k, ptrs, w, c, got.p, threads, flags, &report);
    CHECK(st == PN_OK, "ex status %d (%s)", st, pn_last_error());
    CHECK(n == 0 || memcmp(want.p, got.p, (size_t)n * dsize(out_dt)) == 0,
          "%s->%s n=%lld k=%d flags=%u: pn_cpu_affine_ex wrote other bits than pn_cpu_affine",
          dname(in_dt), dname(out_dt), (long long)n, k, flags);
    CHECK(report == (plant >= 0 ? 1 : 0), "%s->%s n=%lld k=%d flags=%u plant=%lld: report %d",
          dname(in_dt), dname(out_dt), (long long)n, k, flags, (long long)plant, (int)report);
    CHECK(gbuf_guards_ok(&got), "out guard overwritten");
    for (int i = 0; i < k; i++) gbuf_free(&in[i]);
    gbuf_free(&want);
    gbuf_free(&got);
}

/* One f32 input x times weight w into out_dt: the report must say whether the stored value is
 * finite (the boundary is where rounding to out_dt reaches infinity). */
static void boundary_case(int out_dt, uint32_t x_bits, float w, int expect)
{
    float x;
    memcpy(&x, &x_bits, sizeof x);
    const void* ptrs[1] = {&x};
    unsigned char out[4];
    int32_t report = 7;
    pn_status st = pn_cpu_affine_ex(PN_DTYPE_F32, out_dt, 1, 1, ptrs, &w, 0.0f, out, 1, 0u, &report);
    CHECK(st == PN_OK, "status %d (%s)", st, pn_last_error());
    double v = get_val(out_dt, out, 0);
    CHECK(report == expect && (isfinite(v) != 0) == !expect,
          "%s: x=0x%08x w=%g stored %g, report %d (expected %d)", dname(out_dt), x_bits, w, v,
          (int)report, expect);
}

static void ex_tests(void)
{
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            for (int64_t n = 0; n <= 67; n++) {
                CTX("ex %s->%s n=%lld", dname(a), dname(b), (long long)n);
                uint32_t flags = n % 2 ? PN_AFFINE_STREAM : 0u;
                int k = 1 + (int)(n % 9);
                ex_case(a, b, n, k, 1, flags, -1, 0, 0);
                if (n > 0) ex_case(a, b, n, k, 1, flags, n - 1 - (int64_t)(rng_u64() % (uint64_t)n),
                                   (int)(rng_u64() % (uint64_t)k), n % 3 == 0);
            }
            CTX("ex %s->%s large", dname(a), dname(b));
            ex_case(a, b, 200003, 3, 2, PN_AFFINE_STREAM, -1, 0, 0);
            ex_case(a, b, 200003, 3, 2, 0u, 199999, 2, 0);
            ex_case(a, b, 200003, 2, 3, PN_AFFINE_STREAM, 70001, 1, 1);
        }
    CTX("ex boundaries");
    boundary_case(PN_DTYPE_F16, 0x477FEFFFu, 1.0f, 0); /* 65519.996: rounds to 65504 */
    boundary_case(PN_DTYPE_F16, 0x477FF000u, 1.0f, 1); /* 65520: the midpoint, to +Inf */
    boundary_case(PN_DTYPE_F16, 0xC77FF000u, 1.0f, 1); /* -65520 */
    boundary_case(PN_DTYPE_BF16, 0x7F7F7FFFu, 1.0f, 0); /* just below bf16 max + ulp/2 */
    boundary_case(PN_DTYPE_BF16, 0x7F7F8000u, 1.0f, 1); /* the midpoint, to +Inf */
    boundary_case(PN_DTYPE_F32, 0x7F7FFFFFu, 1.0f, 0);  /* FLT_MAX */
    boundary_case(PN_DTYPE_F32, 0x7F7FFFFFu, 2.0f, 1);  /* overflows */
    /* bad flags; the report is cleared for n == 0 */
    float x = 1.0f, w = 1.0f, out = 0.0f;
    const void* ptrs[1] = {&x};
    CHECK(pn_cpu_affine_ex(PN_DTYPE_F32, PN_DTYPE_F32, 1, 1, ptrs, &w, 0.0f, &out, 1, 2u, NULL) ==
              PN_ERR_INVALID_ARGUMENT, "unknown flag accepted");
    CHECK(strstr(pn_last_error(), "pn_cpu_affine_ex: unknown flags") != NULL,
          "the error names the entry point called: %s", pn_last_error());
    int32_t report = 7;
    CHECK(pn_cpu_affine_ex(PN_DTYPE_F32, PN_DTYPE_F32, 0, 1, ptrs, &w, 0.0f, &out, 1, 0u, &report) ==
              PN_OK && report == 0, "n == 0: report %d", (int)report);
}

/* Bit-exact check of the FMA ISAs: out[j] = fma chain c -> fma(w_i, x_i[j], acc) in input order,
 * rounded once to out_dt. specials: NaN / Inf planted in the inputs (a NaN from exactly one
 * input must come back as that input's quiet NaN for bf16), nan_weight: one weight is the NaN
 * 0x7FFFFFFF (its low payload bits overflow the bf16 rounding bias: the slow path). */
static void exact_case(int dt, int64_t n, int k, int threads, int specials, int nan_weight,
                       int in_place)
{
    gbuf in[9];
    const void* ptrs[9];
    float w[9];
    for (int i = 0; i < k; i++) {
        in[i] = gbuf_new((size_t)n * dsize(dt), (size_t)((i + n) % 3) * dsize(dt));
        fill_random(dt, in[i].p, n);
        if (specials && i < 2) plant_specials(dt, in[i].p, n);
        ptrs[i] = in[i].p;
        w[i] = rng_val() * 2.0f;
    }
    if (nan_weight) {
        uint32_t nb = 0x7FFFFFFFu;
        memcpy(&w[k / 2], &nb, 4);
    }
    float c = rng_val();
    gbuf out = gbuf_new((size_t)n * dsize(dt), (size_t)(n % 5) * dsize(dt));
    unsigned char* last = NULL;
    if (in_place) {
        ptrs[k - 1] = out.p;
        fill_random(dt, out.p, n);
        if (specials) plant_specials(dt, out.p, n);
        last = (unsigned char*)malloc((size_t)(n ? n : 1) * dsize(dt));
        memcpy(last, out.p, (size_t)n * dsize(dt));
    } else {
        memset(out.p, 0xFF, (size_t)n * dsize(dt));
    }
    pn_status st = pn_cpu_affine(dt, dt, n, k, ptrs, w, c, out.p, threads);
    CHECK(st == PN_OK, "status %d (%s)", st, pn_last_error());
    int bad = 0;
    for (int64_t j = 0; j < n && bad < 3; j++) {
        float acc = c;
        int nans = 0, nan_i = -1;
        for (int i = 0; i < k; i++) {
            const void* p = (in_place && i == k - 1) ? (const void*)last : ptrs[i];
            float x = (float)get_val(dt, p, j);
            if (isnan(x)) { nans++; nan_i = i; }
            if (isnan(w[i])) nans += 2;
            acc = fmaf(w[i], x, acc);
        }
        int ok;
        double got = get_val(dt, out.p, j);
        if (nans == 1 && dt == PN_DTYPE_BF16) {
            const void* p = (in_place && nan_i == k - 1) ? (const void*)last : ptrs[nan_i];
            ok = ((const uint16_t*)out.p)[j] == (uint16_t)(((const uint16_t*)p)[j] | 0x40);
        } else if (isnan(acc)) {
            ok = isnan(got);
        } else if (dt == PN_DTYPE_F32) {
            ok = f2u((float)got) == f2u(acc);
        } else {
            uint16_t want = dt == PN_DTYPE_F16 ? ref_f32_to_f16(acc) : ref_f32_to_bf16(acc);
            ok = ((const uint16_t*)out.p)[j] == want;
        }
        if (!ok) {
            bad++;
            CHECK(0, "exact %s n=%lld k=%d t=%d index %lld want %.9g got %.9g", dname(dt),
                  (long long)n, k, threads, (long long)j, acc, got);
        } else {
            g_checks++;
        }
    }
    CHECK(gbuf_guards_ok(&out), "out guard overwritten");
    for (int i = 0; i < k; i++) {
        CHECK(gbuf_guards_ok(&in[i]), "input guard overwritten");
        gbuf_free(&in[i]);
    }
    gbuf_free(&out);
    free(last);
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
    for (int ii = 0; ii < nisa; ii++) {
        CHECK(pn_set_isa(isas[ii]) == PN_OK, "set isa");
        CTX("isa=%s", isa_name(isas[ii]));
        ex_tests();
    }
    /* bit-exact on the vector ISAs, same dtype in and out (the deinterleaved bf16 path) */
    for (int ii = 1; ii < nisa; ii++) {
        CHECK(pn_set_isa(isas[ii]) == PN_OK, "set isa");
        for (int dt = 0; dt < 3; dt++) {
            for (int64_t n = 0; n <= 200; n++) {
                CTX("isa=%s exact %s n=%lld", isa_name(isas[ii]), dname(dt), (long long)n);
                exact_case(dt, n, 1 + (int)(n % 4), 1, n % 3 == 0, n % 7 == 3, n % 5 == 4);
            }
            CTX("isa=%s exact %s large", isa_name(isas[ii]), dname(dt));
            exact_case(dt, 200003, 3, 2, 1, 0, 0);
            exact_case(dt, 200003, 2, 3, 1, 0, 1);
            /* non-temporal path (>= 4 MiB out), every start misalignment of the output */
            CTX("isa=%s exact %s stream", isa_name(isas[ii]), dname(dt));
            for (int m = 0; m < 5; m++)
                exact_case(dt, ((int64_t)4 << 20) / (int64_t)dsize(dt) + 13 + m, 2, 2, 1, m == 4,
                           0);
        }
    }
    pn_set_isa(-1);
    return test_finish("test_affine");
}
