// SPDX-License-Identifier: Apache-2.0
// Everything a run needs, parsed and validated from the command line before any KVM work.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_MEMORY_MIB 256
#define CONFIG_MIN_MEMORY_MIB 32
#define CONFIG_MAX_CPUS 64
#define CONFIG_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct vm_config {
	const char *rootfs;
	const char *kernel;
	const char *initramfs;
	char *const *argv; // the workload, NULL-terminated
	char **env;        // KEY=VALUE, NULL-terminated (owned)
	size_t nenv;
	const char *workdir;
	const char *append; // extra kernel command line, for debugging (NULL: none)
	uint64_t memory_mib;
	unsigned cpus;
	unsigned timeout_s; // 0: none
	bool console;
	bool verbose;
};

// Exit statuses of clearvm itself, as docker and podman use them.
#define EXIT_CLEARVM_FAILED 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

// Parses argv into cfg. 0 on success, 1 when --help or --version was handled (exit 0),
// -errno on bad input (one line already printed).
int cli_parse(int argc, char **argv, struct vm_config *cfg);
void config_free(struct vm_config *cfg);
