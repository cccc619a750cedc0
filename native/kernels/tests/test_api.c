/* test_api.c — version, capabilities, ISA switching, probes, every validation error (right
 * status, message naming the function, nothing written) and concurrent callers. */
#include <pthread.h>

#include "test_common.h"

static unsigned char g_out[4096];
static uint64_t out_sum(void)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof g_out; i++) h = (h ^ g_out[i]) * 1099511628211ull;
    return h;
}

#define EXPECT_ERR(call, status, fname, needle)                                              \
    do {                                                                                     \
        uint64_t before = out_sum();                                                         \
        pn_status st_ = (call);                                                              \
        CHECK(st_ == (status), "%s: status %d expected %d", #call, st_, status);             \
        const char* m_ = pn_last_error();                                                    \
        CHECK(m_ && strstr(m_, fname) != NULL, "%s: message '%s' lacks %s", #call, m_, fname); \
        CHECK(needle == NULL || strstr(m_, needle) != NULL, "%s: message '%s' lacks '%s'",     \
              #call, m_, needle ? needle : "");                                              \
        CHECK(out_sum() == before, "%s: output modified", #call);                            \
    } while (0)

static const char* NONE = NULL;

static void test_errors(void)
{
    float* o32 = (float*)(void*)g_out;
    uint16_t* o16 = (uint16_t*)(void*)g_out;
    static float in_a[64], in_b[64];
    for (int i = 0; i < 64; i++) in_a[i] = in_b[i] = 1.0f;
    const void* ins[2] = {in_a, in_b};
    const void* ins_null[2] = {in_a, NULL};
    float w2[2] = {1, 2};
    memset(g_out, 0x5A, sizeof g_out);
    const char* F = "pn_cpu_affine";
    EXPECT_ERR(pn_cpu_affine(3, 0, 8, 2, ins, w2, 0, o32, 1), PN_ERR_INVALID_ARGUMENT, F, "in_dtype");
    EXPECT_ERR(pn_cpu_affine(0, -1, 8, 2, ins, w2, 0, o32, 1), PN_ERR_INVALID_ARGUMENT, F, "out_dtype");
    EXPECT_ERR(pn_cpu_affine(0, 0, -1, 2, ins, w2, 0, o32, 1), PN_ERR_INVALID_ARGUMENT, F, "n");
    EXPECT_ERR(pn_cpu_affine(0, 0, 8, 0, ins, w2, 0, o32, 1), PN_ERR_INVALID_ARGUMENT, F, "k");
    EXPECT_ERR(pn_cpu_affine(0, 0, 8, 2, NULL, w2, 0, o32, 1), PN_ERR_INVALID_ARGUMENT, F, "inputs");
    EXPECT_ERR(pn_cpu_affine(0, 0, 8, 2, ins, NULL, 0, o32, 1), PN_ERR_INVALID_ARGUMENT, F, "weights");
    EXPECT_ERR(pn_cpu_affine(0, 0, 8, 2, ins, w2, 0, NULL, 1), PN_ERR_INVALID_ARGUMENT, F, "out");
    EXPECT_ERR(pn_cpu_affine(0, 0, 8, 2, ins_null, w2, 0, o32, 1), PN_ERR_INVALID_ARGUMENT, F, "inputs[1]");
    {   /* out partially overlapping an input; identical pointer with different dtypes */
        const void* ov[2] = {in_a, o32 + 1};
        EXPECT_ERR(pn_cpu_affine(0, 0, 8, 2, ov, w2, 0, o32, 1), PN_ERR_INVALID_ARGUMENT, F, "overlaps");
        const void* same[1] = {o16};
        EXPECT_ERR(pn_cpu_affine(1, 0, 8, 1, same, w2, 0, o16, 1), PN_ERR_INVALID_ARGUMENT, F, "inputs[0]");
    }
    CHECK(pn_cpu_affine(0, 0, 0, 1, NULL, NULL, 0, NULL, 1) == PN_OK, "n == 0 with nulls");
    CHECK(strstr(pn_last_error(), "pn_cpu_affine") != NULL, "last error kept after a success");

    F = "pn_cpu_convert";
    EXPECT_ERR(pn_cpu_convert(9, in_a, 0, o32, 8, 1), PN_ERR_INVALID_ARGUMENT, F, "src_dtype");
    EXPECT_ERR(pn_cpu_convert(0, in_a, 4, o32, 8, 1), PN_ERR_INVALID_ARGUMENT, F, "dst_dtype");
    EXPECT_ERR(pn_cpu_convert(0, in_a, 1, o16, -3, 1), PN_ERR_INVALID_ARGUMENT, F, "n");
    EXPECT_ERR(pn_cpu_convert(0, NULL, 1, o16, 8, 1), PN_ERR_INVALID_ARGUMENT, F, "src");
    EXPECT_ERR(pn_cpu_convert(0, in_a, 1, NULL, 8, 1), PN_ERR_INVALID_ARGUMENT, F, "dst");
    EXPECT_ERR(pn_cpu_convert(1, o16 + 1, 2, o16, 8, 1), PN_ERR_INVALID_ARGUMENT, F, "overlaps");
    EXPECT_ERR(pn_cpu_convert(0, o32, 1, o32, 8, 1), PN_ERR_INVALID_ARGUMENT, F, "size");
    CHECK(pn_cpu_convert(0, NULL, 1, NULL, 0, 1) == PN_OK, "n == 0 with nulls");

    static float lz[16];
    for (int i = 0; i < 16; i++) lz[i] = 1.0f;
    lz[5] = -0.0f;
    for (int cm = 0; cm < 2; cm++) {
        F = cm ? "pn_cpu_scale_cols" : "pn_cpu_scale_rows";
        pn_status (*fn)(int32_t, void*, int64_t, int64_t, int32_t, const void*, int32_t, int32_t) =
            cm ? pn_cpu_scale_cols : pn_cpu_scale_rows;
        EXPECT_ERR(fn(3, o32, 16, 16, 0, lz, 0, 1), PN_ERR_INVALID_ARGUMENT, F, "w_dtype");
        EXPECT_ERR(fn(0, o32, 16, 16, 7, lz, 0, 1), PN_ERR_INVALID_ARGUMENT, F, "l_dtype");
        EXPECT_ERR(fn(0, o32, -1, 16, 0, lz, 0, 1), PN_ERR_INVALID_ARGUMENT, F, "rows");
        EXPECT_ERR(fn(0, o32, 16, -1, 0, lz, 0, 1), PN_ERR_INVALID_ARGUMENT, F, "cols");
        EXPECT_ERR(fn(0, o32, 16, 16, 0, lz, 2, 1), PN_ERR_INVALID_ARGUMENT, F, "inverse");
        EXPECT_ERR(fn(0, NULL, 16, 16, 0, lz, 0, 1), PN_ERR_INVALID_ARGUMENT, F, "w is null");
        EXPECT_ERR(fn(0, o32, 16, 16, 0, NULL, 0, 1), PN_ERR_INVALID_ARGUMENT, F, "l is null");
        EXPECT_ERR(fn(0, o32, 16, 16, 0, o32 + 200, 0, 1), PN_ERR_INVALID_ARGUMENT, F, "overlaps");
        EXPECT_ERR(fn(0, o32, 16, 16, 0, lz, 1, 1), PN_ERR_INVALID_ARGUMENT, F, "l[5]");
        CHECK(fn(0, NULL, 0, 0, 0, NULL, 1, 1) == PN_OK, "empty");
    }

    F = "pn_cpu_lowrank_merge";
    static float fa[64 * 4], fb[64 * 4];
    pn_lowrank_factor good = {fb, fa, PN_DTYPE_F32, 4, 0.5f, 0};
    pn_lowrank_factor fs[3] = {good, good, good};
    EXPECT_ERR(pn_cpu_lowrank_merge(5, o32, 16, 16, 0, 3, fs, 1), PN_ERR_INVALID_ARGUMENT, F, "w_dtype");
    EXPECT_ERR(pn_cpu_lowrank_merge(0, o32, -16, 16, 0, 3, fs, 1), PN_ERR_INVALID_ARGUMENT, F, "out_features");
    EXPECT_ERR(pn_cpu_lowrank_merge(0, o32, 16, -16, 0, 3, fs, 1), PN_ERR_INVALID_ARGUMENT, F, "in_features");
    EXPECT_ERR(pn_cpu_lowrank_merge(0, o32, 16, 16, 2, 3, fs, 1), PN_ERR_INVALID_ARGUMENT, F, "transpose");
    EXPECT_ERR(pn_cpu_lowrank_merge(0, o32, 16, 16, 0, -1, fs, 1), PN_ERR_INVALID_ARGUMENT, F, "count");
    EXPECT_ERR(pn_cpu_lowrank_merge(0, o32, 16, 16, 0, 3, NULL, 1), PN_ERR_INVALID_ARGUMENT, F, "factors");
    EXPECT_ERR(pn_cpu_lowrank_merge(0, NULL, 16, 16, 0, 3, fs, 1), PN_ERR_INVALID_ARGUMENT, F, "w is null");
    fs[2].rank = 0;
    EXPECT_ERR(pn_cpu_lowrank_merge(0, o32, 16, 16, 0, 3, fs, 1), PN_ERR_INVALID_ARGUMENT, F, "factor 2 has rank 0");
    fs[2] = good; fs[1].dtype = 3;
    EXPECT_ERR(pn_cpu_lowrank_merge(0, o32, 16, 16, 0, 3, fs, 1), PN_ERR_INVALID_ARGUMENT, F, "factor 1");
    fs[1] = good; fs[0].reserved = 1;
    EXPECT_ERR(pn_cpu_lowrank_merge(0, o32, 16, 16, 0, 3, fs, 1), PN_ERR_INVALID_ARGUMENT, F, "reserved");
    fs[0] = good; fs[2].b = NULL;
    EXPECT_ERR(pn_cpu_lowrank_merge(0, o32, 16, 16, 0, 3, fs, 1), PN_ERR_INVALID_ARGUMENT, F, "factor 2 has b null");
    fs[2] = good; fs[1].a = NULL;
    EXPECT_ERR(pn_cpu_lowrank_merge(0, o32, 16, 16, 0, 3, fs, 1), PN_ERR_INVALID_ARGUMENT, F, "factor 1 has a null");
    fs[1] = good; fs[1].a = o32 + 250; /* a (4 x 16 f32) overlaps the end of W (16 x 16 f32) */
    EXPECT_ERR(pn_cpu_lowrank_merge(0, o32, 16, 16, 0, 3, fs, 1), PN_ERR_INVALID_ARGUMENT, F, "overlaps");
    CHECK(pn_cpu_lowrank_merge(0, NULL, 0, 0, 0, 0, NULL, 1) == PN_OK, "count 0");

    double sec, gf;
    EXPECT_ERR(pn_probe_memory_rmw(o32, 1024, 1, 1, NULL), PN_ERR_INVALID_ARGUMENT, "pn_probe_memory_rmw", "seconds");
    EXPECT_ERR(pn_probe_memory_rmw(o32, 1024, 0, 1, &sec), PN_ERR_INVALID_ARGUMENT, "pn_probe_memory_rmw", "repeats");
    EXPECT_ERR(pn_probe_memory_rmw(NULL, 1024, 1, 1, &sec), PN_ERR_INVALID_ARGUMENT, "pn_probe_memory_rmw", "buffer");
    EXPECT_ERR(pn_probe_fma_f32(0, 1, &gf), PN_ERR_INVALID_ARGUMENT, "pn_probe_fma_f32", "milliseconds");
    EXPECT_ERR(pn_probe_bf16_dot(5, 1, NULL), PN_ERR_INVALID_ARGUMENT, "pn_probe_bf16_dot", "gflops");

    pn_capabilities small;
    memset(&small, 0, sizeof small);
    small.struct_size = 8;
    EXPECT_ERR(pn_get_capabilities(&small), PN_ERR_INVALID_ARGUMENT, "pn_get_capabilities", "struct_size");
    EXPECT_ERR(pn_get_capabilities(NULL), PN_ERR_INVALID_ARGUMENT, "pn_get_capabilities", NONE);
    EXPECT_ERR(pn_set_isa(7), PN_ERR_INVALID_ARGUMENT, "pn_set_isa", NONE);
    EXPECT_ERR(pn_set_isa(-2), PN_ERR_INVALID_ARGUMENT, "pn_set_isa", NONE);
}

/* Concurrent host threads merging different matrices must get the single-threaded result. */
#define CN 257
#define CM 611
typedef struct conc {
    float* w;
    const float* expect;
    pn_lowrank_factor f;
    int ok;
} conc;
static void* conc_main(void* p)
{
    conc* c = (conc*)p;
    c->ok = 1;
    for (int it = 0; it < 6; it++) {
        for (int i = 0; i < CN * CM; i++) c->w[i] = 1.0f;
        if (pn_cpu_lowrank_merge(PN_DTYPE_F32, c->w, CN, CM, 0, 1, &c->f, 2) != PN_OK) c->ok = 0;
        if (memcmp(c->w, c->expect, sizeof(float) * CN * CM) != 0) c->ok = 0;
    }
    return NULL;
}
static void test_concurrency(void)
{
    float* a = (float*)malloc(sizeof(float) * 16 * CM);
    float* b = (float*)malloc(sizeof(float) * CN * 16);
    fill_random(0, a, 16 * CM);
    fill_random(0, b, CN * 16);
    float* expect = (float*)malloc(sizeof(float) * CN * CM);
    for (int i = 0; i < CN * CM; i++) expect[i] = 1.0f;
    pn_lowrank_factor f = {b, a, PN_DTYPE_F32, 16, 0.25f, 0};
    CHECK(pn_cpu_lowrank_merge(PN_DTYPE_F32, expect, CN, CM, 0, 1, &f, 1) == PN_OK, "single");
    conc cs[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        cs[i].w = (float*)malloc(sizeof(float) * CN * CM);
        cs[i].expect = expect;
        cs[i].f = f;
        pthread_create(&th[i], NULL, conc_main, &cs[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        CHECK(cs[i].ok, "concurrent caller %d got a different result", i);
        free(cs[i].w);
    }
    free(expect);
    free(a);
    free(b);
}

int main(void)
{
    CHECK(strcmp(pn_version(), "0.1.0") == 0, "version %s", pn_version());
    CHECK(pn_abi_version() == PN_ABI_VERSION, "abi");
    CHECK(pn_last_error() != NULL && pn_last_error()[0] == '\0', "initial last error not empty");
    pn_capabilities caps;
    memset(&caps, 0, sizeof caps);
    caps.struct_size = sizeof caps;
    CHECK(pn_get_capabilities(&caps) == PN_OK, "caps");
    CHECK(caps.logical_cpus >= 1 && caps.default_threads == caps.logical_cpus, "cpus");
    CHECK(caps.best_isa >= 0 && caps.best_isa <= 2 && caps.active_isa == caps.best_isa, "isa");
    printf("avx2=%d fma=%d f16c=%d avx512f=%d bw=%d vl=%d bf16=%d cpus=%d best=%d\n", caps.has_avx2,
           caps.has_fma, caps.has_f16c, caps.has_avx512f, caps.has_avx512bw, caps.has_avx512vl,
           caps.has_avx512_bf16, caps.logical_cpus, caps.best_isa);
    if (caps.best_isa < PN_ISA_AVX512) {
        CTX("unsupported isa");
        EXPECT_ERR(pn_set_isa(PN_ISA_AVX512), PN_ERR_UNSUPPORTED, "pn_set_isa", NONE);
        pn_capabilities c2 = caps;
        pn_get_capabilities(&c2);
        CHECK(c2.active_isa == caps.best_isa, "active isa changed after a refused pn_set_isa");
    }
    int isas[3];
    int nisa = isa_list(isas);
    rng_seed(5);
    size_t bytes = (size_t)8 << 20;
    float* buf = (float*)malloc(bytes + 4);
    for (size_t i = 0; i < bytes / 4 + 1; i++) buf[i] = (float)(i % 1000) - 500.0f;
    buf[12345] = -0.0f;
    for (int ii = 0; ii < nisa; ii++) {
        CTX("isa=%s", isa_name(isas[ii]));
        CHECK(pn_set_isa(isas[ii]) == PN_OK, "set");
        pn_capabilities c2;
        memset(&c2, 0, sizeof c2);
        c2.struct_size = sizeof c2;
        pn_get_capabilities(&c2);
        CHECK(c2.active_isa == isas[ii], "active isa");
        test_errors();
        test_concurrency();
        double sec = -1, gf = -1, gb = -1;
        CHECK(pn_probe_memory_rmw(buf + 1, (int64_t)bytes - 2, 2, 2, &sec) == PN_OK && sec > 0, "rmw");
        int same = 1;
        for (size_t i = 0; i < bytes / 4 + 1; i++)
            same &= i == 12345 ? f2u(buf[i]) == 0x80000000u : buf[i] == (float)(i % 1000) - 500.0f;
        CHECK(same, "rmw changed the data");
        CHECK(pn_probe_fma_f32(5, 2, &gf) == PN_OK && gf > 0, "fma");
        CHECK(pn_probe_bf16_dot(5, 2, &gb) == PN_OK && gb > 0, "bf16");
        printf("isa=%s rmw %.2f GB/s fma %.1f GFLOP/s bf16 %.1f GFLOP/s\n", isa_name(isas[ii]),
               2.0 * (double)bytes / sec * 1e-9, gf, gb);
    }
    free(buf);
    pn_set_isa(-1);
    return test_finish("test_api");
}
