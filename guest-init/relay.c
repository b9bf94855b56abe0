// SPDX-License-Identifier: Apache-2.0
// The relay: PID 1 (or an enter session's helper) moves the workload's output to its ports and
// the stdin port to the workload, acts on control messages, reaps children, and ends when the
// workloads have ended and their output is drained.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

#define POD_STOP_GRACE_S 10 // after a pod's app failed, how long the others get to end on SIGTERM

int sigchld_fd = -1;

// Acts on complete control messages in buf[0..*len), keeping a partial one for later.
static void control(unsigned char *buf, size_t *len, const struct workload *ws, unsigned n, int tty_fd)
{
	size_t off = 0;
	for (; *len - off >= sizeof(struct abi_control); off += sizeof(struct abi_control)) {
		struct abi_control m;
		memcpy(&m, buf + off, sizeof(m));
		if (m.kind == ABI_CONTROL_ENTER_SIGNAL || m.kind == ABI_CONTROL_ENTER_RESIZE) {
			enter_control(m);
			continue;
		}
		for (unsigned i = 0; m.kind == ABI_CONTROL_SIGNAL && i < n; i++)
			if (ws[i].status < 0) // forwarded by the host: SIGINT, SIGTERM, SIGHUP, SIGKILL
				kill(ws[i].pid, m.signal);
		if (m.kind == ABI_CONTROL_RESIZE && tty_fd >= 0) {
			struct winsize wsz = {.ws_row = m.rows, .ws_col = m.cols};
			ioctl(tty_fd, TIOCSWINSZ, &wsz); // the kernel sends SIGWINCH to the foreground group
		}
	}
	memmove(buf, buf + off, *len - off);
	*len -= off;
}

// Records a reaped workload's status (returned; -1 when pid was none of them); a pod's app's
// is told to the VMM at once.
static int reaped(struct workload *ws, unsigned n, pid_t pid, int wstatus, bool pod)
{
	for (unsigned i = 0; i < n; i++) {
		if (ws[i].pid != pid || ws[i].status >= 0)
			continue;
		ws[i].status = exit_status(wstatus);
		// Stopped because another app failed, and ended by that: stopped cleanly, 0, as
		// rkt's own stage1 reports it (its own failure, or another signal, stays).
		if (ws[i].stopped && WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGTERM)
			ws[i].status = 0;
		int e = 0;
		if (read(ws[i].errpipe, &e, sizeof(e)) == (ssize_t)sizeof(e))
			say("clearvm: %s: %s", ws[i].argv[0], strerror(e));
		close(ws[i].errpipe);
		if (pod)
			outl(i << 16 | (unsigned)ws[i].status, ABI_APP_EXIT_PORT);
		return ws[i].status;
	}
	return -1;
}

