/* lowrank_merge_scalar.c — the scalar instantiation of lowrank_merge_body.h. */
#include "pn_vec_scalar.h"
#include "lowrank_merge_body.h"
