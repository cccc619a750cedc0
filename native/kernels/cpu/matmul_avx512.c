/* matmul_avx512.c — the AVX-512 instantiation of matmul_body.h (8 x 32 register block; the
 * transposed W panels are packed element by element). */
#include "pn_vec_avx512.h"
#include "matmul_body.h"
