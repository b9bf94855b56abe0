// SPDX-License-Identifier: Apache-2.0
// Capability names to numbers (caps.c).
#pragma once

// "CAP_NET_ADMIN" -> 12; -1 for a name this clearvm does not know.
int cap_number(const char *name);
