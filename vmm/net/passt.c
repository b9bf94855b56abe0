// SPDX-License-Identifier: Apache-2.0
// passt, the user-mode network backend: clearvm starts it as a child of its own on one end of
// a socketpair (passt --fd), with the guest's address and gateway spelled out so that passt
// and guest-init agree on them, and the published ports. passt confines itself (namespaces,
// seccomp, and as root it becomes nobody); it ends when clearvm's end of the socket closes,
// however clearvm ends, and clearvm reaps it.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util.h"
#include "net.h"

#define PASST_FD 3 // the socket's number in passt
#define PASST_ARGS 64
#define PASST_EXIT_WAIT_MS 1000
#define PASST_SOCKET_BUFFER (16 << 20)

// passt on PATH, as a user would find it (its AVX2 build where it would pick that). 0, or -ENOENT.
static int find_passt(char *path, size_t len)
{
	const char *env = getenv("PATH");
	_cleanup_free_ char *dirs = strdup(env && *env ? env : CONFIG_DEFAULT_PATH);
	if (!dirs)
		return -ENOMEM;
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		int n = snprintf(path, len, "%s/passt", d);
		if (n <= 0 || (size_t)n >= len || access(path, X_OK) != 0)
			continue;
		// On a CPU with AVX2, passt would exec its passt.avx2 build beside it: started
		// directly, one exec less (a start's cost).
		if ((size_t)n + 5 < len && __builtin_cpu_supports("avx2")) {
			strcat(path, ".avx2");
			if (access(path, X_OK) != 0)
				path[n] = '\0';
		}
		return 0;
	}
	return -ENOENT;
}

// The argument strings live in `store` (each one fixed size): no allocation after fork.
struct args {
	char *argv[PASST_ARGS + 1];
	char store[PASST_ARGS][64]; // an IPv6 address and two ports fit
	unsigned n;
};

static void arg(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(struct args *a, const char *fmt, ...)
{
	if (a->n == PASST_ARGS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->store[a->n], sizeof(a->store[0]), fmt, ap);
	va_end(ap);
	a->argv[a->n] = a->store[a->n];
	a->argv[++a->n] = NULL;
}

static void build_args(const struct vm_config *cfg, struct args *a)
{
	const struct vm_net *n = &cfg->net;
	char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	net_ip_str(addr, sizeof(addr), n->addr);
	net_ip_str(gw, sizeof(gw), n->gateway);
	arg(a, "passt");
	arg(a, "--foreground"); // clearvm's child, reaped by clearvm
	arg(a, "--quiet");
	if (geteuid() == 0) { // passt gives up root for nobody; said here, it does so silently
		arg(a, "--runas");
		arg(a, "65534:65534");
	}
	if (n->v6) { // the guest's address and route are set by guest-init, as IPv4's are
		char addr6[INET6_ADDRSTRLEN], gw6[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, n->addr6, addr6, sizeof(addr6));
		inet_ntop(AF_INET6, n->gateway6, gw6, sizeof(gw6));
		arg(a, "--address");
		arg(a, "%s", addr6);
		arg(a, "--gateway");
		arg(a, "%s", gw6);
		arg(a, "--no-ra");
		arg(a, "--no-dhcpv6");
		arg(a, "--dns-forward"); // a resolver on the host's ::1, reached at the gateway
		arg(a, "%s", gw6);
	} else {
		arg(a, "--ipv4-only");
	}
	if (n->v4) {
		arg(a, "--address");
		arg(a, "%s", addr);
		arg(a, "--netmask");
		arg(a, "%u", n->prefix);
		arg(a, "--gateway");
		arg(a, "%s", gw);
		arg(a, "--dns-forward"); // a resolver on the host's loopback, reached at the gateway
		arg(a, "%s", gw);
	} else {
		arg(a, "--ipv6-only");
	}
	arg(a, "--fd");
	arg(a, "%d", PASST_FD);
	arg(a, "--interface");
	arg(a, "%s", n->upstream);
	arg(a, "--mtu");
	arg(a, "%u", n->mtu);
	for (unsigned i = 0; i < cfg->npublish; i++) {
		const struct vm_publish *p = &cfg->publish[i];
		arg(a, p->udp ? "--udp-ports" : "--tcp-ports");
		arg(a, "%s%s%u:%u", p->host_ip, p->host_ip[0] ? "/" : "", p->host_port,
		    p->guest_port);
	}
}

int passt_start(const struct vm_config *cfg, struct net_backend *p)
{
	p->pid = 0;
	p->fd = p->vhost = -1;
	char path[512];
	if (find_passt(path, sizeof(path)) < 0)
		return log_err(0, "network: passt is not installed (apt-get install passt), "
				  "or run with --network none");
	static struct args a; // large: not on the stack
	memset(&a, 0, sizeof(a));
	build_args(cfg, &a);
	if (a.n == PASST_ARGS)
		return log_err(E2BIG, "network: passt's arguments");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return log_err(errno, "network: socketpair");
	// Room on passt's side for what the guest's TCP windows let it send before clearvm takes
	// it: this passt dies by its own seccomp filter on some paths taken when its writes would
	// block.
	int big = PASST_SOCKET_BUFFER;
	if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return log_err(e, "network: starting passt");
	}
	if (pid == 0) {
		// passt gets its socket as fd 3 and /dev/null as stdin; its complaints go to
		// clearvm's stderr. Every other fd of clearvm's is close-on-exec.
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (dup2(sv[1], PASST_FD) < 0 || (null >= 0 && dup2(null, STDIN_FILENO) < 0))
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(path, a.argv);
		_exit(127);
	}
	close(sv[1]);
	p->pid = pid;
	p->fd = sv[0];
	if (fcntl(p->fd, F_SETFL, O_NONBLOCK) < 0) {
		int e = errno;
		net_backend_stop(p);
		return log_err(e, "network: the passt socket");
	}
	return 0;
}

// (Here: what it takes to stop a backend is passt's; a tap's fds are only closed.)
void net_backend_stop(struct net_backend *p)
{
	if (p->vhost >= 0)
		close(p->vhost);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = p->vhost = -1;
	if (p->pid <= 0)
		return;
	// Its socket closed, passt exits; one that has not within a second is killed.
	int pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	int wait_flags = 0;
	if (pidfd >= 0) {
		struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
		if (poll(&pfd, 1, PASST_EXIT_WAIT_MS) == 0 && kill(p->pid, SIGKILL) < 0) {
			log_msg("network: passt (pid %d) did not end and cannot be killed: %s",
				(int)p->pid, strerror(errno));
			wait_flags = WNOHANG; // not waited for forever
		}
		close(pidfd);
	}
	int status = 0;
	while (waitpid(p->pid, &status, wait_flags) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		log_debug("network: passt ended by signal %d", WTERMSIG(status));
	else if (WEXITSTATUS(status))
		log_debug("network: passt exited with %d", WEXITSTATUS(status));
	p->pid = 0;
}
