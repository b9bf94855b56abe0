// SPDX-License-Identifier: Apache-2.0
// The FUSE server (virtio-fs) against a temporary directory: file operations work, the cache
// policy is the one asked, and nothing the guest sends reaches outside the share (names with
// '/' or dots, symlinks, device nodes, unknown nodes and handles, truncated requests).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "../../vmm/fuse/server.h"

static struct fuse_server *srv;
static uint8_t req[FUSE_BUF_MAX], resp[FUSE_BUF_MAX];
static size_t req_len, resp_len;
static uint64_t unique;

static void begin(uint32_t op, uint64_t nodeid)
{
	struct fuse_in_header h = {.opcode = op, .unique = ++unique, .nodeid = nodeid};
	memcpy(req, &h, sizeof(h));
	req_len = sizeof(h);
}

static void add(const void *p, size_t n)
{
	memcpy(req + req_len, p, n);
	req_len += n;
}

static void add_str(const char *s)
{
	add(s, strlen(s) + 1);
}

// Sends the request (its header's len set to what was added): the reply's error (0 or -errno).
static int send_req(void)
{
	((struct fuse_in_header *)req)->len = (uint32_t)req_len;
	resp_len = fuse_server_handle(srv, req, req_len, resp, sizeof(resp));
	struct fuse_out_header o;
	if (resp_len < sizeof(o))
		return 1; // no reply
	memcpy(&o, resp, sizeof(o));
	if (o.len != resp_len || o.unique != unique)
		return 2;
	return o.error;
}

static void *body(void)
{
	return resp + sizeof(struct fuse_out_header);
}

static int lookup(uint64_t dir, const char *name, struct fuse_entry_out *e)
{
	begin(FUSE_LOOKUP, dir);
	add_str(name);
	int r = send_req();
	if (r == 0)
		memcpy(e, body(), sizeof(*e));
	return r;
}

static int open_node(uint64_t node, uint32_t op, uint32_t flags, uint64_t *fh)
{
	struct fuse_open_in in = {.flags = flags};
	begin(op, node);
	add(&in, sizeof(in));
	int r = send_req();
	if (r == 0)
		*fh = ((struct fuse_open_out *)body())->fh;
	return r;
}

static int start(const char *dir, bool readonly, enum fuse_cache cache)
{
	if (srv)
		fuse_server_free(srv);
	srv = NULL;
	if (fuse_server_new(dir, NULL, readonly, cache, &srv) < 0)
		return -1;
	struct fuse_init_in in = {.major = FUSE_KERNEL_VERSION, .minor = 36, .max_readahead = 65536,
				  .flags = FUSE_DO_READDIRPLUS | FUSE_BIG_WRITES | FUSE_POSIX_LOCKS};
	begin(FUSE_INIT, 0);
	add(&in, sizeof(in));
	return send_req();
}

