/* scale_avx2.c — the avx2 instantiation of scale_body.h. */
#include "pn_vec_avx2.h"
#include "scale_body.h"
