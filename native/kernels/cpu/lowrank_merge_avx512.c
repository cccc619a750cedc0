/* lowrank_merge_avx512.c — the avx512 instantiation of lowrank_merge_body.h. */
#include "pn_vec_avx512.h"
#include "lowrank_merge_body.h"