int main(void)
{
	char dir[] = "/tmp/clearvm-fuse-test.XXXXXX", path[256];
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/f", dir);
	FILE *f = fopen(path, "w");
	fputs("hello", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/d", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/out", dir);
	symlink("/etc", path);

	ok(fuse_server_new(dir, NULL, false, FUSE_CACHE_OWNED, &srv) == 0, "the share opens");
	begin(FUSE_GETATTR, FUSE_ROOT_ID);
	struct fuse_getattr_in ga = {0};
	add(&ga, sizeof(ga));
	is(send_req(), -EIO, "a request before INIT fails");
	fuse_server_free(srv);
	srv = NULL;
	is(start(dir, false, FUSE_CACHE_OWNED), 0, "INIT");
	struct fuse_init_out *io = body();
	ok(io->major == 7 && io->minor == 36 && io->max_write == FUSE_MAX_WRITE,
	   "INIT: 7.36 (the guest's minor), max_write %u", io->max_write);
	ok((io->flags & FUSE_DO_READDIRPLUS) && !(io->flags & FUSE_POSIX_LOCKS),
	   "INIT: READDIRPLUS taken, POSIX locks left to the guest kernel");

	struct fuse_entry_out e, e2;
	is(lookup(FUSE_ROOT_ID, "f", &e), 0, "LOOKUP f");
	ok(e.nodeid > 1 && e.attr.size == 5 && S_ISREG(e.attr.mode), "f: a regular file of 5 bytes");
	ok(e.entry_valid > 0 && e.attr_valid > 0, "an owned share: the guest may cache the entry");
	is(lookup(FUSE_ROOT_ID, "f", &e2), 0, "LOOKUP f again");
	is(e2.nodeid, e.nodeid, "one node per host file");
	is(lookup(FUSE_ROOT_ID, "missing", &e2), 0, "LOOKUP of a missing name: a negative entry");
	ok(e2.nodeid == 0 && e2.entry_valid > 0, "the guest may cache that it is missing");
	is(lookup(FUSE_ROOT_ID, "..", &e2), -EINVAL, "LOOKUP .. of the root refused");
	is(lookup(FUSE_ROOT_ID, "d/../f", &e2), -EINVAL, "LOOKUP of a name with '/' refused");
	char longname[300];
	memset(longname, 'n', 256);
	longname[256] = '\0';
	is(lookup(FUSE_ROOT_ID, longname, &e2), -ENAMETOOLONG, "LOOKUP of a 256-byte name: ENAMETOOLONG");
	is(lookup(FUSE_ROOT_ID, ".", &e2), -EINVAL, "LOOKUP . refused");

	struct fuse_entry_out out;
	is(lookup(FUSE_ROOT_ID, "out", &out), 0, "LOOKUP of a symlink pointing out");
	ok(S_ISLNK(out.attr.mode), "it is a symlink");
	is(lookup(out.nodeid, "passwd", &e2), -ENOTDIR, "a lookup beneath the symlink never follows it");
	begin(FUSE_READLINK, out.nodeid);
	ok(send_req() == 0 && resp_len - sizeof(struct fuse_out_header) == 4 && !memcmp(body(), "/etc", 4),
	   "READLINK gives the link's text");
	uint64_t fh;
	is(open_node(out.nodeid, FUSE_OPEN, O_RDONLY, &fh), -EPERM, "OPEN of a symlink refused");
	is(open_node(e.nodeid, FUSE_OPENDIR, O_RDONLY, &fh), -ENOTDIR, "OPENDIR of a file refused");
	is(open_node(12345, FUSE_OPEN, O_RDONLY, &fh), -ESTALE, "an unknown node");

	// A file made, written, read back.
	struct fuse_create_in ci = {.flags = O_RDWR, .mode = S_IFREG | 0640};
	begin(FUSE_CREATE, FUSE_ROOT_ID);
	add(&ci, sizeof(ci));
	add_str("new");
	is(send_req(), 0, "CREATE new");
	struct fuse_entry_out ne;
	memcpy(&ne, body(), sizeof(ne));
	uint64_t nfh = ((struct fuse_open_out *)((uint8_t *)body() + sizeof(ne)))->fh;
	struct fuse_write_in wi = {.fh = nfh, .offset = 0, .size = 6};
	begin(FUSE_WRITE, ne.nodeid);
	add(&wi, sizeof(wi));
	add("abcdef", 6);
	ok(send_req() == 0 && ((struct fuse_write_out *)body())->size == 6, "WRITE 6 bytes");
	struct fuse_read_in ri = {.fh = nfh, .offset = 2, .size = 100};
	begin(FUSE_READ, ne.nodeid);
	add(&ri, sizeof(ri));
	ok(send_req() == 0 && resp_len == sizeof(struct fuse_out_header) + 4 && !memcmp(body(), "cdef", 4),
	   "READ from offset 2");
	snprintf(path, sizeof(path), "%s/new", dir);
	struct stat st;
	ok(stat(path, &st) == 0 && st.st_size == 6 && (st.st_mode & 07777) == 0640,
	   "the file is on the host, 6 bytes, mode 0640");
	struct fuse_release_in rel = {0};
	uint64_t ffh;
	open_node(e.nodeid, FUSE_OPEN, O_RDONLY, &ffh);
	struct fuse_copy_file_range_in cf = {.fh_in = ffh, .off_in = 1, .nodeid_out = ne.nodeid,
					     .fh_out = nfh, .off_out = 6, .len = 1 << 30};
	begin(FUSE_COPY_FILE_RANGE, e.nodeid);
	add(&cf, sizeof(cf));
	ok(send_req() == 0 && ((struct fuse_write_out *)body())->size == 4,
	   "COPY_FILE_RANGE of 1 GiB from offset 1 of a 5-byte file copies 4");
	char got[16] = {0};
	f = fopen(path, "r");
	ok(f && fread(got, 1, sizeof(got) - 1, f) == 10 && !strcmp(got, "abcdefello"),
	   "the copy is on the host: %s", got);
	if (f)
		fclose(f);
	cf.fh_out = ffh;
	begin(FUSE_COPY_FILE_RANGE, e.nodeid);
	add(&cf, sizeof(cf));
	is(send_req(), -EBADF, "COPY_FILE_RANGE into a handle open for reading fails");
	cf.fh_out = nfh;
	cf.flags = 1;
	begin(FUSE_COPY_FILE_RANGE, e.nodeid);
	add(&cf, sizeof(cf));
	is(send_req(), -EINVAL, "COPY_FILE_RANGE with flags fails");
	rel.fh = ffh;
	begin(FUSE_RELEASE, e.nodeid);
	add(&rel, sizeof(rel));
	send_req();
	wi.size = 100;
	begin(FUSE_WRITE, ne.nodeid);
	add(&wi, sizeof(wi));
	add("xy", 2);
	is(send_req(), -EINVAL, "a WRITE announcing more data than it carries fails");
	rel.fh = nfh;
	begin(FUSE_RELEASE, ne.nodeid);
	add(&rel, sizeof(rel));
	is(send_req(), 0, "RELEASE");
	begin(FUSE_READ, ne.nodeid);
	add(&ri, sizeof(ri));
	is(send_req(), -EBADF, "READ on a released handle");

	// The handle table: a released slot is the next one given, and it is bounded.
	uint64_t h1, h2, h3;
	open_node(e.nodeid, FUSE_OPEN, O_RDONLY, &h1);
	open_node(e.nodeid, FUSE_OPEN, O_RDONLY, &h2);
	rel.fh = h1;
	begin(FUSE_RELEASE, e.nodeid);
	add(&rel, sizeof(rel));
	send_req();
	open_node(e.nodeid, FUSE_OPEN, O_RDONLY, &h3);
	ok(h3 == h1 && h2 != h1, "OPEN takes the handle released last (%llu, %llu, %llu)",
	   (unsigned long long)h1, (unsigned long long)h2, (unsigned long long)h3);
	struct rlimit nofile;
	getrlimit(RLIMIT_NOFILE, &nofile);
	nofile.rlim_cur = nofile.rlim_max;
	if (nofile.rlim_max >= FUSE_MAX_HANDLES + 256 && setrlimit(RLIMIT_NOFILE, &nofile) == 0) {
		int opened = 0, err = 0;
		while ((err = open_node(e.nodeid, FUSE_OPEN, O_RDONLY, &fh)) == 0)
			opened++;
		ok(err == -EMFILE && opened > 4000, "handles run out with EMFILE after %d more", opened);
		rel.fh = h2;
		begin(FUSE_RELEASE, e.nodeid);
		add(&rel, sizeof(rel));
		send_req();
		ok(open_node(e.nodeid, FUSE_OPEN, O_RDONLY, &fh) == 0 && fh == h2,
		   "a full table gives the released handle again");
		for (rel.fh = 0; rel.fh < FUSE_MAX_HANDLES; rel.fh++) {
			begin(FUSE_RELEASE, e.nodeid);
			add(&rel, sizeof(rel));
			send_req();
		}
	} else {
		for (int i = 0; i < 2; i++)
			printf("ok %d - # SKIP a hard fd limit below %u: the handle table not filled\n",
			       ++tap_n, FUSE_MAX_HANDLES + 256);
	}

	struct fuse_mknod_in mi = {.mode = S_IFCHR | 0666, .rdev = makedev(1, 3)};
	begin(FUSE_MKNOD, FUSE_ROOT_ID);
	add(&mi, sizeof(mi));
	add_str("null");
	is(send_req(), -EPERM, "MKNOD of a device node refused");
	mi.mode = S_IFIFO | 0600;
	begin(FUSE_MKNOD, FUSE_ROOT_ID);
	add(&mi, sizeof(mi));
	add_str("fifo");
	is(send_req(), 0, "MKNOD of a fifo");

	struct fuse_rename2_in rn = {.newdir = FUSE_ROOT_ID, .flags = RENAME_WHITEOUT};
	begin(FUSE_RENAME2, FUSE_ROOT_ID);
	add(&rn, sizeof(rn));
	add_str("new");
	add_str("newer");
	is(send_req(), -EINVAL, "RENAME2 with RENAME_WHITEOUT (a device node) refused");
	rn.flags = RENAME_NOREPLACE;
	begin(FUSE_RENAME2, FUSE_ROOT_ID);
	add(&rn, sizeof(rn));
	add_str("new");
	add_str("f");
	is(send_req(), -EEXIST, "RENAME2 NOREPLACE onto a name that exists");

	// Directory listing with entries.
	is(open_node(FUSE_ROOT_ID, FUSE_OPENDIR, O_RDONLY, &fh), 0, "OPENDIR of the root");
	struct fuse_read_in rd = {.fh = fh, .offset = 0, .size = 4096};
	begin(FUSE_READDIRPLUS, FUSE_ROOT_ID);
	add(&rd, sizeof(rd));
	is(send_req(), 0, "READDIRPLUS");
	int names = 0, with_node = 0;
	for (size_t off = 0; off < resp_len - sizeof(struct fuse_out_header);) {
		struct fuse_direntplus *dp = (void *)((uint8_t *)body() + off);
		names++;
		with_node += dp->entry_out.nodeid != 0;
		off += FUSE_DIRENTPLUS_SIZE(dp);
	}
	is(names, 7, "every name: . .. f d out new fifo");
	is(with_node, 5, "each but . and .. looked up");

	// A directory of 1,000 names, listed in as many READDIRPLUS calls as it takes, each going
	// on from the offset of the last entry it got: every name once, each looked up.
	struct fuse_entry_out de;
	is(lookup(FUSE_ROOT_ID, "d", &de), 0, "LOOKUP d");
	for (int i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "%s/d/file-%04d", dir, i);
		close(open(path, O_CREAT | O_WRONLY, 0644));
	}
	is(open_node(de.nodeid, FUSE_OPENDIR, O_RDONLY, &fh), 0, "OPENDIR d");
	int listed = 0, calls = 0, looked = 0;
	uint64_t next = 0;
	for (bool more = true; more && calls < 1000; calls++) {
		struct fuse_read_in rdd = {.fh = fh, .offset = next, .size = 4096};
		begin(FUSE_READDIRPLUS, de.nodeid);
		add(&rdd, sizeof(rdd));
		if (send_req() != 0)
			break;
		size_t len = resp_len - sizeof(struct fuse_out_header);
		more = len > 0;
		for (size_t off = 0; off < len;) {
			struct fuse_direntplus *dp = (void *)((uint8_t *)body() + off);
			listed++;
			looked += dp->entry_out.nodeid != 0;
			next = dp->dirent.off;
			off += FUSE_DIRENTPLUS_SIZE(dp);
		}
	}
	ok(listed == 1002 && looked == 1000 && calls > 2,
	   "READDIRPLUS of 1,000 names: %d listed, %d looked up, in %d calls", listed, looked, calls);

	// A malformed request: a name with no NUL; a header shorter than it claims.
	begin(FUSE_LOOKUP, FUSE_ROOT_ID);
	add("abc", 3);
	is(send_req(), -EINVAL, "a LOOKUP whose name has no end fails");
	begin(FUSE_SETATTR, FUSE_ROOT_ID);
	add("x", 1);
	is(send_req(), -EINVAL, "a truncated SETATTR fails");
	is(fuse_server_handle(srv, req, 10, resp, sizeof(resp)), 0, "less than a header: no reply");
	begin(999, FUSE_ROOT_ID);
	is(send_req(), -ENOSYS, "an unknown opcode: ENOSYS");

	// FORGET: the node goes once every lookup is forgotten.
	struct fuse_forget_in fg = {.nlookup = 2};
	begin(FUSE_FORGET, e.nodeid);
	add(&fg, sizeof(fg));
	is(send_req(), 1, "FORGET has no reply");
	begin(FUSE_GETATTR, e.nodeid);
	add(&ga, sizeof(ga));
	is(send_req(), 0, "a node with a lookup left stays");
	fg.nlookup = 1;
	begin(FUSE_FORGET, e.nodeid);
	add(&fg, sizeof(fg));
	send_req();
	begin(FUSE_GETATTR, e.nodeid);
	add(&ga, sizeof(ga));
	is(send_req(), -ESTALE, "forgotten: the node is gone");

	// xattrs: only user.*.
	struct fuse_setxattr_in sx = {.size = 1};
	begin(FUSE_SETXATTR, FUSE_ROOT_ID);
	add(&sx, 8);
	add_str("trusted.x");
	add("1", 1);
	is(send_req(), -EOPNOTSUPP, "SETXATTR of trusted.* refused");

	// A volume's policy: nothing cached, a missing name is an error.
	is(start(dir, false, FUSE_CACHE_NONE), 0, "a volume's server");
	is(lookup(FUSE_ROOT_ID, "missing", &e2), -ENOENT, "a missing name: ENOENT, not cached");
	is(lookup(FUSE_ROOT_ID, "f", &e2), 0, "LOOKUP f");
	ok(e2.entry_valid == 0 && e2.attr_valid == 0, "a volume: no entry or attribute kept");

	is(start(dir, true, FUSE_CACHE_OWNED), 0, "a read-only share");
	begin(FUSE_CREATE, FUSE_ROOT_ID);
	add(&ci, sizeof(ci));
	add_str("other");
	is(send_req(), -EROFS, "CREATE on a read-only share refused");
	is(lookup(FUSE_ROOT_ID, "f", &e2), 0, "LOOKUP f");
	is(open_node(e2.nodeid, FUSE_OPEN, O_WRONLY, &fh), -EROFS, "OPEN for writing refused");
	fuse_server_free(srv);

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	system(cmd);
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
