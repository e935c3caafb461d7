// A two-worker fork–join for the training step: the caller runs task 0 while one dedicated
// helper thread runs task 1. The helper spins briefly on a generation counter (a step's
// fork–joins follow each other within microseconds), then sleeps on a condition variable, so
// an idle helper costs no CPU. Unlike a work-stealing pool, task 1 always runs on the other
// thread: the two halves of every split really overlap.
#include "cofql_kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define OFK_PAUSE() _mm_pause()
#else
#define OFK_PAUSE() ((void)0)
#endif

static pthread_mutex_t pair_start_mutex = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int pair_started = 0;
static pthread_mutex_t pair_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pair_cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t pair_caller = PTHREAD_MUTEX_INITIALIZER;   // one fork–join at a time
static _Atomic uint64_t pair_posted = 0;     // generations handed to the helper
static _Atomic uint64_t pair_done = 0;       // generations the helper finished
static _Atomic int pair_sleeping = 0;
static ofk_pair_fn pair_fn;
static void *pair_ctx;
static _Thread_local int in_pair = 0;        // this thread is running a task

enum { SPINS = 20000 };   // ~50–100 µs of pause instructions before sleeping

static void *pair_helper(void *unused) {
    (void)unused;
    uint64_t seen = 0;
    for (;;) {
        uint64_t g;
        int spins = 0;
        while ((g = atomic_load_explicit(&pair_posted, memory_order_acquire)) == seen) {
            if (++spins < SPINS) { OFK_PAUSE(); continue; }
            pthread_mutex_lock(&pair_mutex);
            atomic_store_explicit(&pair_sleeping, 1, memory_order_seq_cst);
            while ((g = atomic_load_explicit(&pair_posted, memory_order_seq_cst)) == seen) {
                pthread_cond_wait(&pair_cond, &pair_mutex);
            }
            atomic_store_explicit(&pair_sleeping, 0, memory_order_relaxed);
            pthread_mutex_unlock(&pair_mutex);
            break;
        }
        seen = g;
        in_pair = 1;
        pair_fn(pair_ctx, 1);
        in_pair = 0;
        atomic_store_explicit(&pair_done, g, memory_order_release);
    }
    return NULL;
}

// A forked child has no helper thread: it starts its own on first use.
static void pair_after_fork_child(void) {
    atomic_store(&pair_started, 0);
    atomic_store(&pair_posted, 0); atomic_store(&pair_done, 0); atomic_store(&pair_sleeping, 0);
    pthread_mutex_init(&pair_mutex, NULL); pthread_cond_init(&pair_cond, NULL);
    pthread_mutex_init(&pair_caller, NULL); pthread_mutex_init(&pair_start_mutex, NULL);
}

static void pair_start(void) {
    static int atfork_registered = 0;
    if (!atfork_registered) { pthread_atfork(NULL, NULL, pair_after_fork_child); atfork_registered = 1; }
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 8u << 20);
    pthread_create(&t, &attr, pair_helper, NULL);
    pthread_attr_destroy(&attr);
}

void ofk_pair_run(ofk_pair_fn fn, void *ctx) {
    if (in_pair) { fn(ctx, 0); fn(ctx, 1); return; }   // nested: no second helper to hand it to
    if (!atomic_load_explicit(&pair_started, memory_order_acquire)) {
        pthread_mutex_lock(&pair_start_mutex);
        if (!atomic_load_explicit(&pair_started, memory_order_relaxed)) {
            pair_start();
            atomic_store_explicit(&pair_started, 1, memory_order_release);
        }
        pthread_mutex_unlock(&pair_start_mutex);
    }
    pthread_mutex_lock(&pair_caller);
    pair_fn = fn; pair_ctx = ctx;
    uint64_t g = atomic_fetch_add_explicit(&pair_posted, 1, memory_order_seq_cst) + 1;
    if (atomic_load_explicit(&pair_sleeping, memory_order_seq_cst)) {
        pthread_mutex_lock(&pair_mutex);
        pthread_cond_signal(&pair_cond);
        pthread_mutex_unlock(&pair_mutex);
    }
    in_pair = 1;
    fn(ctx, 0);
    in_pair = 0;
    while (atomic_load_explicit(&pair_done, memory_order_acquire) != g) OFK_PAUSE();
    pthread_mutex_unlock(&pair_caller);
}
