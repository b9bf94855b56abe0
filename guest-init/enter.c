// SPDX-License-Identifier: Apache-2.0
// rkt enter in the guest (pods only): requests come on the "enter" port (struct abi_enter_header, then
// NUL-terminated strings: the app's name, argc arguments, then KEY=VALUE environment); one
// session at a time runs in a helper process, whose command's stdio goes through the
// enter-stdout/-stderr/-stdin ports and whose status goes to ABI_ENTER_EXIT_PORT.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/io.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

int enter_ports[4] = {-1, -1, -1, -1};
pid_t enter_helper = -1;
static unsigned char enter_buf[sizeof(struct abi_enter_header) + ABI_ENTER_MAX];
static size_t enter_len;

void enter_read(void)
{
	ssize_t got = read(enter_ports[0], enter_buf + enter_len, sizeof(enter_buf) - enter_len);
	if (got > 0)
		enter_len += (size_t)got;
}

// Splits a request's strings; false when it is malformed. argv and env point into buf.
static bool enter_parse(unsigned char *buf, size_t len, unsigned argc, const char **app, char **argv,
			char **env, size_t max)
{
	size_t i = 0, k = 0, e = 0;
	const char *strs[ABI_ENTER_MAX_STRINGS];
	while (i < len && k < ABI_ENTER_MAX_STRINGS) {
		unsigned char *nul = memchr(buf + i, '\0', len - i);
		if (!nul)
			return false;
		strs[k++] = (const char *)buf + i;
		i = (size_t)(nul - buf) + 1;
	}
	if (i != len || k < 1 + argc || argc == 0 || argc >= max || k - 1 - argc >= max)
		return false;
	*app = strs[0];
	for (unsigned a = 0; a < argc; a++)
		argv[a] = (char *)strs[1 + a];
	argv[argc] = NULL;
	for (size_t j = 1 + argc; j < k; j++)
		env[e++] = (char *)strs[j];
	env[e] = NULL;
	return true;
}

// The helper: runs the command in the app's root as root, relays its stdio, reports its status,
// then reads the stdin port to the EOF the host sends once it has the status, so nothing of
// this session is left for the next.
static __attribute__((noreturn)) void enter_session(const struct abi_enter_header *h, const unsigned char *req,
						    const struct workload *ws, unsigned n)
{
	size_t size = h->size;
	unsigned argc = h->argc;
	bool tty = h->flags & ABI_ENTER_TTY;
	static unsigned char strings[ABI_ENTER_MAX];
	static char *argv[ABI_ENTER_MAX_STRINGS], *env[ABI_ENTER_MAX_STRINGS];
	memcpy(strings, req, size);
	err_fd = enter_ports[2];
	const char *app = NULL;
	struct workload cmd = {.cwd = "/", .status = -1, .argv = argv, .env = env};
	int status = ABI_STATUS_INIT_FAILED;
	if (!enter_parse(strings, size, argc, &app, argv, env, ABI_ENTER_MAX_STRINGS)) {
		say("clearvm: guest-init: a malformed enter request");
	} else {
		unsigned i = 0;
		while (i < n && strcmp(ws[i].name, app))
			i++;
		if (i == n) {
			say("clearvm: enter: no app named %s in this pod", app);
		} else {
			memcpy(cmd.root, ws[i].root, sizeof(cmd.root));
			int outp[2], errp[2] = {-1, -1}, inp[2], execp[2];
			struct stat st;
			if (tty && stat("/dev/pts/ptmx", &st) < 0) // the pod's first terminal
				mount_devpts("/dev/pts");
			if ((tty && open_pty(0, h->rows, h->cols, outp, inp) < 0) ||
			    (!tty && (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(inp, O_CLOEXEC) < 0)) ||
			    pipe2(execp, O_CLOEXEC) < 0 || fcntl(inp[1], F_SETFL, O_NONBLOCK) < 0 ||
			    (cmd.pid = fork()) < 0) {
				say("clearvm: guest-init: enter: %s", strerror(errno));
			} else {
				if (cmd.pid == 0)
					child(&cmd, inp[0], outp[1], tty ? outp[1] : errp[1], tty, execp[1]);
				close(outp[1]); // with a tty, the slave
				if (!tty) {
					close(errp[1]);
					close(inp[0]);
				}
				close(execp[1]);
				cmd.errpipe = execp[0];
				struct relay rl = {.ws = &cmd, .n = 1, .port_out = enter_ports[1], .port_ctl = -1,
						   .port_in = dup(enter_ports[3]), .out_r = outp[0], .err_r = errp[0],
						   .in_w = inp[1], .tty = tty};
				status = relay_run(&rl);
			}
		}
	}
	outl((unsigned)status, ABI_ENTER_EXIT_PORT);
	char sink[4096];
	struct pollfd in = {.fd = enter_ports[3], .events = POLLIN};
	while (poll(&in, 1, -1) >= 0) {
		ssize_t got = read(enter_ports[3], sink, sizeof(sink));
		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
	_exit(0);
}

// Starts a session for the next complete request, if any.
void enter_start(struct workload *ws, unsigned n)
{
	struct abi_enter_header h;
	if (enter_len < sizeof(h))
		return;
	memcpy(&h, enter_buf, sizeof(h));
	if (h.size > ABI_ENTER_MAX) { // a broken stream: nothing after it can be trusted
		enter_len = 0;
		return;
	}
	size_t total = sizeof(h) + h.size;
	if (enter_len < total)
		return;
	enter_helper = fork();
	if (enter_helper == 0)
		enter_session(&h, enter_buf + sizeof(h), ws, n);
	if (enter_helper < 0)
		say("clearvm: guest-init: enter: fork: %s", strerror(errno));
	memmove(enter_buf, enter_buf + total, enter_len - total);
	enter_len -= total;
}
