// SPDX-License-Identifier: Apache-2.0
// The I/O thread, woken only by what it watches on its io_uring (ioring.c) or by a deadline:
// sends a restored VM its launch spec; forwards clearvm's stdin (with -i) to the guest's stdin
// port, ending in EOF, SIGINT/SIGTERM/SIGHUP to the workload through the control port, and with
// -t the terminal's size whenever SIGWINCH says it changed; a workload still there
// --stop-timeout seconds after a forwarded signal gets SIGKILL, as under docker, and a guest
// that has not ended a moment after that (hung, or never got as far as running it) is stopped.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "../guest-init/abi.h"
#include "vm.h"

#define KILL_GRACE_MS 2000
#define OUT_POLLFDS 8 // console ports whose readers have output waiting // after SIGKILL, how long the guest gets to report before it is stopped

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_control(struct vm *vm, const struct abi_control *m)
{
	virtio_console_send(vm->console, ABI_PORT_CONTROL, m, sizeof(*m));
}

static void send_signal(struct vm *vm, int sig)
{
	send_control(vm, &(struct abi_control){.kind = ABI_CONTROL_SIGNAL, .signal = (uint8_t)sig});
}

static void send_size(struct vm *vm)
{
	struct abi_control m = {.kind = ABI_CONTROL_RESIZE};
	if (tty_size(&m.rows, &m.cols))
		send_control(vm, &m);
}

// A restored VM's launch spec, into the spec port as the guest takes it, then EOF. Returns
// whether some is still to send.
static bool pump_spec(struct vm *vm)
{
	if (!vm->spec || vm->spec_sent == vm->spec_len)
		return false;
	ssize_t put = virtio_console_send(vm->console, ABI_PORT_SPEC, vm->spec + vm->spec_sent,
					  vm->spec_len - vm->spec_sent);
	if (put > 0)
		vm->spec_sent += (size_t)put;
	if (vm->spec_sent < vm->spec_len)
		return true;
	virtio_console_close(vm->console, ABI_PORT_SPEC);
	return false;
}

// The I/O thread cannot go on: the VM is stopped with a message (a silent end would leave
// signals unforwarded and stdin unread while the guest runs on).
static void *evloop_failed(struct vm *vm, const char *what, int err)
{
	char why[128];
	snprintf(why, sizeof(why), "I/O thread: %s: %s", what, strerror(err));
	vm_finish(vm, EXIT_CLEARVM_FAILED, why);
	return NULL;
}

