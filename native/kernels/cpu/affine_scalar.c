/* affine_scalar.c — the scalar instantiation of affine_body.h. */
#include "pn_vec_scalar.h"
#include "affine_body.h"
