/* examples/traces/sum.c: sums a 16 KiB array twice, with no C library, so the recorded trace
   is the program's own loop. Built with: gcc -O1 -static -nostdlib -fno-stack-protector -o sum sum.c */
static long data[2048];

void _start(void) {
    long total = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < 2048; i++) { data[i] += i; total += data[i]; }
    /* exit(total & 1) */
    __asm__ volatile("mov $60, %%eax\n\tsyscall" :: "D"((int)(total & 1)) : "rax");
    __builtin_unreachable();
}
