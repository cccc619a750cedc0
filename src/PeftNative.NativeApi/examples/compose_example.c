/*
 * compose_example.c — calling libpeftnative.so (peftnative.h) from C.
 *
 *   compose_example compose OUT_DIR EXPRESSION METHOD NAME=DIR [NAME=DIR ...]
 *       composes the adapters by EXPRESSION with METHOD ("-" for the default, paper) into OUT_DIR
 *   compose_example merge MODEL_DIR ADAPTER_DIR OUT_DIR DTYPE THREADS
 *       merges ADAPTER_DIR into MODEL_DIR (DTYPE: -1 keep, 0 f32, 1 f16, 2 bf16)
 *
 * Build: cc -std=c11 -I src/PeftNative.NativeApi/include compose_example.c -L DIR -lpeftnative -Wl,-rpath,DIR
 *
 * Prints "peftnative <version> abi <n>", then "status <code> <message>" (the message is
 * peftnative_last_error(), empty on success), and exits with the status code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peftnative.h"

enum { MAX_ADAPTERS = 16 };

static int usage(void)
{
    fprintf(stderr,
            "usage: compose_example compose OUT_DIR EXPRESSION METHOD NAME=DIR [NAME=DIR ...]\n"
            "       compose_example merge MODEL_DIR ADAPTER_DIR OUT_DIR DTYPE THREADS\n");
    return 64;
}

/* Splits NAME=DIR arguments in place (the '=' becomes the names' terminator). */
static int split_adapters(int count, char** args, const char** names, const char** dirs)
{
    for (int i = 0; i < count; i++) {
        char* eq = strchr(args[i], '=');
        if (eq == NULL || eq == args[i]) {
            fprintf(stderr, "compose_example: '%s' is not NAME=DIR\n", args[i]);
            return 0;
        }
        *eq = '\0';
        names[i] = args[i];
        dirs[i] = eq + 1;
    }
    return 1;
}

/* The status, and on failure the library's message, read right after the failed call on this thread. */
static int report(peftnative_status status)
{
    printf("status %d %s\n", (int)status, status == PEFTNATIVE_OK ? "" : peftnative_last_error());
    return (int)status;
}

int main(int argc, char** argv)
{
    if (peftnative_abi_version() != PEFTNATIVE_ABI_VERSION) {
        fprintf(stderr, "compose_example: libpeftnative has ABI %d, this program needs %d\n",
                (int)peftnative_abi_version(), PEFTNATIVE_ABI_VERSION);
        return 65;
    }
    printf("peftnative %s abi %d\n", peftnative_version(), (int)peftnative_abi_version());

    if (argc >= 6 && strcmp(argv[1], "compose") == 0) {
        int count = argc - 5;
        const char* names[MAX_ADAPTERS];
        const char* dirs[MAX_ADAPTERS];
        if (count > MAX_ADAPTERS || !split_adapters(count, argv + 5, names, dirs))
            return usage();
        const char* method = strcmp(argv[4], "-") == 0 ? NULL : argv[4];
        return report(peftnative_compose(argv[3], names, dirs, count, method, argv[2]));
    }
    if (argc == 7 && strcmp(argv[1], "merge") == 0) {
        int dtype = atoi(argv[5]), threads = atoi(argv[6]);
        return report(peftnative_merge(argv[2], argv[3], argv[4], dtype, threads));
    }
    return usage();
}
