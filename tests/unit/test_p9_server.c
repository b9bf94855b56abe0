// SPDX-License-Identifier: Apache-2.0
// The 9p server against a temporary directory: file operations work, and nothing the guest
// sends reaches outside the share (.., symlinks, device nodes, names with '/').
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "../../vmm/p9/proto.h"
#include "../../vmm/p9/server.h"
#include "../../vmm/p9/wire.h"

static struct p9_server *srv;
static uint8_t req[P9_MSIZE_MAX], resp[P9_MSIZE_MAX];
static struct p9_out w;
static struct p9_in r;
static uint8_t rtype;

static void begin(uint8_t type)
{
	p9_out_init(&w, req, sizeof(req));
	p9_out_begin(&w, type, 1);
}

static void s(const char *str)
{
	p9_put_str(&w, str, strlen(str));
}

// Sends the request; returns 0 for a normal reply or the errno of an Rlerror.
static int send_req(void)
{
	p9_out_finish(&w);
	size_t n = p9_server_handle(srv, req, w.len, resp, sizeof(resp));
	p9_in_init(&r, resp, n);
	struct p9_hdr h;
	p9_parse_hdr(&r, &h);
	rtype = h.type;
	return h.type == P9_RLERROR ? (int)p9_get_u32(&r) : 0;
}

static int walk(uint32_t fid, uint32_t newfid, int n, const char **names)
{
	begin(P9_TWALK);
	p9_put_u32(&w, fid);
	p9_put_u32(&w, newfid);
	p9_put_u16(&w, (uint16_t)n);
	for (int i = 0; i < n; i++)
		s(names[i]);
	return send_req();
}

static int walk1(uint32_t fid, uint32_t newfid, const char *name)
{
	return walk(fid, newfid, 1, &name);
}

static uint64_t getattr_ino(uint32_t fid)
{
	begin(P9_TGETATTR);
	p9_put_u32(&w, fid);
	p9_put_u64(&w, P9_GETATTR_BASIC);
	if (send_req())
		return 0;
	p9_get_u64(&r); // valid
	p9_get_u8(&r);
	p9_get_u32(&r);
	return p9_get_u64(&r); // qid.path = inode
}

static int clunk(uint32_t fid)
{
	begin(P9_TCLUNK);
	p9_put_u32(&w, fid);
	return send_req();
}

static int xattrcreate(uint32_t fid, const char *name, uint64_t size, uint32_t flags)
{
	begin(P9_TXATTRCREATE);
	p9_put_u32(&w, fid);
	s(name);
	p9_put_u64(&w, size);
	p9_put_u32(&w, flags);
	return send_req();
}

static int xattrwalk(uint32_t fid, uint32_t newfid, const char *name)
{
	begin(P9_TXATTRWALK);
	p9_put_u32(&w, fid);
	p9_put_u32(&w, newfid);
	s(name);
	return send_req();
}

static int write_at(uint32_t fid, uint64_t off, const char *data)
{
	begin(P9_TWRITE);
	p9_put_u32(&w, fid);
	p9_put_u64(&w, off);
	p9_put_u32(&w, (uint32_t)strlen(data));
	memcpy(p9_put_space(&w, strlen(data)), data, strlen(data));
	return send_req();
}

// Reads up to 256 bytes of fid at 0 into buf (NUL-terminated); the count, or -errno.
static int read_all(uint32_t fid, char *buf)
{
	begin(P9_TREAD);
	p9_put_u32(&w, fid);
	p9_put_u64(&w, 0);
	p9_put_u32(&w, 255);
	int e = send_req();
	if (e)
		return -e;
	uint32_t n = p9_get_u32(&r);
	memcpy(buf, p9_get_bytes(&r, n), n);
	buf[n] = '\0';
	return (int)n;
}

