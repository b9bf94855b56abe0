// SPDX-License-Identifier: Apache-2.0
// config.json's hooks on the host: each one a process (path, args, env) with the container's
// state on stdin, waited for (at most its timeout), its status checked.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../files.h"
#include "../json.h"
#include "../util.h"
#include "hooks.h"

#define HOOK_STRINGS_MAX 256 // args or env of one hook
#define HOOK_OUTPUT_KEPT 512 // of its stdout and stderr, for the error

// A string array of at most HOOK_STRINGS_MAX - 1 into out (NULL-terminated); first, when the
// array is absent, stands alone. false when it is too long or holds a non-string.
static bool strings(json_object *arr, const char *first, char **out)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	if (n >= HOOK_STRINGS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string))
			return false;
		out[i] = (char *)json_object_get_string(v);
	}
	if (!arr && first)
		out[n++] = (char *)first;
	out[n] = NULL;
	return true;
}

// Waits for the hook (pidfd) while taking its output (out) into kept; SIGKILL at the deadline
// (timeout_s > 0). Its wait status, or -ETIMEDOUT.
static int wait_hook(pid_t pid, int out, int timeout_s, char *kept, size_t *nkept)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int64_t deadline = timeout_s > 0 ? monotonic_ms() + (int64_t)timeout_s * 1000 : -1;
	bool timed_out = false;
	while (pfd >= 0) {
		struct pollfd p[2] = {{.fd = pfd, .events = POLLIN}, {.fd = out, .events = POLLIN}};
		int left = deadline < 0 ? -1 : (int)MAX(0, deadline - monotonic_ms());
		int n = poll(p, out >= 0 ? 2 : 1, left);
		if (n < 0 && errno != EINTR)
			break;
		if (n == 0 && !timed_out) { // its time is up
			kill(pid, SIGKILL);
			timed_out = true;
			deadline = -1;
		}
		if (out >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
			char buf[4096];
			ssize_t got = read(out, buf, sizeof(buf));
			if (got <= 0) {
				close(out);
				out = -1;
			} else if (*nkept < HOOK_OUTPUT_KEPT) {
				size_t take = MIN((size_t)got, HOOK_OUTPUT_KEPT - *nkept);
				memcpy(kept + *nkept, buf, take);
				*nkept += take;
			}
		}
		if (p[0].revents & POLLIN)
			break;
	}
	if (pfd >= 0)
		close(pfd);
	if (out >= 0)
		close(out);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return timed_out ? -ETIMEDOUT : status;
}

static int run_one(json_object *h, const char *kind, size_t i, const char *state)
{
	const char *path = get_str(h, "path");
	static char *argv[HOOK_STRINGS_MAX], *envp[HOOK_STRINGS_MAX];
	json_object *to = get(h, "timeout", json_type_int);
	if (!path || path[0] != '/' || !strings(get(h, "args", json_type_array), path, argv) ||
	    !strings(get(h, "env", json_type_array), NULL, envp) ||
	    (to && json_object_get_int(to) <= 0))
		return log_err(
		    0, "hooks.%s[%zu]: needs an absolute path, string args and env, a timeout > 0",
		    kind, i);
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return log_err(errno, "hooks.%s[%zu]: pipe", kind, i);
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return log_err(errno, "hooks.%s[%zu]: pipe", kind, i);
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(127);
		execve(path, argv, envp);
		dprintf(2, "%s: %s", path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		return log_err(errno, "hooks.%s[%zu]: fork", kind, i);
	}
	if (write_all(in[1], state, strlen(state)) < 0)
		log_debug("hooks.%s[%zu]: it did not read the state", kind, i);
	close(in[1]);
	char kept[HOOK_OUTPUT_KEPT + 1];
	size_t nkept = 0;
	int st = wait_hook(pid, out[0], to ? json_object_get_int(to) : 0, kept, &nkept);
	kept[nkept] = '\0';
	char *nl = strchr(kept, '\n');
	if (nl)
		*nl = '\0';
	if (st == -ETIMEDOUT)
		return log_err(0, "hooks.%s[%zu] %s: timed out after %d s", kind, i, path,
			       json_object_get_int(to));
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return log_err(0, "hooks.%s[%zu] %s: %s %d%s%s", kind, i, path,
			       st >= 0 && WIFSIGNALED(st) ? "killed by signal" : "exited",
			       st < 0		 ? st
			       : WIFSIGNALED(st) ? WTERMSIG(st)
						 : WEXITSTATUS(st),
			       nkept ? ": " : "", kept);
	return 0;
}

int hooks_run(json_object *hooks, const char *kind, const struct oci_state *s)
{
	json_object *list = get(hooks, kind, json_type_array);
	size_t n = list ? json_object_array_length(list) : 0;
	if (!n)
		return 0;
	static char state[16384];
	state_format(s, state, sizeof(state));
	for (size_t i = 0; i < n; i++) {
		int r = run_one(json_object_array_get_idx(list, i), kind, i, state);
		if (r < 0)
			return r;
	}
	return 0;
}

json_object *hooks_load(const char *dir, json_object **hooks)
{
	char path[PATH_MAX + 16], *text;
	size_t len;
	*hooks = NULL;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (access(path, R_OK) < 0 || file_read(path, 4 << 20, &text, &len) < 0)
		return NULL;
	json_object *root = json_tokener_parse(text);
	free(text);
	*hooks = get(root, "hooks", json_type_object);
	return root;
}
