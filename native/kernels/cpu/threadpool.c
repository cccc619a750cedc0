/* threadpool.c — persistent pthread pool (created lazily), one job at a time.
 *
 * A job is fn(ctx, chunk) for chunk in [0, chunks); an atomic counter hands out chunks and the
 * calling thread takes part. One job runs at a time: a caller that finds the pool busy (another
 * host thread is using it) runs its job alone on its own thread instead of waiting, so
 * concurrent callers never deadlock. The pool stays reachable for the life of the process. */

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "pn_internal.h"

#define PN_MAX_THREADS 256

typedef struct pn_pool {
    pthread_mutex_t submit;   /* held by the caller that owns the pool for a job */
    pthread_mutex_t lock;     /* protects the fields below */
    pthread_cond_t wake;
    pthread_cond_t done;
    int nworkers;             /* created so far */
    uint64_t generation;      /* bumped per job */
    int participants;         /* workers (index < participants) that take part */
    int running;              /* participating workers not finished yet */
    pn_task_fn fn;
    void* ctx;
    int64_t chunks;
    _Atomic int64_t next;
    pthread_t threads[PN_MAX_THREADS];
    uint64_t start_generation[PN_MAX_THREADS]; /* generation before the worker was created */
} pn_pool;

static pn_pool g_pool = {
    .submit = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
};

static void run_chunks(pn_pool* p)
{
    for (;;) {
        int64_t c = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (c >= p->chunks) break;
        p->fn(p->ctx, c);
    }
}

static void* worker_main(void* arg)
{
    int index = (int)(intptr_t)arg;
    pn_pool* p = &g_pool;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->lock);
    seen = p->start_generation[index];
    for (;;) {
        while (p->generation == seen) pthread_cond_wait(&p->wake, &p->lock);
        seen = p->generation;
        if (index >= p->participants) continue;
        pthread_mutex_unlock(&p->lock);
        run_chunks(p);
        pthread_mutex_lock(&p->lock);
        if (--p->running == 0) pthread_cond_signal(&p->done);
    }
    return NULL;
}

int pn_logical_cpus(void)
{
    static _Atomic int cached = 0;
    int n = atomic_load_explicit(&cached, memory_order_relaxed);
    if (n > 0) return n;
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
#endif
    if (n <= 0) n = 1;
    if (n > PN_MAX_THREADS) n = PN_MAX_THREADS;
    atomic_store_explicit(&cached, n, memory_order_relaxed);
    return n;
}

int pn_effective_threads(int32_t threads, int64_t work, int64_t min_work)
{
    int64_t t = threads <= 0 ? pn_logical_cpus() : threads;
    if (t > PN_MAX_THREADS) t = PN_MAX_THREADS;
    if (min_work > 0) {
        int64_t by_work = work / min_work;
        if (by_work < 1) by_work = 1;
        if (t > by_work) t = by_work;
    }
    return (int)t;
}

double pn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void pn_parallel_for(int64_t chunks, int threads, pn_task_fn fn, void* ctx)
{
    pn_pool* p = &g_pool;
    if (chunks <= 0) return;
    if (threads > chunks) threads = (int)chunks;
    if (threads > PN_MAX_THREADS) threads = PN_MAX_THREADS;
    if (threads <= 1 || pthread_mutex_trylock(&p->submit) != 0) {
        for (int64_t c = 0; c < chunks; c++) fn(ctx, c);
        return;
    }
    pthread_mutex_lock(&p->lock);
    while (p->nworkers < threads - 1) {
        p->start_generation[p->nworkers] = p->generation;
        if (pthread_create(&p->threads[p->nworkers], NULL, worker_main,
                           (void*)(intptr_t)p->nworkers) != 0)
            break;
        p->nworkers++;
    }
    int helpers = threads - 1 < p->nworkers ? threads - 1 : p->nworkers;
    p->fn = fn;
    p->ctx = ctx;
    p->chunks = chunks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    p->participants = helpers;
    p->running = helpers;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);

    run_chunks(p);

    pthread_mutex_lock(&p->lock);
    while (p->running > 0) pthread_cond_wait(&p->done, &p->lock);
    p->fn = NULL;
    p->ctx = NULL;
    pthread_mutex_unlock(&p->lock);
    pthread_mutex_unlock(&p->submit);
}
