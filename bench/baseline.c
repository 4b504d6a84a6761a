/* The hardware baseline of bench/run.sh: the same access patterns as the MemScript workloads, on
   real memory of this machine. Prints one line: WORKLOAD accesses=N seconds=S rate=R peak_kib=K.
   Build: cc -O2 -o baseline baseline.c */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

static volatile uint64_t sink;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* SplitMix64, as MemScript's `random` uses. */
static uint64_t state;
static uint64_t next(void) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static char *map(uint64_t size, int populate) {
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (populate ? MAP_POPULATE : 0), -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    return p;
}

static void report(const char *name, uint64_t accesses, double seconds) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    printf("%s accesses=%llu seconds=%.6f rate=%.0f peak_kib=%ld\n", name, (unsigned long long)accesses, seconds,
           accesses / (seconds > 1e-9 ? seconds : 1e-9), u.ru_maxrss);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: baseline hit|walk|demand|loop|replay ARG [ARG]\n"); return 2; }
    const char *w = argv[1];
    uint64_t sum = 0;
    if (!strcmp(w, "hit")) {                       /* sweep 64 KiB, stride 8, TIMES times */
        uint64_t times = strtoull(argv[2], 0, 0), n = 0;
        char *p = map(64 << 10, 1);
        double t = now();
        for (uint64_t k = 0; k < times; k++)
            for (uint64_t o = 0; o < (64 << 10); o += 8, n++) sum += *(volatile uint64_t *)(p + o);
        report(w, n, now() - t);
    } else if (!strcmp(w, "walk")) {               /* COUNT random 8-byte reads over SIZE bytes */
        uint64_t size = strtoull(argv[2], 0, 0), count = strtoull(argv[3], 0, 0);
        char *p = map(size, 1);
        state = 1;
        double t = now();
        for (uint64_t i = 0; i < count; i++) sum += *(volatile uint64_t *)(p + next() % (size / 8) * 8);
        report(w, count, now() - t);
    } else if (!strcmp(w, "demand")) {             /* first touch of SIZE bytes, one write per 4 KiB page */
        uint64_t size = strtoull(argv[2], 0, 0), n = 0;
        char *p = map(size, 0);
        double t = now();
        for (uint64_t o = 0; o < size; o += 4096, n++) p[o] = 1;
        report(w, n, now() - t);
    } else if (!strcmp(w, "loop")) {               /* read base + (i * 64) % 64 KiB */
        uint64_t count = strtoull(argv[2], 0, 0);
        char *p = map(64 << 10, 1);
        double t = now();
        for (uint64_t i = 0; i < count; i++) sum += *(volatile uint64_t *)(p + (i * 64) % (64 << 10));
        report(w, count, now() - t);
    } else if (!strcmp(w, "replay")) {             /* read a lackey trace and parse every address */
        FILE *f = fopen(argv[2], "r");
        if (!f) { perror(argv[2]); return 1; }
        char line[256];
        uint64_t n = 0;
        double t = now();
        while (fgets(line, sizeof line, f)) {
            if (line[0] == '=' || line[0] == '\n') continue;
            sum += strtoull(line + 3, 0, 16);
            n++;
        }
        report(w, n, now() - t);
        fclose(f);
    } else { fprintf(stderr, "unknown workload %s\n", w); return 2; }
    sink = sum;
    return 0;
}
