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
#include "evloop.h"
#include "spec.h"
#include "vm.h"

#define KILL_GRACE_MS 2000 // after SIGKILL, how long the guest gets to report before it is stopped
#define OUT_POLLFDS 16     // console ports whose readers have output waiting (all that write out)

// The watches, by slot: the stop request, signals, stdin, the console's "output waits or a
// full port has room", the guest ports' events, the network card's kick (the guest posted
// buffers) and its backend, then the console's readers that have not taken all yet (POLLOUT)
// and the enter channel.
enum { W_STOP, W_SIGNAL, W_STDIN, W_CONSOLE, W_GUEST, W_NET_KICK, W_NET, W_OUT, W_ENTER = W_OUT + OUT_POLLFDS,
       W_NR = W_ENTER + ENTER_POLLFDS };

void send_control(struct io_thread *io, const struct abi_control *m)
{
	virtio_console_send_whole(io->vm->console, ABI_PORT_CONTROL, m, sizeof(*m));
}

static void send_signal(struct io_thread *io, int sig)
{
	send_control(io, &(struct abi_control){.kind = ABI_CONTROL_SIGNAL, .signal = (uint8_t)sig});
}

static void send_size(struct io_thread *io)
{
	struct abi_control m = {.kind = ABI_CONTROL_RESIZE};
	if (tty_size(&m.rows, &m.cols))
		send_control(io, &m);
}

// A restored VM's launch spec, into the spec port as the guest takes it, then EOF. Returns
// whether some is still to send.
static bool pump_spec(struct io_thread *io)
{
	if (!io->spec || io->spec_sent == io->spec_len)
		return false;
	ssize_t put = virtio_console_send(io->vm->console, ABI_PORT_SPEC, io->spec + io->spec_sent,
					  io->spec_len - io->spec_sent);
	if (put > 0)
		io->spec_sent += (size_t)put;
	if (io->spec_sent < io->spec_len)
		return true;
	virtio_console_close(io->vm->console, ABI_PORT_SPEC);
	return false;
}

// What guest-init wrote to the guest ports since the last look: the rkt stage1's hooks
// (status files) and rkt enter's answers run here, never on a vCPU thread.
static void take_guest_events(struct io_thread *io)
{
	struct guest_event ev;
	while (guest_ports_take(&io->vm->ports, &ev)) {
		switch (ev.kind) {
		case GUEST_EVENT_MILESTONE:
			if (io->hooks.milestone)
				io->hooks.milestone(io->hooks.ctx, ev.a);
			break;
		case GUEST_EVENT_APP_EXITED:
			if (io->hooks.app_exited)
				io->hooks.app_exited(io->hooks.ctx, ev.a, ev.b);
			break;
		case GUEST_EVENT_ENTER_STATUS:
			enter_guest_status(io, ev.a, ev.b);
			break;
		case GUEST_EVENT_ENTER_DONE:
			enter_guest_done(io, ev.a);
			break;
		case GUEST_EVENT_NONE:
			break;
		}
	}
}

// Reads an eventfd that fired (a wake-up: its count does not matter).
static void clear_wake(int fd)
{
	uint64_t v;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("wake eventfd: %s", strerror(errno));
}

// The I/O thread cannot go on: the VM is stopped with a message (a silent end would leave
// signals unforwarded and stdin unread while the guest runs on).
static void *evloop_failed(struct io_thread *io, const char *what, int err)
{
	char why[128];
	snprintf(why, sizeof(why), "I/O thread: %s: %s", what, strerror(err));
	vm_finish(io->vm, EXIT_CLEARVM_FAILED, why);
	return NULL;
}