// Extended attributes: user.* set and read back through xattr fids, other namespaces refused.
static void test_xattrs(const char *root)
{
	char path[512], buf[256];
	snprintf(path, sizeof(path), "%s/hello", root);
	if (setxattr(path, "user.probe", "x", 1, 0) < 0) {
		printf("# the host file system under %s has no user xattrs: xattr checks skipped\n", root);
		return;
	}
	removexattr(path, "user.probe");
	is(walk1(0, 20, "hello"), 0, "a fid for the xattr");
	is(xattrcreate(20, "user.colour", 4, 0), 0, "Txattrcreate user.colour, 4 bytes");
	is(write_at(20, 0, "bl"), 0, "the value in two writes");
	is(write_at(20, 2, "ue"), 0, "the second part");
	is(write_at(20, 3, "xx"), ENOSPC, "a write past the announced size is refused");
	is(clunk(20), 0, "the clunk sets it");
	ssize_t n = getxattr(path, "user.colour", buf, sizeof(buf));
	ok(n == 4 && !memcmp(buf, "blue", 4), "the host file has user.colour=blue");
	is(xattrwalk(0, 21, "user.colour"), ENODATA, "the share root has no user.colour: ENODATA");
	is(walk1(0, 22, "hello"), 0, "walk to the file again");
	is(xattrwalk(22, 23, "user.colour"), 0, "Txattrwalk user.colour");
	is(p9_get_u64(&r), 4, "its size");
	is(read_all(23, buf), 4, "read through the xattr fid");
	ok(!strcmp(buf, "blue"), "the value");
	is(clunk(23), 0, "clunk the xattr fid");
	is(xattrwalk(22, 24, ""), 0, "Txattrwalk with an empty name lists");
	ok(read_all(24, buf) == 12 && !strcmp(buf, "user.colour"), "the list: user.colour");
	clunk(24);
	is(xattrwalk(22, 25, "trusted.colour"), EOPNOTSUPP, "trusted.* cannot be read");
	is(xattrwalk(22, 25, "security.capability"), EOPNOTSUPP, "nor security.*");
	is(xattrcreate(22, "security.capability", 4, 0), EOPNOTSUPP, "nor set");
	is(xattrcreate(22, "user.x", 1, 0x100), EINVAL, "unknown flags are refused");
	is(xattrcreate(22, "user.x", 70000, 0), E2BIG, "a value over 64 KiB is refused");
	is(xattrcreate(22, "user.colour", 4, XATTR_CREATE), 0, "XATTR_CREATE of an existing name");
	write_at(22, 0, "pink");
	is(clunk(22), EEXIST, "fails at the clunk with EEXIST");
	is(walk1(0, 26, "hello"), 0, "and a fid again");
	is(xattrcreate(26, "user.colour", 3, 0), 0, "a create that is never fully written");
	write_at(26, 0, "re");
	is(clunk(26), EINVAL, "is not applied");
	ok(getxattr(path, "user.colour", buf, sizeof(buf)) == 4 && !memcmp(buf, "blue", 4), "the old value stays");
	is(walk1(0, 27, "hello"), 0, "once more");
	is(xattrcreate(27, "user.colour", 0, XATTR_REPLACE), 0, "size 0 with XATTR_REPLACE");
	is(clunk(27), 0, "removes it");
	ok(getxattr(path, "user.colour", buf, sizeof(buf)) < 0 && errno == ENODATA, "gone from the host file");
}

static int lopen(uint32_t fid, uint32_t flags)
{
	begin(P9_TLOPEN);
	p9_put_u32(&w, fid);
	p9_put_u32(&w, flags);
	return send_req();
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

// Tlcreate on a fid that already has a file open is refused: it would replace (and leak) the
// open host fd, one per request a guest sends.
static void test_lcreate_on_open_fid(const char *root)
{
	is(walk1(0, 50, "sub"), 0, "a fid for sub");
	is(lopen(50, O_RDONLY), 0, "Tlopen of it");
	int before = open_fds();
	for (int i = 0; i < 3; i++) {
		begin(P9_TLCREATE);
		p9_put_u32(&w, 50);
		char name[16];
		snprintf(name, sizeof(name), "leak%d", i);
		s(name);
		p9_put_u32(&w, O_RDWR);
		p9_put_u32(&w, 0644);
		p9_put_u32(&w, 0);
		is(send_req(), EBUSY, "Tlcreate on the opened fid: EBUSY");
	}
	is(open_fds(), before, "no host fd is leaked");
	char path[512];
	snprintf(path, sizeof(path), "%s/sub/leak0", root);
	ok(access(path, F_OK) < 0, "and nothing was created");
	is(clunk(50), 0, "clunk it");
	is(open_fds(), before - 2, "the clunk closes both of its fds");
}

// A Txattrwalk holds what the value needs, not 64 KiB whatever its size.
static void test_xattr_size(const char *root)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/hello", root);
	if (setxattr(path, "user.size", "abcd", 4, 0) < 0) {
		printf("# no user xattrs under %s: the size check is skipped\n", root);
		return;
	}
	is(walk1(0, 51, "hello"), 0, "walk to the file with user.size");
	struct mallinfo2 m0 = mallinfo2();
	int rc = xattrwalk(51, 52, "user.size");
	struct mallinfo2 m1 = mallinfo2();
	is(rc, 0, "Txattrwalk user.size");
	ok(m1.uordblks < m0.uordblks + 4096, "it holds a few bytes, not 64 KiB (held %zu more)",
	   m1.uordblks - m0.uordblks);
	clunk(52);
	clunk(51);
	removexattr(path, "user.size");
}

