/* affine_body.h — out[j] = c + sum_i w_i * x_i[j], instantiated once per ISA (include after one
 * pn_vec_<isa>.h). Loop over blocks of elements, inside over the k inputs: every input is read
 * once and out written once; accumulation in f32 registers. Large outputs that alias no input
 * use non-temporal stores after peeling `out` to the store width. With CHECK (pn_cpu_affine_ex
 * asked for the report) every stored vector is also compared with the output dtype's largest
 * value that stays finite when rounded (c->finite_limit), in registers. */
#include "pn_vec_common.h"

#define AFF_U 4 /* vectors per block */
/* Software prefetch distance (bytes) of 16-bit inputs: ~5-10% less CPU time on AMD Zen for
 * k = 2..8 bf16 / f16 inputs; f32 inputs showed no gain (they are not prefetched). */
#ifndef PN_AFF_PF
#define PN_AFF_PF 1024
#endif

PN_ALWAYS_INLINE VF aff_vec(const pn_affine_ctx* c, int32_t IN, int64_t j)
{
    VF acc = vset1(c->constant);
    for (int32_t i = 0; i < c->k; i++)
        acc = vfma(vset1(c->weights[i]), vload_dt(IN, c->inputs[i], j), acc);
    return acc;
}

PN_ALWAYS_INLINE VF aff_part(const pn_affine_ctx* c, int32_t IN, int64_t j, int64_t t)
{
    VF acc = vset1(c->constant);
    for (int32_t i = 0; i < c->k; i++)
        acc = vfma(vset1(c->weights[i]), vload_part(IN, c->inputs[i], j, t), acc);
    return acc;
}

/* All-bf16 blocks on ISAs with the deinterleaved pair primitives: every input and the output
 * go through the same even/odd permutation of each 2*VLEN group (elementwise, so the order
 * does not matter), which replaces the widening/narrowing shuffles by a shift, an and and a
 * word blend. */
#define AFF_DEINT(IN, OUT) (PN_BF16_DEINT && (IN) == PN_DTYPE_BF16 && (OUT) == PN_DTYPE_BF16)

#define AFF_NOTE(v) \
    do {                                                              \
        if (CHECK) *bad = vbad_note(*bad, (v), vset1(c->finite_limit)); \
    } while (0)

PN_ALWAYS_INLINE int64_t aff_blocks(const pn_affine_ctx* c, int32_t IN, int32_t OUT,
                                    int STREAM, int CHECK, VBAD* bad, int64_t j, int64_t e)
{
#if PN_BF16_DEINT
    if (AFF_DEINT(IN, OUT)) {
        for (; j + AFF_U * VLEN <= e; j += AFF_U * VLEN) {
            VF acc[AFF_U];
            for (int u = 0; u < AFF_U; u++) acc[u] = vset1(c->constant);
            for (int32_t i = 0; i < c->k; i++) {
                const VF w = vset1(c->weights[i]);
                const uint16_t* x = (const uint16_t*)c->inputs[i] + j;
                if (PN_AFF_PF > 0) /* one prefetch per 64-byte line of the block */
                    for (int b = 0; b < AFF_U * VLEN * 2; b += 64)
                        vprefetch((const void*)((uintptr_t)x + (uintptr_t)(PN_AFF_PF + b)));
                for (int u = 0; u < AFF_U; u += 2) {
                    VF xe, xo;
                    vload2_bf16(x + u * VLEN, &xe, &xo);
                    acc[u] = vfma(w, xe, acc[u]);
                    acc[u + 1] = vfma(w, xo, acc[u + 1]);
                }
            }
            uint16_t* o = (uint16_t*)c->out + j;
            for (int u = 0; u < AFF_U; u++) AFF_NOTE(acc[u]);
            for (int u = 0; u < AFF_U; u += 2) {
                if (STREAM) vstream2_bf16(o + u * VLEN, acc[u], acc[u + 1]);
                else vstore2_bf16(o + u * VLEN, acc[u], acc[u + 1]);
            }
        }
        return j;
    }
#endif
    for (; j + AFF_U * VLEN <= e; j += AFF_U * VLEN) {
        VF acc[AFF_U];
        for (int u = 0; u < AFF_U; u++) acc[u] = vset1(c->constant);
        for (int32_t i = 0; i < c->k; i++) {
            const VF w = vset1(c->weights[i]);
            const void* x = c->inputs[i];
            if (PN_AFF_PF > 0 && IN != PN_DTYPE_F32) /* 16-bit inputs: one per 64-byte line */
                for (int b = 0; b < AFF_U * VLEN * 2; b += 64)
                    vprefetch((const void*)((uintptr_t)x + (uintptr_t)j * 2u +
                                            (uintptr_t)(PN_AFF_PF + b)));
            for (int u = 0; u < AFF_U; u++)
                acc[u] = vfma(w, vload_dt(IN, x, j + u * VLEN), acc[u]);
        }
        for (int u = 0; u < AFF_U; u++) {
            AFF_NOTE(acc[u]);
            if (STREAM) vstream_dt(OUT, c->out, j + u * VLEN, acc[u]);
            else vstore_dt(OUT, c->out, j + u * VLEN, acc[u]);
        }
    }
    return j;
}

