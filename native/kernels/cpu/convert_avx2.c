/* convert_avx2.c — the avx2 instantiation of convert_body.h. */
#include "pn_vec_avx2.h"
#include "convert_body.h"
