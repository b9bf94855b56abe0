// SPDX-License-Identifier: Apache-2.0
// The I/O thread (evloop.c) and everything it owns: clearvm's stdin and the forwarded
// signals, the stop request, its io_uring, a restored VM's launch spec, the rkt enter socket
// and the caller's hooks. It serves one machine (struct vm) through that machine's console and
// guest ports; the machine knows nothing of it.
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../guest-init/abi.h"
#include "config.h"
#include "enter.h"
#include "ioring.h"

struct vm;

// What a caller (the rkt stage1) learns while the VM runs; called on the I/O thread.
struct vm_hooks {
	void *ctx;
	void (*app_exited)(void *ctx, unsigned app, int status); // a pod's app ended
	void (*milestone)(void *ctx, unsigned milestone);        // ABI_MILESTONE_* reached
};

struct io_thread {
	struct vm *vm; // the machine served: its console and guest ports
	const struct vm_config *cfg;
	struct vm_hooks hooks;
	uint8_t *spec; // a restored VM's launch spec, sent on the spec port (NULL: a cold boot)
	size_t spec_len, spec_sent;
	struct enter enter; // enter sessions: rkt enter (cfg->enter_socket), OCI exec (cfg->exec)
	int signal_fd, stop_fd; // the forwarded signals, and the stop request
	struct ioring ring;     // the one wait
	pthread_t thread;
	bool started;
	bool drain;          // evloop_stop: write out the output readers have not taken first
	int64_t deadline_ms; // --timeout's end on CLOCK_MONOTONIC (ms), 0: none
};

// A control message to guest-init (guest-init/abi.h), on the I/O thread.
void send_control(struct io_thread *io, const struct abi_control *m);

// No fds yet, nothing started: what io_thread_destroy takes as it is.
void io_thread_init(struct io_thread *io, struct vm *vm, const struct vm_config *cfg);
// A restored VM's launch spec and the enter socket, once the VM is built (before privileges
// are dropped). 0 or -errno (logged).
int io_thread_prepare(struct io_thread *io, bool restored);
// Starts the thread (the stop signals blocked in every thread from here on). 0 or -errno.
int evloop_start(struct io_thread *io);
// Stops the thread; with drain, once the output the host's readers have not taken yet is
// written (or a signal came, or --timeout's deadline passed).
void evloop_stop(struct io_thread *io, bool drain);
void io_thread_destroy(struct io_thread *io);