PN_ALWAYS_INLINE void aff_impl(const pn_affine_ctx* c, int32_t IN, int32_t OUT, int CHECK,
                               int64_t j, int64_t e)
{
    VBAD bad_lanes = vbad_none();
    VBAD* bad = &bad_lanes;
    int stream = c->stream;
    if (stream) {
        size_t es = pn_dtype_size(OUT);
        /* the store width: 2 vectors' worth of bf16 for the deinterleaved pairs */
        size_t width = (size_t)VLEN * es * (AFF_DEINT(IN, OUT) ? 2u : 1u);
        size_t mis = (size_t)(((uintptr_t)c->out + (size_t)j * es) % width);
        if (mis % es != 0) {
            stream = 0;
        } else if (mis != 0) {
            int64_t peel = (int64_t)((width - mis) / es);
            if (peel > e - j) peel = e - j;
            for (int64_t t; peel > 0; j += t, peel -= t) { /* peel may exceed VLEN */
                t = peel < VLEN ? peel : VLEN;
                VF v = t == VLEN ? aff_vec(c, IN, j) : aff_part(c, IN, j, t);
                AFF_NOTE(v);
                if (t == VLEN) vstore_dt(OUT, c->out, j, v);
                else vstore_part(OUT, c->out, j, t, v);
            }
        }
    }
    if (stream) {
        j = aff_blocks(c, IN, OUT, 1, CHECK, bad, j, e);
        for (; j + VLEN <= e; j += VLEN) {
            VF v = aff_vec(c, IN, j);
            AFF_NOTE(v);
            vstream_dt(OUT, c->out, j, v);
        }
        vsfence();
    } else {
        j = aff_blocks(c, IN, OUT, 0, CHECK, bad, j, e);
        for (; j + VLEN <= e; j += VLEN) {
            VF v = aff_vec(c, IN, j);
            AFF_NOTE(v);
            vstore_dt(OUT, c->out, j, v);
        }
    }
    if (j < e) {
        /* the lanes past the tail hold the constant (inputs read as zero there): finite */
        VF v = aff_part(c, IN, j, e - j);
        AFF_NOTE(v);
        vstore_part(OUT, c->out, j, e - j, v);
    }
    if (CHECK && vbad_any(bad_lanes)) __atomic_store_n(c->nonfinite, 1, __ATOMIC_RELAXED);
}

#define AFF_CASE(I, O)                                                                     \
    case (I) * 3 + (O):                                                                    \
        if (c->nonfinite) aff_impl(c, I, O, 1, begin, end);                                \
        else aff_impl(c, I, O, 0, begin, end);                                             \
        break;

PN_INTERNAL void PN_SFX(pn_affine_range)(const pn_affine_ctx* c, int64_t begin, int64_t end)
{
    switch (c->in_dtype * 3 + c->out_dtype) {
        AFF_CASE(PN_DTYPE_F32, PN_DTYPE_F32)
        AFF_CASE(PN_DTYPE_F32, PN_DTYPE_F16)
        AFF_CASE(PN_DTYPE_F32, PN_DTYPE_BF16)
        AFF_CASE(PN_DTYPE_F16, PN_DTYPE_F32)
        AFF_CASE(PN_DTYPE_F16, PN_DTYPE_F16)
        AFF_CASE(PN_DTYPE_F16, PN_DTYPE_BF16)
        AFF_CASE(PN_DTYPE_BF16, PN_DTYPE_F32)
        AFF_CASE(PN_DTYPE_BF16, PN_DTYPE_F16)
        AFF_CASE(PN_DTYPE_BF16, PN_DTYPE_BF16)
    default: break;
    }
}
