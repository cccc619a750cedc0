/* dispatch.c — CPU feature detection (cpuid + xgetbv) and the active kernel table. */
#include <stdatomic.h>

#include "pn_internal.h"

#if defined(PN_HAVE_X86)
#include <cpuid.h>
#endif

typedef struct pn_cpu_features {
    int avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512_bf16;
    int os_ymm, os_zmm;
} pn_cpu_features;

#if defined(PN_HAVE_X86)
PN_INTERNAL int pn_cpu_has_avx512_bf16 = 0;

static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

static pn_cpu_features detect(void)
{
    pn_cpu_features f;
    memset(&f, 0, sizeof f);
#if defined(PN_HAVE_X86)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    f.fma = (int)((c >> 12) & 1);
    f.f16c = (int)((c >> 29) & 1);
    if (osxsave && avx) {
        uint64_t xcr0 = read_xcr0();
        f.os_ymm = (xcr0 & 0x6) == 0x6;              /* XMM | YMM */
        f.os_zmm = f.os_ymm && (xcr0 & 0xE0) == 0xE0; /* opmask | ZMM_Hi256 | Hi16_ZMM */
    }
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        f.avx2 = (int)((b >> 5) & 1);
        f.avx512f = (int)((b >> 16) & 1);
        f.avx512bw = (int)((b >> 30) & 1);
        f.avx512vl = (int)((b >> 31) & 1);
        if (a >= 1) {
            unsigned a1, b1, c1, d1;
            __cpuid_count(7, 1, a1, b1, c1, d1);
            f.avx512_bf16 = (int)((a1 >> 5) & 1);
            (void)b1; (void)c1; (void)d1;
        }
    }
    if (!f.os_ymm) f.avx2 = f.fma = f.f16c = 0;
    if (!f.os_zmm) f.avx512f = f.avx512bw = f.avx512vl = f.avx512_bf16 = 0;
#endif
    return f;
}

static pn_cpu_features g_features;
static int g_best = -1;
static _Atomic(const pn_kernels*) g_active = NULL;

static int supports(const pn_cpu_features* f, int isa)
{
    switch (isa) {
    case PN_ISA_SCALAR: return 1;
    case PN_ISA_AVX2: return f->avx2 && f->fma && f->f16c;
    case PN_ISA_AVX512:
        return f->avx2 && f->fma && f->f16c && f->avx512f && f->avx512bw && f->avx512vl;
    default: return 0;
    }
}

static const pn_kernels* table_for(int isa)
{
#if defined(PN_HAVE_X86)
    if (isa == PN_ISA_AVX512) return &pn_kernels_avx512;
    if (isa == PN_ISA_AVX2) return &pn_kernels_avx2;
#endif
    (void)isa;
    return &pn_kernels_scalar;
}

__attribute__((constructor)) static void pn_dispatch_init(void)
{
    g_features = detect();
#if defined(PN_HAVE_X86)
    pn_cpu_has_avx512_bf16 = g_features.avx512_bf16;
#endif
    g_best = supports(&g_features, PN_ISA_AVX512) ? PN_ISA_AVX512
             : supports(&g_features, PN_ISA_AVX2) ? PN_ISA_AVX2
                                                  : PN_ISA_SCALAR;
    atomic_store(&g_active, table_for(g_best));
}

const pn_kernels* pn_active(void)
{
    const pn_kernels* k = atomic_load_explicit(&g_active, memory_order_acquire);
    if (!k) { pn_dispatch_init(); k = atomic_load(&g_active); }
    return k;
}

PN_API pn_status pn_set_isa(int32_t isa)
{
    (void)pn_active();
    if (isa == -1) isa = g_best;
    if (isa < PN_ISA_SCALAR || isa > PN_ISA_AVX512)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "pn_set_isa: unknown isa %d", (int)isa);
    if (!supports(&g_features, isa))
        return pn_fail(PN_ERR_UNSUPPORTED, "pn_set_isa: the CPU lacks isa %d (best is %d)",
                       (int)isa, g_best);
    atomic_store_explicit(&g_active, table_for(isa), memory_order_release);
    return PN_OK;
}

PN_API pn_status pn_get_capabilities(pn_capabilities* caps)
{
    const pn_kernels* k = pn_active();
    if (!caps) return pn_fail(PN_ERR_INVALID_ARGUMENT, "pn_get_capabilities: caps is null");
    if (caps->struct_size < sizeof(pn_capabilities))
        return pn_fail(PN_ERR_INVALID_ARGUMENT,
                       "pn_get_capabilities: struct_size %u is smaller than %zu",
                       (unsigned)caps->struct_size, sizeof(pn_capabilities));
    caps->has_avx2 = g_features.avx2;
    caps->has_fma = g_features.fma;
    caps->has_f16c = g_features.f16c;
    caps->has_avx512f = g_features.avx512f;
    caps->has_avx512bw = g_features.avx512bw;
    caps->has_avx512vl = g_features.avx512vl;
    caps->has_avx512_bf16 = g_features.avx512_bf16;
    caps->logical_cpus = pn_logical_cpus();
    caps->default_threads = caps->logical_cpus;
    caps->best_isa = g_best;
    caps->active_isa = k->isa;
    return PN_OK;
}
