/* scale_scalar.c — the scalar instantiation of scale_body.h. */
#include "pn_vec_scalar.h"
#include "scale_body.h"
