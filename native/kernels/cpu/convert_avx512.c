/* convert_avx512.c — the avx512 instantiation of convert_body.h. */
#include "pn_vec_avx512.h"
#include "convert_body.h"
