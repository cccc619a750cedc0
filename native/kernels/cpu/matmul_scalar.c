/* matmul_scalar.c — the portable instantiation of matmul_body.h. */
#include "pn_vec_scalar.h"
#include "matmul_body.h"
