// SPDX-License-Identifier: Apache-2.0
// What the OCI commands share: runc's way with options and ids.
#include <string.h>

#include "../util.h"
#include "command.h"

// --name VALUE or --name=VALUE at argv[*i]; advances *i past a separate value.
bool opt_value(int argc, char **argv, int *i, const char *name, const char **value)
{
	const char *a = argv[*i];
	if (a[0] == '-' && a[1] != '-' && name[1] == '-') // runc takes -flag as --flag too
		name++;
	size_t n = strlen(name);
	if (strncmp(a, name, n))
		return false;
	if (a[n] == '=') {
		*value = a + n + 1;
		return true;
	}
	if (a[n] || *i + 1 >= argc)
		return false;
	*value = argv[++*i];
	return true;
}

bool opt_flag(const char *arg, const char *name)
{
	if (arg[0] == '-' && arg[1] != '-' && name[1] == '-')
		name++;
	size_t n = strlen(name);
	return !strncmp(arg, name, n) && (!arg[n] || !strcmp(arg + n, "=true"));
}

// The one id a command takes, after its options (unknown ones refused).
const char *one_id(int argc, char **argv, const char *cmd, const char *const *flags,
			  bool *set)
{
	const char *id = NULL;
	for (int i = 0; i < argc; i++) {
		bool known = false;
		for (int f = 0; flags && flags[f]; f++)
			if (opt_flag(argv[i], flags[f]))
				known = set[f] = true;
		if (known)
			continue;
		if (argv[i][0] == '-' || id) {
			log_err(0, "%s: %s: unexpected", cmd, argv[i]);
			return NULL;
		}
		id = argv[i];
	}
	if (!id)
		log_err(0, "%s: no container id given", cmd);
	return id;
}

