/* Bare-metal start-up for QEMU mps2-an386 (Cortex-M4F): vector table, .data/.bss set-up, FPU
 * enable, stack painting (for the high-water mark), then main(); its return value is the exit
 * status, passed to the host through semihosting. */
#include <stdint.h>

#include "semihost.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern uint32_t __stack_bottom, __stack_top;
int main(void);
void Reset_Handler(void);
void Default_Handler(void);

#define STACK_PAINT 0xC0FFEE11u

__attribute__((section(".vectors"), used)) static const void* const vectors[16] = {
    &__stack_top,
    (void*)Reset_Handler,
    (void*)Default_Handler,
    (void*)Default_Handler,
    (void*)Default_Handler,
    (void*)Default_Handler,
    (void*)Default_Handler,
    0,
    0,
    0,
    0,
    (void*)Default_Handler,
    (void*)Default_Handler,
    0,
    (void*)Default_Handler,
    (void*)Default_Handler};

void Default_Handler(void) {
  semihost_write("fault\n");
  semihost_exit(99);
}

uint32_t stack_high_water(void) {
  const uint32_t* p = &__stack_bottom;
  while (p < &__stack_top && *p == STACK_PAINT) ++p;
  return (uint32_t)((const char*)&__stack_top - (const char*)p);
}

uint32_t stack_size(void) {
  return (uint32_t)((const char*)&__stack_top - (const char*)&__stack_bottom);
}

void Reset_Handler(void) {
  uint32_t *src = &__data_load, *dst = &__data_start;
  volatile uint32_t* p;
  uint32_t here;
  while (dst < &__data_end) *dst++ = *src++;
  for (dst = &__bss_start; dst < &__bss_end; ++dst) *dst = 0;
  /* CP10/CP11 full access: the model's front end uses the single-precision FPU. */
  *(volatile uint32_t*)0xE000ED88u |= 0xFu << 20;
  __asm volatile("dsb\n isb");
  /* Paint the stack below this frame; the unpainted depth later is the high-water mark. */
  for (p = &__stack_bottom; (uint32_t)p < (uint32_t)&here - 64u; ++p) *p = STACK_PAINT;
  semihost_exit(main());
}
