/* ARM semihosting calls: SYS_WRITE0 (0x04) and SYS_EXIT_EXTENDED (0x20), whose subcode QEMU
 * returns as its own exit status. */
#include "semihost.h"

static int semihost_call(int op, const void* arg) {
  register int r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void semihost_write(const char* s) {
  semihost_call(0x04, s);
}

void semihost_write_int(long v) {
  char buf[24];
  char* p = buf + sizeof buf - 1;
  unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
  *p = 0;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *--p = '-';
  semihost_write(p);
}

void semihost_exit(int status) {
  /* ADP_Stopped_ApplicationExit with the status as subcode. */
  uint32_t block[2] = {0x20026u, (uint32_t)status};
  semihost_call(0x20, block);
  for (;;) {
  }
}
