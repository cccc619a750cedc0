/* affine_avx2.c — the avx2 instantiation of affine_body.h. */
#include "pn_vec_avx2.h"
#include "affine_body.h"
