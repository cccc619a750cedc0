/* affine_avx512.c — the avx512 instantiation of affine_body.h. */
#include "pn_vec_avx512.h"
#include "affine_body.h"
