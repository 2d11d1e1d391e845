/* ARM semihosting (bkpt 0xAB): console output and exit with a status, as QEMU implements it. */
#ifndef SEMIHOST_H
#define SEMIHOST_H
#include <stdint.h>

void semihost_write(const char* s);
void semihost_write_int(long v);
void semihost_exit(int status) __attribute__((noreturn));

#endif
