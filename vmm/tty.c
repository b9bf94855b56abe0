// SPDX-License-Identifier: Apache-2.0
// The host terminal under -t: checked before any VM work, raw while the guest owns it, and
// always given back as it was.
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

static struct termios saved;
static int saved_fd = -1;

int tty_check(struct vm_config *cfg)
{
	if (!cfg->tty)
		return 0;
	if (cfg->interactive && !isatty(STDIN_FILENO))
		return log_err(0, "-it: standard input is not a terminal (drop -t to pipe input)");
	if (!isatty(STDOUT_FILENO))
		return log_err(0, "-t: standard output is not a terminal (drop -t to capture output)");
	uint16_t rows, cols;
	if (tty_size(&rows, &cols)) {
		cfg->tty_rows = rows;
		cfg->tty_cols = cols;
	}
	return 0;
}

bool tty_size(uint16_t *rows, uint16_t *cols)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
		return false;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return true;
}

void tty_restore(void)
{
	if (saved_fd < 0)
		return;
	tcsetattr(saved_fd, TCSADRAIN, &saved);
	saved_fd = -1;
}

int tty_raw(void)
{
	static bool registered;
	struct termios raw;
	if (tcgetattr(STDIN_FILENO, &saved) < 0)
		return log_err(errno, "reading the terminal's mode");
	raw = saved;
	cfmakeraw(&raw);
	saved_fd = STDIN_FILENO;
	if (!registered) {
		atexit(tty_restore);
		registered = true;
	}
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0) {
		saved_fd = -1;
		return log_err(errno, "putting the terminal in raw mode");
	}
	return 0;
}
