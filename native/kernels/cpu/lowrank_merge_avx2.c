/* lowrank_merge_avx2.c — the avx2 instantiation of lowrank_merge_body.h. */
#include "pn_vec_avx2.h"
#include "lowrank_merge_body.h"
