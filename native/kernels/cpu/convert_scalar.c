/* convert_scalar.c — the scalar instantiation of convert_body.h. */
#include "pn_vec_scalar.h"
#include "convert_body.h"