// Tversion refuses an msize below 4096 before storing it: the I/O size offered by the next
// open (msize less a header) must never underflow.
static void test_small_msize(void)
{
	begin(P9_TVERSION);
	p9_put_u32(&w, 10);
	s("9P2000.L");
	is(send_req(), EINVAL, "Tversion with msize 10 is refused");
	begin(P9_TATTACH);
	p9_put_u32(&w, 60);
	p9_put_u32(&w, P9_NOFID);
	s("root");
	s("");
	p9_put_u32(&w, 0);
	is(send_req(), 0, "Tattach");
	is(walk1(60, 61, "hello"), 0, "walk to a file");
	is(lopen(61, O_RDONLY), 0, "Tlopen it");
	p9_get_bytes(&r, P9_QID_SIZE);
	uint32_t iounit = p9_get_u32(&r);
	ok(iounit == 65536 - 24, "its iounit is still the old msize's (%u)", iounit);
	clunk(61);
	clunk(60);
}

int main(void)
{
	char tmpl[] = "/tmp/clearvm-p9-XXXXXX";
	char *top = mkdtemp(tmpl);
	char root[256], path[512];
	snprintf(root, sizeof(root), "%s/share", top);
	mkdir(root, 0755);
	snprintf(path, sizeof(path), "%s/secret", top); // outside the share
	int fd = open(path, O_CREAT | O_WRONLY, 0600);
	write(fd, "secret", 6);
	close(fd);
	snprintf(path, sizeof(path), "%s/hello", root);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	write(fd, "hello world", 11);
	close(fd);
	snprintf(path, sizeof(path), "%s/up", root);
	symlink("../secret", path);
	snprintf(path, sizeof(path), "%s/abs", root);
	symlink("/etc/passwd", path);
	snprintf(path, sizeof(path), "%s/sub", root);
	mkdir(path, 0755);
	struct stat top_st, root_st;
	stat(top, &top_st);
	stat(root, &root_st);

	is(p9_server_new(root, NULL, false, &srv), 0, "server on a temporary share");
	begin(P9_TVERSION);
	p9_put_u32(&w, 65536);
	s("9P2000.L");
	is(send_req(), 0, "Tversion");
	is(p9_get_u32(&r), 65536, "msize is the client's when below the maximum");

	begin(P9_TATTACH);
	p9_put_u32(&w, 0);
	p9_put_u32(&w, P9_NOFID);
	s("root");
	s("");
	p9_put_u32(&w, 0);
	is(send_req(), 0, "Tattach");

	is(walk1(0, 1, ".."), 0, "walking .. from the root succeeds");
	is(getattr_ino(1), root_st.st_ino, "but stays at the root");
	const char *deep[] = {"sub", "..", "..", ".."};
	is(walk(0, 2, 4, deep), 0, "sub/../../.. walks");
	is(getattr_ino(2), root_st.st_ino, "and ends at the root, not above it");
	ok(getattr_ino(2) != top_st.st_ino, "never at the share's host parent");

	is(walk1(0, 3, "up"), 0, "walking to a symlink gives the link itself");
	is(lopen(3, O_RDONLY), ELOOP, "opening the link does not follow it to ../secret");
	begin(P9_TREADLINK);
	p9_put_u32(&w, 3);
	is(send_req(), 0, "readlink returns the target text");
	struct p9_str t = p9_get_str(&r);
	ok(t.len == 9 && !memcmp(t.s, "../secret", 9), "target is ../secret, for the guest to resolve");
	const char *through[] = {"up", "x"};
	is(walk(0, 4, 2, through), 0, "walking through a symlink: a partial Rwalk");
	is(p9_get_u16(&r), 1, "stops at the link");
	is(getattr_ino(4), 0, "and makes no new fid");
	is(walk1(0, 4, "abs"), 0, "absolute symlink /etc/passwd: the link itself");
	is(lopen(4, O_RDONLY), ELOOP, "and it is not opened on the host");
	is(walk1(0, 5, "a/b"), EINVAL, "a name holding '/' is refused");
	is(walk1(0, 5, "missing"), ENOENT, "a missing name");

	is(walk1(0, 6, "hello"), 0, "walk to a file");
	is(lopen(6, O_RDONLY), 0, "open it");
	begin(P9_TREAD);
	p9_put_u32(&w, 6);
	p9_put_u64(&w, 6);
	p9_put_u32(&w, 100);
	is(send_req(), 0, "Tread at offset 6");
	uint32_t count = p9_get_u32(&r);
	const uint8_t *data = p9_get_bytes(&r, count);
	ok(count == 5 && !memcmp(data, "world", 5), "reads the bytes from the offset to the end");

	is(walk(0, 7, 0, NULL), 0, "clone the root fid");
	begin(P9_TLCREATE);
	p9_put_u32(&w, 7);
	s("new");
	p9_put_u32(&w, O_RDWR);
	p9_put_u32(&w, 0640);
	p9_put_u32(&w, 0);
	is(send_req(), 0, "Tlcreate");
	begin(P9_TWRITE);
	p9_put_u32(&w, 7);
	p9_put_u64(&w, 0);
	p9_put_u32(&w, 4);
	memcpy(p9_put_space(&w, 4), "data", 4);
	is(send_req(), 0, "Twrite");
	is(p9_get_u32(&r), 4, "all four bytes written");
	snprintf(path, sizeof(path), "%s/new", root);
	struct stat st;
	ok(stat(path, &st) == 0 && st.st_size == 4 && (st.st_mode & 0777) == 0640, "the file is on the host");

	begin(P9_TLCREATE);
	p9_put_u32(&w, 0);
	s("up");
	p9_put_u32(&w, O_RDWR);
	p9_put_u32(&w, 0644);
	p9_put_u32(&w, 0);
	is(send_req(), EEXIST, "creating over a symlink does not write through it");

	begin(P9_TMKNOD);
	p9_put_u32(&w, 0);
	s("null");
	p9_put_u32(&w, S_IFCHR | 0666);
	p9_put_u32(&w, 1);
	p9_put_u32(&w, 3);
	p9_put_u32(&w, 0);
	is(send_req(), EPERM, "no device nodes are made on the host");

	begin(P9_TMKDIR);
	p9_put_u32(&w, 0);
	s("dir");
	p9_put_u32(&w, 0755);
	p9_put_u32(&w, 0);
	is(send_req(), 0, "Tmkdir");
	begin(P9_TRENAMEAT);
	p9_put_u32(&w, 0);
	s("new");
	p9_put_u32(&w, 0);
	s("renamed");
	is(send_req(), 0, "Trenameat");
	snprintf(path, sizeof(path), "%s/renamed", root);
	ok(access(path, F_OK) == 0, "renamed on the host");
	begin(P9_TRENAMEAT);
	p9_put_u32(&w, 0);
	s("renamed");
	p9_put_u32(&w, 0);
	s("..");
	is(send_req(), EINVAL, "renaming to .. is refused");
	begin(P9_TUNLINKAT);
	p9_put_u32(&w, 0);
	s("renamed");
	p9_put_u32(&w, 0);
	is(send_req(), 0, "Tunlinkat");
	ok(access(path, F_OK) != 0, "gone from the host");

	is(walk(0, 8, 0, NULL), 0, "clone the root fid for a directory read");
	is(lopen(8, O_RDONLY | O_DIRECTORY), 0, "open the root directory");
	begin(P9_TREADDIR);
	p9_put_u32(&w, 8);
	p9_put_u64(&w, 0);
	p9_put_u32(&w, 4096);
	is(send_req(), 0, "Treaddir");
	uint32_t dlen = p9_get_u32(&r);
	int names = 0;
	bool saw_hello = false;
	struct p9_in d;
	p9_in_init(&d, p9_get_bytes(&r, dlen), dlen);
	while (d.off < d.len && !d.err) {
		p9_get_bytes(&d, P9_QID_SIZE);
		p9_get_u64(&d);
		p9_get_u8(&d);
		struct p9_str n = p9_get_str(&d);
		names++;
		saw_hello |= n.len == 5 && !memcmp(n.s, "hello", 5);
	}
	ok(!d.err && names == 7 && saw_hello, "entries: . .. hello up abs sub dir");

	test_xattrs(root);
	test_xattr_size(root);
	test_lcreate_on_open_fid(root);

	// Tauth (afid uname aname n_uname) and Trename (fid dfid name) are refused as such, never
	// read as some other request of the same shape.
	begin(P9_TAUTH);
	p9_put_u32(&w, 40);
	s("user.colour");
	s("");
	p9_put_u32(&w, 0);
	is(send_req(), EOPNOTSUPP, "Tauth: EOPNOTSUPP");
	is(walk1(0, 41, "hello"), 0, "a fid to rename");
	begin(P9_TRENAME);
	p9_put_u32(&w, 41);
	p9_put_u32(&w, 42);
	s("user.colour");
	is(send_req(), EOPNOTSUPP, "Trename: EOPNOTSUPP (Linux renames with Trenameat)");
	is(clunk(42), EBADF, "and it made no fid");
	clunk(41);

	is(clunk(6), 0, "Tclunk");
	is(clunk(6), EBADF, "a clunked fid is gone");
	is(walk1(99999999, 9, "hello"), EBADF, "an unknown fid");

	test_small_msize();

	p9_server_free(srv);
	snprintf(path, sizeof(path), "rm -rf '%s'", top);
	system(path);
	return tap_done();
}