static void *run_loop(struct io_thread *io)
{
	struct vm *vm = io->vm;
	static struct console_pump in; // clearvm's stdin into the stdin port (-i)
	in.open = io->cfg->interactive;
	// A hidden test hook: the ring is broken under the loop (its fd closed), so its wait fails.
	const char *hook = getenv("CLEARVM_TEST_IO_FAILURE");
	if (hook && !strcmp(hook, "wait"))
		close(io->ring.ring.ring_fd);
	if (seccomp_enter(SECCOMP_IO, io->cfg->seccomp) < 0) {
		vm_finish(vm, EXIT_CLEARVM_FAILED, "I/O thread: seccomp filter");
		return NULL;
	}
	int64_t kill_at = -1, stop_at = -1;
	bool spec_left = pump_spec(io), stopping = false;
	for (;;) {
		struct pollfd fds[W_NR] = {
			[W_STOP] = {.fd = stopping ? -1 : io->stop_fd, .events = POLLIN},
			[W_SIGNAL] = {.fd = io->signal_fd, .events = POLLIN},
			[W_STDIN] = {.fd = virtio_console_pump_wants_input(&in) && !stopping ? STDIN_FILENO : -1,
				     .events = POLLIN},
			[W_CONSOLE] = {.fd = virtio_console_out_wake_fd(vm->console), .events = POLLIN},
			[W_GUEST] = {.fd = vm->ports.wake_fd, .events = POLLIN},
			[W_NET_KICK] = {.fd = vm->nic && !stopping ? virtio_net_kick_fd(vm->nic) : -1, .events = POLLIN},
			[W_NET] = {.fd = -1},
		};
		if (vm->nic && !stopping)
			fds[W_NET].fd = virtio_net_backend_fd(vm->nic, &fds[W_NET].events);
		for (unsigned i = W_OUT; i < W_NR; i++)
			fds[i].fd = -1;
		unsigned nout = virtio_console_out_pollfds(vm->console, fds + W_OUT, OUT_POLLFDS);
		if (stopping && (nout == 0 || (io->deadline_ms && monotonic_ms() >= io->deadline_ms)))
			return NULL; // all written, or --timeout's end
		// No timer but the deadlines: a port that was full wakes this loop when it has room.
		int timeout = -1;
		if (!stopping)
			enter_pollfds(io, fds + W_ENTER);
		if (stopping && io->deadline_ms)
			timeout = (int)MAX(0, io->deadline_ms - monotonic_ms());
		int64_t next = stop_at >= 0 ? stop_at : kill_at;
		if (next >= 0) {
			int64_t left = next - monotonic_ms();
			timeout = (int)MAX(0, timeout < 0 ? left : MIN(left, timeout));
		}
		static short revents[IORING_SLOTS];
		for (unsigned i = 0; i < W_NR; i++)
			ioring_want(&io->ring, i, fds[i].fd, fds[i].events);
		int fired = ioring_wait(&io->ring, timeout, revents);
		if (fired < 0)
			return evloop_failed(io, "io_uring wait", -fired);
		for (unsigned i = 0; i < W_NR; i++)
			fds[i].revents = fds[i].fd >= 0 ? revents[i] : 0;
		if (fds[W_CONSOLE].revents & POLLIN) // both looked at below
			clear_wake(fds[W_CONSOLE].fd);
		if (fds[W_GUEST].revents & POLLIN) {
			clear_wake(fds[W_GUEST].fd);
			take_guest_events(io);
		}
		for (unsigned i = 0; i < nout; i++)
			if (fds[W_OUT + i].revents)
				virtio_console_out_ready(vm->console, fds[W_OUT + i].fd);
		if (stopping) {
			if (fds[W_SIGNAL].revents & POLLIN)
				return NULL; // a signal while draining: clearvm ends now
			continue;
		}
		if (fds[W_STOP].revents) {
			uint64_t v;
			if (!io->drain || read(io->stop_fd, &v, sizeof(v)) < 0)
				return NULL;
			stopping = true; // the run is over: only the output left to write
			continue;
		}
		enter_events(io, fds + W_ENTER);
		// A backend that ends under a running guest ends the run (passt said why on stderr;
		// a tap was deleted).
		if ((fds[W_NET_KICK].revents || fds[W_NET].revents) && virtio_net_run(vm->nic) < 0)
			vm_finish(vm, EXIT_CLEARVM_FAILED,
				  io->cfg->network == NETWORK_TAP ? "network: the tap went away"
								  : "network: the backend (passt) ended");
		if (spec_left)
			spec_left = pump_spec(io);
		if (fds[W_SIGNAL].revents & POLLIN) {
			struct signalfd_siginfo si = {0};
			if (read(io->signal_fd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo == SIGWINCH) {
				send_size(io);
			} else if (si.ssi_signo) {
				log_debug("forwarding signal %u", si.ssi_signo);
				send_signal(io, (int)si.ssi_signo);
				if (kill_at < 0)
					kill_at = monotonic_ms() + (int64_t)io->cfg->stop_timeout_s * 1000;
			}
		}
		virtio_console_pump(vm->console, ABI_PORT_STDIN, STDIN_FILENO, &in,
				    fds[W_STDIN].fd >= 0 && (fds[W_STDIN].revents & (POLLIN | POLLHUP | POLLERR)));
		if (kill_at >= 0 && stop_at < 0 && monotonic_ms() >= kill_at) {
			log_msg("the command did not stop within %u s of the signal: killing it",
				io->cfg->stop_timeout_s);
			send_signal(io, SIGKILL);
			stop_at = monotonic_ms() + KILL_GRACE_MS;
		}
		if (stop_at >= 0 && monotonic_ms() >= stop_at) {
			vm_finish(vm, 128 + SIGKILL, "the guest did not end after SIGKILL: stopped it");
			stop_at = INT64_MAX;
		}
	}
}

// The loop, then what the guest reported last (an app's status written just before the pod's
// status ended the run must still reach rkt's status file).
static void *evloop_thread(void *arg)
{
	struct io_thread *io = arg;
	run_loop(io);
	take_guest_events(io);
	return NULL;
}

void io_thread_init(struct io_thread *io, struct vm *vm, const struct vm_config *cfg)
{
	memset(io, 0, sizeof(*io));
	io->vm = vm;
	io->cfg = cfg;
	io->signal_fd = io->stop_fd = -1;
	enter_init(&io->enter);
}

int io_thread_prepare(struct io_thread *io, bool restored)
{
	int r;
	void *spec = NULL;
	if (restored && (r = spec_build_restored(io->cfg, &spec, &io->spec_len)) < 0)
		return log_err(r, "launch spec");
	io->spec = spec;
	if (io->cfg->enter_socket && (r = enter_listen(io, io->cfg->enter_socket)) < 0)
		return r;
	if (io->cfg->exec && (r = enter_adopt(io, io->cfg->exec_fd)) < 0)
		return r;
	return 0;
}

int evloop_start(struct io_thread *io)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (io->cfg->tty)
		sigaddset(&set, SIGWINCH);
	// Blocked in every thread (they inherit it): only the signalfd sees them.
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	io->signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
	io->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (io->signal_fd < 0 || io->stop_fd < 0)
		return log_err(errno, "signalfd/eventfd");
	// The terminal's size now: the spec has the one it had when it was made, and an OCI
	// container's terminal is sized by the engine after create (its SIGWINCH came before
	// anything here was listening). From here on each resize is a SIGWINCH read above.
	if (io->cfg->tty)
		send_size(io);
	if (io->cfg->timeout_s)
		io->deadline_ms = monotonic_ms() + (int64_t)io->cfg->timeout_s * 1000;
	int r = ioring_init(&io->ring);
	if (r < 0)
		return log_err(r, "the I/O thread's io_uring");
	r = pthread_create(&io->thread, NULL, evloop_thread, io);
	if (r)
		return log_err(r, "starting the I/O thread");
	io->started = true;
	return 0;
}

void evloop_stop(struct io_thread *io, bool drain)
{
	if (!io->started)
		return;
	io->drain = drain;
	uint64_t one = 1;
	if (write(io->stop_fd, &one, sizeof(one)) < 0)
		log_debug("evloop stop: %s", strerror(errno));
	pthread_join(io->thread, NULL);
	io->started = false;
	ioring_exit(&io->ring);
}

void io_thread_destroy(struct io_thread *io)
{
	enter_close(&io->enter);
	if (io->signal_fd >= 0)
		close(io->signal_fd);
	if (io->stop_fd >= 0)
		close(io->stop_fd);
	free(io->spec);
	io->signal_fd = io->stop_fd = -1;
	io->spec = NULL;
}