static void *evloop_thread(void *arg)
{
	struct vm *vm = arg;
	static struct console_pump in; // clearvm's stdin into the stdin port (-i)
	in.open = vm->cfg->interactive;
	// A hidden test hook: the ring is broken under the loop (its fd closed), so its wait fails.
	const char *hook = getenv("CLEARVM_TEST_IO_FAILURE");
	if (hook && !strcmp(hook, "wait"))
		close(vm->ioring.ring.ring_fd);
	if (seccomp_enter(SECCOMP_IO, vm->cfg->seccomp) < 0) {
		vm_finish(vm, EXIT_CLEARVM_FAILED, "I/O thread: seccomp filter");
		return NULL;
	}
	int64_t kill_at = -1, stop_at = -1;
	bool spec_left = pump_spec(vm), stopping = false;
	for (;;) {
		// The stop request, signals, stdin, the console's "output waits" and its readers that
		// have not taken all yet (POLLOUT), the enter channel.
		struct pollfd fds[4 + OUT_POLLFDS + ENTER_POLLFDS] = {
			{.fd = stopping ? -1 : vm->stop_fd, .events = POLLIN},
			{.fd = vm->signal_fd, .events = POLLIN},
			{.fd = virtio_console_pump_wants_input(&in) && !stopping ? STDIN_FILENO : -1, .events = POLLIN},
			{.fd = virtio_console_out_wake_fd(vm->console), .events = POLLIN},
		};
		for (unsigned i = 4; i < 4 + OUT_POLLFDS + ENTER_POLLFDS; i++)
			fds[i].fd = -1;
		unsigned nout = virtio_console_out_pollfds(vm->console, fds + 4, OUT_POLLFDS);
		if (stopping && (nout == 0 || (vm->deadline_ms && now_ms() >= vm->deadline_ms)))
			return NULL; // all written, or --timeout's end
		struct pollfd *enter_fds = fds + 4 + OUT_POLLFDS;
		// No timer but the deadlines: a port that was full wakes this loop when it has room.
		int timeout = -1;
		if (!stopping)
			enter_pollfds(vm, enter_fds);
		if (stopping && vm->deadline_ms)
			timeout = (int)MAX(0, vm->deadline_ms - now_ms());
		int64_t next = stop_at >= 0 ? stop_at : kill_at;
		if (next >= 0) {
			int64_t left = next - now_ms();
			timeout = (int)MAX(0, timeout < 0 ? left : MIN(left, timeout));
		}
		static short revents[IORING_SLOTS];
		for (unsigned i = 0; i < ARRAY_SIZE(fds); i++)
			ioring_want(&vm->ioring, i, fds[i].fd, fds[i].events);
		int fired = ioring_wait(&vm->ioring, timeout, revents);
		if (fired < 0)
			return evloop_failed(vm, "io_uring wait", -fired);
		for (unsigned i = 0; i < ARRAY_SIZE(fds); i++)
			fds[i].revents = fds[i].fd >= 0 ? revents[i] : 0;
		if (fds[3].revents & POLLIN) { // output waits, or a full port has room: both looked at below
			uint64_t v;
			if (read(fds[3].fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_debug("console wake: %s", strerror(errno));
		}
		for (unsigned i = 0; i < nout; i++)
			if (fds[4 + i].revents)
				virtio_console_out_ready(vm->console, fds[4 + i].fd);
		if (stopping) {
			if (fds[1].revents & POLLIN)
				return NULL; // a signal while draining: clearvm ends now
			continue;
		}
		if (fds[0].revents) {
			uint64_t v;
			if (!vm->drain || read(vm->stop_fd, &v, sizeof(v)) < 0)
				return NULL;
			stopping = true; // the run is over: only the output left to write
			continue;
		}
		enter_events(vm, enter_fds);
		if (spec_left)
			spec_left = pump_spec(vm);
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si = {0};
			if (read(vm->signal_fd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo == SIGWINCH) {
				send_size(vm);
			} else if (si.ssi_signo) {
				log_debug("forwarding signal %u", si.ssi_signo);
				send_signal(vm, (int)si.ssi_signo);
				if (kill_at < 0)
					kill_at = now_ms() + (int64_t)vm->cfg->stop_timeout_s * 1000;
			}
		}
		virtio_console_pump(vm->console, ABI_PORT_STDIN, STDIN_FILENO, &in,
				    fds[2].fd >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)));
		if (kill_at >= 0 && stop_at < 0 && now_ms() >= kill_at) {
			log_msg("the command did not stop within %u s of the signal: killing it",
				vm->cfg->stop_timeout_s);
			send_signal(vm, SIGKILL);
			stop_at = now_ms() + KILL_GRACE_MS;
		}
		if (stop_at >= 0 && now_ms() >= stop_at) {
			vm_finish(vm, 128 + SIGKILL, "the guest did not end after SIGKILL: stopped it");
			stop_at = INT64_MAX;
		}
	}
}

int evloop_start(struct vm *vm)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (vm->cfg->tty)
		sigaddset(&set, SIGWINCH);
	// Blocked in every thread (they inherit it): only the signalfd sees them.
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	vm->signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
	vm->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (vm->signal_fd < 0 || vm->stop_fd < 0)
		return log_err(errno, "signalfd/eventfd");
	int r = ioring_init(&vm->ioring);
	if (r < 0)
		return log_err(r, "the I/O thread's io_uring");
	r = pthread_create(&vm->evloop, NULL, evloop_thread, vm);
	if (r)
		return log_err(r, "starting the I/O thread");
	vm->evloop_started = true;
	return 0;
}

void evloop_stop(struct vm *vm, bool drain)
{
	if (!vm->evloop_started)
		return;
	vm->drain = drain;
	uint64_t one = 1;
	if (write(vm->stop_fd, &one, sizeof(one)) < 0)
		log_debug("evloop stop: %s", strerror(errno));
	pthread_join(vm->evloop, NULL);
	vm->evloop_started = false;
	ioring_exit(&vm->ioring);
}
