/* scale_avx512.c — the avx512 instantiation of scale_body.h. */
#include "pn_vec_avx512.h"
#include "scale_body.h"