// Relays the workload's output (out_r, err_r) to its ports and the stdin port to in_w until
// the workload ends; then stops whatever it left behind (as docker does) and drains what is
// still buffered.
int relay_run(struct relay *rl)
{
	struct workload *ws = rl->ws;
	unsigned n = rl->n;
	bool pod = rl->pod, pid1 = rl->pid1, tty = rl->tty, enter = pid1 && rl->enter;
	int port_in = rl->port_in, in_w = rl->in_w, out_r = rl->out_r;
	int status = -1; // all ended: the first non-zero status in the order they ended, else 0
	int first_failure = -1;
	struct pollfd fds[7] = {{.fd = out_r, .events = POLLIN}, {.fd = rl->err_r, .events = POLLIN},
				{.fd = rl->port_ctl, .events = POLLIN}, {.fd = port_in, .events = POLLIN},
				{.fd = -1, .events = POLLOUT}, {.fd = -1, .events = POLLIN},
				{.fd = sigchld_fd, .events = POLLIN}};
	int dst[2] = {rl->port_out, err_fd};
	static char buf[65536], inbuf[16384];
	static unsigned char ctl[64];
	size_t inlen = 0, inoff = 0, ctllen = 0;
	bool killed = false;
	struct timespec pod_kill_at = {0}; // a pod whose app failed: when the others get SIGKILL
	for (;;) {
		int wstatus;
		pid_t w;
		while ((w = waitpid(-1, &wstatus, WNOHANG)) > 0) {
			int st = reaped(ws, n, w, wstatus, pod);
			if (st > 0 && first_failure < 0) {
				first_failure = st;
				// As rkt's own stage1 does: an app that fails stops the pod. The others
				// get SIGTERM, and SIGKILL if they are still there 10 s later.
				for (unsigned i = 0; pod && i < n; i++)
					if (ws[i].status < 0) {
						ws[i].stopped = true;
						kill(ws[i].pid, SIGTERM);
					}
				clock_gettime(CLOCK_MONOTONIC, &pod_kill_at);
				pod_kill_at.tv_sec += POD_STOP_GRACE_S;
			}
			if (enter)
				enter_reaped(w);
		}
		bool over = true;
		for (unsigned i = 0; i < n; i++)
			over = over && ws[i].status >= 0;
		if (pod && !over && pod_kill_at.tv_sec) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			for (unsigned i = 0; now.tv_sec >= pod_kill_at.tv_sec && i < n; i++)
				if (ws[i].status < 0)
					kill(ws[i].pid, SIGKILL);
		}
		if (over)
			status = first_failure > 0 ? first_failure : 0;
		// Over: what the workloads left behind is stopped (as docker does); an enter session's
		// command takes what it left in its process group along, whose output would hold the
		// session open.
		if (status >= 0 && !killed) {
			kill(pid1 ? -1 : -ws[0].pid, SIGKILL);
			killed = true;
		}
		if (fds[0].fd < 0 && fds[1].fd < 0 && status >= 0)
			break;
		if (status >= 0 && in_w >= 0) { // nobody reads stdin any more
			if (!tty)
				close(in_w);
			in_w = -1;
		}
		// stdin: read the port only when the workload has taken what came before.
		fds[3].fd = status < 0 && inlen == inoff ? port_in : -1;
		fds[4].fd = status < 0 && inlen > inoff ? in_w : -1;
		fds[5].fd = enter && status < 0 ? enter_requests : -1;
		// Woken by output, input, a request, or SIGCHLD; the one timer is the pod's SIGKILL.
		int timeout = -1;
		if (pod && !over && pod_kill_at.tv_sec) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			timeout = (int)MAX(0, (pod_kill_at.tv_sec - now.tv_sec) * 1000 +
						      (pod_kill_at.tv_nsec - now.tv_nsec) / 1000000 + 1);
		}
		int r = poll(fds, 7, timeout);
		if (r < 0 && errno != EINTR)
			fail("poll");
		if (fds[6].revents & POLLIN) { // the children are reaped at the top of the loop
			struct signalfd_siginfo si;
			while (read(sigchld_fd, &si, sizeof(si)) > 0)
				;
		}
		if (fds[5].fd >= 0 && (fds[5].revents & POLLIN))
			enter_read();
		if (enter && status < 0)
			enter_start(ws, n, pod);
		if (fds[2].fd >= 0 && (fds[2].revents & POLLIN)) {
			ssize_t got = read(rl->port_ctl, ctl + ctllen, sizeof(ctl) - ctllen);
			if (got > 0 && status < 0) {
				ctllen += (size_t)got;
				control(ctl, &ctllen, ws, n, tty ? out_r : -1);
			}
		}
		if (fds[3].fd >= 0 && (fds[3].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t got = read(port_in, inbuf, sizeof(inbuf));
			if (got > 0) {
				inlen = (size_t)got;
				inoff = 0;
			} else if (got == 0 || errno != EAGAIN) { // the host closed stdin: EOF
				close(port_in);
				port_in = -1;
				if (!tty) // a terminal has no EOF of its own: the pty stays open
					close(in_w);
				in_w = tty ? in_w : -1;
			}
		}
		if (fds[4].fd >= 0 && (fds[4].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t put = write(in_w, inbuf + inoff, inlen - inoff);
			if (put > 0)
				inoff += (size_t)put;
			else if (put < 0 && errno != EAGAIN) // the workload closed its stdin
				inoff = inlen;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t got = read(fds[i].fd, buf, sizeof(buf));
			if (got <= 0) { // EOF, or EIO from a pty master nobody holds the slave of
				close(fds[i].fd);
				fds[i].fd = -1;
				continue;
			}
			for (ssize_t off = 0; off < got;) {
				ssize_t wr = write(dst[i], buf + off, (size_t)(got - off));
				if (wr < 0 && errno != EINTR)
					break;
				off += wr > 0 ? wr : 0;
			}
		}
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return status;
}
