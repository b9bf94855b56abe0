// SPDX-License-Identifier: Apache-2.0
// The enter session client's request on the wire (guest-init/abi.h): what rkt enter and OCI
// exec send is what the VMM and guest-init read, and what does not fit is refused whole.
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "../../vmm/enter_client.h"

static uint8_t buf[sizeof(struct abi_enter_header) + ABI_ENTER_MAX + 64];

// Sends r over a socketpair and receives it as the VMM does: the bytes, and the fds that came.
static ssize_t round_trip(const struct enter_request *r, int *nfds, int *ret)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	*ret = enter_send(sv[0], r);
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(8 * sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b)};
	close(sv[0]);
	ssize_t n = recvmsg(sv[1], &msg, 0);
	*nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n > 0 && c; c = CMSG_NXTHDR(&msg, c)) {
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
		*nfds += k;
	}
	close(sv[1]);
	return n;
}

static void request(void)
{
	char *argv[] = {"/bin/sh", "-c", "id", NULL}, *env[] = {"PATH=/bin", "FOO=bar", NULL};
	uint32_t groups[] = {5, 7};
	struct enter_request r = {.app = "",
				  .cwd = "/tmp",
				  .argv = argv,
				  .env = env,
				  .uid = 1000,
				  .gid = 1001,
				  .groups = groups,
				  .ngroups = 2,
				  .tty = true,
				  .rows = 30,
				  .cols = 100,
				  .rlimits = {{.resource = 7, .soft = 64, .hard = 128}},
				  .nrlimits = 1,
				  .no_new_privs = true};
	int nfds, ret;
	ssize_t n = round_trip(&r, &nfds, &ret);
	struct abi_enter_header h;
	memcpy(&h, buf, sizeof(h));
	is(ret, 0, "a request is sent");
	is(nfds, 3, "with stdin, stdout and stderr attached");
	ok(n > 0 && (size_t)n == sizeof(h) + h.size,
	   "one message: the header and its size's strings");
	ok(h.uid == 1000 && h.gid == 1001 && h.ngroups == 2 && h.groups[0] == 5 && h.groups[1] == 7,
	   "the user: uid, gid and exactly its groups");
	ok((h.flags & ABI_ENTER_TTY) && h.rows == 30 && h.cols == 100, "a terminal of rows x cols");
	ok(h.nrlimits == 1 && h.rlimits[0].resource == 7 && h.rlimits[0].soft == 64 && h.rlimits[0].hard == 128,
	   "its resource limits");
	ok(h.flags & ABI_ENTER_NO_NEW_PRIVS, "no_new_privs");
	is(h.session, 0, "the session is the VMM's to fill in");
	is(h.argc, 3, "argc counts the arguments");
	static const char want[] = "\0/tmp\0/bin/sh\0-c\0id\0PATH=/bin\0FOO=bar";
	ok(h.size == sizeof(want) && !memcmp(buf + sizeof(h), want, sizeof(want)),
	   "strings: the app (\"\" in a container), the cwd, the arguments, the environment");
}

// A pod's later container: its name as the app, its volumes' strings after the arguments, its
// capabilities in the header.
static void container(void)
{
	char *argv[] = {"/bin/true", NULL}, *env[] = {"A=b", NULL};
	const struct vm_volume vols[] = {{.guest = "/data", .readonly = true}, {.guest = "/etc/hosts", .file = true}};
	struct enter_request r = {.app = "c2", .cwd = "/", .argv = argv, .env = env, .container = true,
				  .volumes = vols, .nvolumes = 2, .bound_caps = true, .caps = 1ULL << 21};
	int nfds, ret;
	round_trip(&r, &nfds, &ret);
	struct abi_enter_header h;
	memcpy(&h, buf, sizeof(h));
	is(ret, 0, "a pod's later container's request is sent");
	ok((h.flags & ABI_ENTER_CONTAINER) && (h.flags & ABI_ENTER_BOUND_CAPS) && h.caps == 1ULL << 21,
	   "flagged as one, with its capability set");
	is(h.nvolumes, 2, "nvolumes counts its volumes");
	static const char want[] = "c2\0/\0/bin/true\0rd/data\0wf/etc/hosts\0A=b";
	ok(h.size == sizeof(want) && !memcmp(buf + sizeof(h), want, sizeof(want)),
	   "strings: its name, the cwd, the arguments, each volume (r/w, d/f, target), the environment");
	r.container = false;
	round_trip(&r, &nfds, &ret);
	memcpy(&h, buf, sizeof(h));
	ok(!(h.flags & ABI_ENTER_CONTAINER) && h.nvolumes == 0, "an exec into it: no volumes");
}

static void refused(void)
{
	char *argv[] = {"/bin/true", NULL}, *none[] = {NULL};
	uint32_t groups[ABI_ENTER_MAX_GROUPS + 1] = {0};
	struct enter_request r = {.app = "a",
				  .cwd = "/",
				  .argv = argv,
				  .groups = groups,
				  .ngroups = ABI_ENTER_MAX_GROUPS + 1};
	int nfds, ret;
	ssize_t n = round_trip(&r, &nfds, &ret);
	ok(ret == -E2BIG && n == 0, "more groups than the header holds: refused, nothing sent");
	static char big[ABI_ENTER_MAX];
	memset(big, 'x', sizeof(big) - 1);
	char *env[] = {big, NULL};
	r.ngroups = 0;
	r.nrlimits = ABI_ENTER_MAX_RLIMITS + 1;
	n = round_trip(&r, &nfds, &ret);
	ok(ret == -E2BIG && n == 0, "more resource limits than the header holds: refused, nothing sent");
	r.nrlimits = 0;
	r.env = env;
	n = round_trip(&r, &nfds, &ret);
	ok(ret == -E2BIG && n == 0, "strings beyond ABI_ENTER_MAX: refused, nothing sent");
	r.env = NULL;
	r.argv = none;
	n = round_trip(&r, &nfds, &ret);
	ok(ret < 0 && n == 0, "no command: refused");
}

int main(void)
{
	request();
	container();
	refused();
	return tap_done();
}
