// SPDX-License-Identifier: Apache-2.0
// `update`'s linux.resources object read into a resources_update (resources.h).
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "../util.h"
#include "bundle.h"
#include "resources.h"

static int refuse(const char *field, const char *why)
{
	log_err(0, "update: %s: %s", field, why);
	return -EINVAL;
}

uint64_t resources_shares_to_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

bool resources_update_empty(const struct resources_update *u)
{
	return !u->memory && !resources_update_cpu(u);
}

bool resources_update_cpu(const struct resources_update *u)
{
	return u->cpu_quota || u->cpu_period || u->cpu_weight || u->cpus[0] || u->mems[0];
}

// An integer member of o: 0 when absent or null. false when of another type.
static bool int_member(json_object *o, const char *key, int64_t *out)
{
	json_object *v = NULL;
	*out = 0;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return true;
	*out = json_object_get_int64(v);
	return json_object_is_type(v, json_type_int);
}

// A JSON value that asks for nothing: null, or an empty object or array.
static bool empty(json_object *v)
{
	return !v || (json_object_is_type(v, json_type_object) && !json_object_object_length(v)) ||
	       (json_object_is_type(v, json_type_array) && !json_object_array_length(v));
}

static int read_memory(json_object *mem, struct resources_update *u)
{
	int64_t limit;
	if (!int_member(mem, "limit", &limit))
		return refuse("memory.limit", "not a number");
	// 0 (or none) leaves it as it is; -1 is no limit: all of the VM's RAM.
	if (limit < -1)
		return refuse("memory.limit", "expected bytes, or -1 for none");
	uint64_t mib = limit > 0 ? bundle_memory_mib((uint64_t)limit) : 0;
	if (mib > UINT32_MAX)
		return refuse("memory.limit", "more than a VM can have");
	u->memory = limit != 0;
	u->memory_mib = (uint32_t)mib;
	return 0; // reservation, swap and the rest: the VM's RAM is its limit, with no swap
}

static int read_cpuset(json_object *cpu, const char *key, char *out)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(cpu, key, &v) || !v)
		return 0;
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	if (!s || strlen(s) >= RESOURCES_CPUSET_MAX || strspn(s, "0123456789,-") != strlen(s))
		return refuse(!strcmp(key, "cpus") ? "cpu.cpus" : "cpu.mems",
			      "expected a list of numbers and ranges (0-3,6)");
	strcpy(out, s);
	return 0;
}

static int read_cpu(json_object *cpu, struct resources_update *u)
{
	json_object_object_foreach(cpu, key, v)
	{
		int64_t n = 0;
		if (!strcmp(key, "cpus") || !strcmp(key, "mems"))
			continue;
		char field[64];
		snprintf(field, sizeof(field), "cpu.%s", key);
		if (!int_member(cpu, key, &n))
			return refuse(field, "not a number");
		if (!strcmp(key, "shares")) {
			if (n < 0 || n > 262144)
				return refuse("cpu.shares", "expected 2 to 262144");
			u->cpu_weight = n ? resources_shares_to_weight((uint64_t)n) : 0;
		} else if (!strcmp(key, "quota")) {
			if (n < -1)
				return refuse("cpu.quota", "expected microseconds, or -1 for none");
			u->cpu_quota = n;
		} else if (!strcmp(key, "period")) {
			if (n < 0 || (n && (n < 1000 || n > 1000000)))
				return refuse("cpu.period", "expected 1000 to 1000000 microseconds");
			u->cpu_period = (uint64_t)n;
		} else if (n) { // realtimeRuntime, realtimePeriod, idle, burst
			return refuse(field, "not for a VM's CPUs");
		}
		(void)v;
	}
	return read_cpuset(cpu, "cpus", u->cpus) ?: read_cpuset(cpu, "mems", u->mems);
}

static int read_member(const char *key, json_object *v, struct resources_update *u)
{
	bool object = v && json_object_is_type(v, json_type_object);
	if (!strcmp(key, "memory"))
		return !v ? 0 : object ? read_memory(v, u) : refuse(key, "not an object");
	if (!strcmp(key, "cpu"))
		return !v ? 0 : object ? read_cpu(v, u) : refuse(key, "not an object");
	// A pids limit (podman always sends one) changes nothing, as at create: the container's
	// processes are the guest's. Devices: the guest has none of the host's.
	if (!strcmp(key, "pids") || !strcmp(key, "devices"))
		return 0;
	if (!strcmp(key, "blockIO") || !strcmp(key, "hugepageLimits") || !strcmp(key, "network") ||
	    !strcmp(key, "rdma") || !strcmp(key, "unified"))
		return empty(v) ? 0 : refuse(key, "not supported for a VM");
	return refuse(key, "not a resource clearvm knows");
}

int resources_parse_update(const char *json, struct resources_update *u)
{
	memset(u, 0, sizeof(*u));
	json_object *res = json ? json_tokener_parse(json) : NULL;
	int r = 0;
	if (!res || !json_object_is_type(res, json_type_object))
		r = refuse("resources", "not a JSON object");
	else {
		json_object_object_foreach(res, key, v)
		{
			if ((r = read_member(key, v, u)) < 0)
				break;
		}
	}
	json_object_put(res);
	return r;
}
