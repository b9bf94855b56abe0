// SPDX-License-Identifier: Apache-2.0
// Just enough of an 8250 UART for the kernel's polled console write: every byte written to
// THR goes to stderr. Only on the bus with --console, so without it the kernel finds no UART.
#include <stdio.h>

#include "vm.h"

#define UART_THR 0
#define UART_IIR 2
#define UART_LCR 3
#define UART_LSR 5
#define UART_LSR_THRE_TEMT 0x60
#define UART_IIR_NO_INT 0x01
#define UART_LCR_DLAB 0x80

void serial_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool write)
{
	static uint8_t lcr, scratch;
	(void)opaque;
	if (len != 1)
		return;
	if (write) {
		if (off == UART_THR && !(lcr & UART_LCR_DLAB))
			fputc(data[0], stderr);
		else if (off == UART_LCR)
			lcr = data[0];
		else if (off == 7)
			scratch = data[0];
		return;
	}
	switch (off) {
	case UART_LSR: data[0] = UART_LSR_THRE_TEMT; break;
	case UART_IIR: data[0] = UART_IIR_NO_INT; break;
	case UART_LCR: data[0] = lcr; break;
	case 7: data[0] = scratch; break;
	default: data[0] = 0; break;
	}
}
