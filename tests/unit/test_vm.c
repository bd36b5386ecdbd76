// SPDX-License-Identifier: MIT
/* Instance directories and snapshot manifests, without QEMU. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "vmctl/internal.h"
#include "tests/unit/unit.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void sub(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	mkdir(p, 0755);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/stasis-test_vm.XXXXXX");
	if (!mkdtemp(root))
		abort();
	setenv("STASIS_VM_ROOT", root, 1);
}

UNIT_TEST(instances_load_and_list)
{
	struct vm *vm = NULL;
	char **names;
	int n;

	setup();
	EXPECT(strcmp(vmctl__root(), root) == 0);
	EXPECT(vm__load("nosuch", &vm) == -ENOENT && vm == NULL);
	EXPECT(strstr(vmctl__errmsg(), "no VM instance 'nosuch'"));
	EXPECT(vm__load("../etc", &vm) == -EINVAL);
	sub("b");
	put("b/vm.json", "{\"name\": \"b\", \"qmp\": \"/x/qmp.sock\", \"argv\": [\"qemu\"], \"pid\": 12}\n");
	sub("a");
	put("a/vm.json", "{\"name\": \"a\", \"qmp\": \"/y/qmp.sock\", \"argv\": [], \"tap\": \"t\"}\n");
	sub("broken");
	put("broken/vm.json", "{\"name\": \"broken\", \"qmp\": 5, ");
	sub("notjson");
	put("notjson/vm.json", "[1, 2]\n");
	sub("empty");	/* no vm.json: not an instance */
	sub(".hidden");
	put(".hidden/vm.json", "{}");
	EXPECT(vm__list(&names, &n) == 0);
	EXPECT(n == 4);
	if (n == 4) {
		EXPECT(!strcmp(names[0], "a") && !strcmp(names[1], "b") &&
		       !strcmp(names[2], "broken") && !strcmp(names[3], "notjson"));
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	EXPECT(vm__load("b", &vm) == 0);
	if (vm) {
		EXPECT(!strcmp(vm__name(vm), "b"));
		EXPECT(!strcmp(vm__qmp_path(vm), "/x/qmp.sock"));
		EXPECT(vm__pid(vm) == 12);
		vm__free(vm);
	}
	EXPECT(vm__load("broken", &vm) == -EINVAL && strstr(vmctl__errmsg(), "vm.json"));
	EXPECT(vm__load("notjson", &vm) == -EINVAL &&
	       strstr(vmctl__errmsg(), "not a stasis vm.json"));
	/* a status query of an instance whose socket does not exist */
	EXPECT(vm__load("a", &vm) == 0);
	if (vm) {
		char st[32];

		EXPECT(vm__status(vm, st, sizeof(st)) < 0 && !strcmp(st, "dead"));
		EXPECT(vm__quit(vm, 100) == -ESRCH);
		vm__free(vm);
	}
	util_rm_rf(root);
}

UNIT_TEST(snapshot_manifest)
{
	char **names, snap[128];
	int n;

	setup();
	snprintf(snap, sizeof(snap), "%s/snap", root);
	EXPECT(snap__open(snap, &names, &n) == -ENOENT);
	sub("snap");
	sub("snap/a");
	put("snap/a/state", "x");
	EXPECT(snap__open(snap, &names, &n) == -EINVAL);
	EXPECT(strstr(vmctl__errmsg(), "not a complete snapshot"));
	put("snap/complete", "{\"version\": 1, \"vms\": [{\"name\": \"a\"}, {\"name\": \"../x\"}, {\"name\": \"b\"}]}");
	EXPECT(snap__open(snap, &names, &n) == 0 && n == 2);
	if (n == 2)
		EXPECT(!strcmp(names[0], "a") && !strcmp(names[1], "b"));
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	/* a snapshot without the VM asked for */
	EXPECT(snap__restore(snap, "c", NULL, NULL) == -ENOENT);
	EXPECT(strstr(vmctl__errmsg(), "holds no VM 'c'"));
	/* a saved vm.json that is not one */
	EXPECT(snap__restore(snap, "a", NULL, NULL) == -EINVAL);
	util_rm_rf(root);
}

UNIT_TEST(atomic_json)
{
	char p[128], tmp[140];
	json_t *v = json_pack("{s:i}", "x", 1), *back;

	setup();
	snprintf(p, sizeof(p), "%s/f.json", root);
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	EXPECT(util_json_write_atomic(p, v) == 0);
	EXPECT(access(tmp, F_OK) != 0);
	back = json_load_file(p, 0, NULL);
	EXPECT(json_equal(back, v));
	json_decref(back);
	json_decref(v);
	snprintf(p, sizeof(p), "%s/nodir/f.json", root);
	EXPECT(util_write_file_atomic(p, "x", 1) == -ENOENT);
	util_rm_rf(root);
}

UNIT_TEST(group_open_errors)
{
	struct vm_group *g = (struct vm_group *)1;
	char *twice[] = { "a", "a" }, *missing[] = { "nosuch" };

	setup();
	EXPECT(vm_group__open(twice, 2, 100, &g) == -EINVAL && g == NULL);
	EXPECT(strstr(vmctl__errmsg(), "named twice"));
	EXPECT(vm_group__open(missing, 1, 100, &g) == -ENOENT && g == NULL);
	sub("a");
	put("a/vm.json", "{\"name\": \"a\", \"qmp\": \"/nonexistent/stasis.qmp\", \"argv\": []}\n");
	g = (struct vm_group *)1;
	EXPECT(vm_group__open(twice, 1, 100, &g) == -ENOENT && g == NULL);
	EXPECT(strstr(vmctl__errmsg(), "VM a: cannot connect"));
	util_rm_rf(root);
}

UNIT_TEST(option_lists)
{
	size_t l;
	const char *v;
	char d[32], *s;

	v = opt_get("tap,id=n0,ifname=tapx,script=no", "ifname", &l);
	EXPECT(v && l == 4 && !strncmp(v, "tapx", 4));
	v = opt_get("ifname=t", "ifname", &l);
	EXPECT(v && l == 1 && *v == 't');
	EXPECT(opt_get("tap,xifname=a", "ifname", &l) == NULL);	/* a longer key */
	EXPECT(opt_get("tap,ifname", "ifname", &l) == NULL);	/* no value */
	s = opt_set("virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01,id=x", "mac", "aa");
	EXPECT(s && !strcmp(s, "virtio-net-pci,netdev=n0,mac=aa,id=x"));
	free(s);
	EXPECT(opt_set("a=1", "b", "2") == NULL);
	opt_driver("tap,id=n0", d, sizeof(d));
	EXPECT(!strcmp(d, "tap"));
	opt_driver("id=n0,x", d, sizeof(d));
	EXPECT(!strcmp(d, ""));
	EXPECT(opt_on("socket,port=4,server", "server"));
	EXPECT(opt_on("socket,server=on,port=4", "server"));
	EXPECT(!opt_on("socket,server=off,port=4", "server"));
	EXPECT(!opt_on("socket,serverx,port=4", "server"));
}

UNIT_TEST(disk_paths_rewritten)
{
	char *s;

	/* a lone argument (-hda PATH), as the save accepts it */
	s = replace_path("/w/x.qcow2", "/w/x.qcow2", "/r/o.qcow2");
	EXPECT(s && !strcmp(s, "/r/o.qcow2"));
	free(s);
	s = replace_path("file=/w/x.qcow2,format=qcow2,if=virtio", "/w/x.qcow2", "/r/o.qcow2");
	EXPECT(s && !strcmp(s, "file=/r/o.qcow2,format=qcow2,if=virtio"));
	free(s);
	s = replace_path("driver=qcow2,file.filename=/w/x", "/w/x", "/r/o");
	EXPECT(s && !strcmp(s, "driver=qcow2,file.filename=/r/o"));
	free(s);
	/* never a longer name that starts with the path */
	EXPECT(replace_path("file=/w/x.qcow2.old", "/w/x.qcow2", "/r/o") == NULL);
	EXPECT(replace_path("/w/x.qcow2.old", "/w/x.qcow2", "/r/o") == NULL);
	EXPECT(replace_path("-hda", "/w/x.qcow2", "/r/o") == NULL);
	/* twice in one argument, one of them a longer name */
	s = replace_path("a=/p,b=/p2,c=/p", "/p", "/q");
	EXPECT(s && !strcmp(s, "a=/q,b=/p2,c=/q"));
	free(s);
}

UNIT_TEST(copy_macs)
{
	char m[20];

	EXPECT(mac_add("52:54:00:12:34:56", 1, m, sizeof(m)) == 0 && !strcmp(m, "52:54:00:12:34:57"));
	/* the carry goes on into the NIC part, never into the OUI */
	EXPECT(mac_add("52:54:00:ff:ff:ff", 2, m, sizeof(m)) == 0 && !strcmp(m, "52:54:00:00:00:01"));
	EXPECT(mac_add("52:54:00:00:00:FE", 3, m, sizeof(m)) == 0 && !strcmp(m, "52:54:00:00:01:01"));
	EXPECT(mac_add("52:54:00:00:00", 1, m, sizeof(m)) == -EINVAL);
	EXPECT(mac_add("52:54:00:00:00:0g", 1, m, sizeof(m)) == -EINVAL);
	EXPECT(mac_add("52-54-00-00-00-01", 1, m, sizeof(m)) == -EINVAL);
	EXPECT(mac_add("52:54:00:00:00: 1", 1, m, sizeof(m)) == -EINVAL);
	EXPECT(mac_add(NULL, 1, m, sizeof(m)) == -EINVAL);
}

/* A snapshot of one VM "a" whose saved command line is @argv (JSON). */
static void fake_snapshot(const char *argv)
{
	char j[2048];

	sub("snap");
	sub("snap/a");
	put("snap/complete", "{\"version\": 1, \"vms\": [{\"name\": \"a\"}]}");
	snprintf(j, sizeof(j), "{\"name\": \"a\", \"qmp\": \"/x/qmp.sock\", \"tap\": \"t0\", "
		 "\"argv\": %s, \"snapshot\": {\"dir\": \"/old/a\", \"disks\": []}}", argv);
	put("snap/a/vm.json", j);
}

UNIT_TEST(fork_refuses_what_copies_cannot_own)
{
	static const struct { const char *argv, *why; } cases[] = {
		{ "[\"qemu\", \"-vnc\", \":1\"]", "-vnc :1" },
		{ "[\"qemu\", \"-chardev\", \"socket,id=c,port=4444,server=on\"]", "listening TCP port" },
		{ "[\"qemu\", \"-serial\", \"tcp::4444,server,nowait\"]", "listening TCP port" },
		{ "[\"qemu\", \"-netdev\", \"user,id=n,hostfwd=tcp::2222-:22\"]", "listening port" },
		{ "[\"qemu\", \"-netdev\", \"tap,id=n,fd=3\"]", "file descriptor" },
		{ "[\"qemu\", \"-netdev\", \"tap,id=n,ifname=t0\", \"-device\", \"virtio-net-pci,netdev=n\"]",
		  "has no mac=" },
		{ "[\"qemu\", \"-nic\", \"tap,ifname=t0,mac=52:54:00:00:00:zz\"]", "is not a MAC" },
		{ "[\"qemu\", \"-netdev\", \"tap,id=n,ifname=fourteen-chars\"]", "15" },
		{ "[\"qemu\", \"-chardev\", \"socket,id=c,path=/w/c1/s\", \"-chardev\", "
		  "\"socket,id=d,path=/w/c2/s\"]", "have one name" },
		{ "[\"qemu\", \"-chardev\", \"socket,id=c,path=/w/qmp.sock\"]", "take the place" },
	};
	struct restore_opts o = { .sz = sizeof(o), .copy = 1 };
	char snap[128], dir[160];

	setup();
	o.root = root;
	snprintf(snap, sizeof(snap), "%s/snap", root);
	snprintf(dir, sizeof(dir), "%s/a-c1", root);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		fake_snapshot(cases[i].argv);
		r = snap__restore(snap, "a", &o, NULL);
		if (!EXPECT(r < 0 && strstr(vmctl__errmsg(), cases[i].why)))
			printf("# %s: %d %s\n", cases[i].argv, r, vmctl__errmsg());
		/* refused before anything was made */
		EXPECT(access(dir, F_OK) != 0);
	}
	util_rm_rf(root);
}

UNIT_TEST(copy_file)
{
	char from[128], to[128], tmp[160], got[64] = "";
	struct stat st;
	FILE *f;

	setup();
	snprintf(from, sizeof(from), "%s/from", root);
	snprintf(to, sizeof(to), "%s/to", root);
	snprintf(tmp, sizeof(tmp), "%s.tmp", to);
	put("from", "0123456789");
	EXPECT(util_copy_file(from, to, 0, true) == 0);
	f = fopen(to, "r");
	EXPECT(f && fgets(got, sizeof(got), f) && !strcmp(got, "0123456789"));
	if (f)
		fclose(f);
	/* From an offset (a console log from where a fuzz case began). */
	EXPECT(util_copy_file(from, to, 7, false) == 0);
	f = fopen(to, "r");
	EXPECT(f && fgets(got, sizeof(got), f) && !strcmp(got, "789"));
	if (f)
		fclose(f);
	/* A missing source: an error, the old target left as it was. */
	snprintf(tmp, sizeof(tmp), "%s/none", root);
	EXPECT(util_copy_file(tmp, to, 0, false) == -ENOENT);
	EXPECT(stat(to, &st) == 0 && st.st_size == 3);
	/* The rename fails (the target is a folder that is not empty): an
	 * error, and the temporary is removed. */
	sub("dir");
	put("dir/x", "x");
	snprintf(tmp, sizeof(tmp), "%s/dir", root);
	EXPECT(util_copy_file(from, tmp, 0, false) < 0);
	snprintf(tmp, sizeof(tmp), "%s/dir.tmp", root);
	EXPECT(access(tmp, F_OK) != 0);
	snprintf(tmp, sizeof(tmp), "%s/dir/x", root);
	EXPECT(access(tmp, F_OK) == 0);
	util_rm_rf(root);
}

/* A memory image: what the copy holds is what the file holds, byte for byte,
 * holes and all-zero blocks left out; the size kept. */
UNIT_TEST(memfile_copy_sparse)
{
	char from[128], to[128], moved[128];
	size_t sz = 8u << 20;
	unsigned char *a = calloc(1, sz), *b = malloc(sz);
	uint64_t data = 0;
	struct stat st, src;
	int fd;

	setup();
	snprintf(from, sizeof(from), "%s/ram", root);
	snprintf(to, sizeof(to), "%s/mem", root);
	snprintf(moved, sizeof(moved), "%s/mem2", root);
	/* data at the start, a written but zero stretch, data near the end
	 * that does not fill its block, and a hole in between */
	memset(a, 0xa5, 100000);
	memset(a + (3u << 20) + 5000, 0x5a, 3000);
	fd = open(from, O_RDWR | O_CREAT | O_TRUNC, 0600);
	EXPECT(fd >= 0 && ftruncate(fd, (off_t)sz) == 0);
	EXPECT(pwrite(fd, a, 1u << 20, 0) == 1 << 20);	/* zeros after 100000 */
	EXPECT(pwrite(fd, a + (3u << 20), 65536, 3u << 20) == 65536);
	close(fd);
	EXPECT(stat(from, &src) == 0);
	EXPECT(memfile_copy(from, to, &(struct memfile_copy_opts){ .durable = true }, &data) == 0);
	EXPECT(stat(to, &st) == 0 && (size_t)st.st_size == sz);
	fd = open(to, O_RDONLY);
	EXPECT(fd >= 0 && pread(fd, b, sz, 0) == (ssize_t)sz);
	close(fd);
	EXPECT(!memcmp(a, b, sz));
	/* two 64 KiB blocks of data (100000 bytes) and the one near the end;
	 * or, where the file system can reflink, what the source holds */
	EXPECT(data == 3 * 65536 || data == (uint64_t)src.st_blocks * 512);
	EXPECT((uint64_t)st.st_blocks * 512 < sz / 4);
	/* moved within one file system: renamed, the source gone */
	EXPECT(memfile_move(to, moved, NULL, &data) == 0);
	EXPECT(access(to, F_OK) != 0 && stat(moved, &st) == 0 && (size_t)st.st_size == sz);
	/* a missing source leaves nothing behind */
	EXPECT(memfile_copy(to, from, NULL, NULL) == -ENOENT);
	EXPECT(access(from, F_OK) == 0);
	free(a);
	free(b);
	util_rm_rf(root);
}

/* The RAM backend is the -object that -machine memory-backend= names, and
 * only a memory-backend-file. */
UNIT_TEST(memfile_backend_in_argv)
{
	char *a1[] = { "qemu", "-object", "memory-backend-ram,id=r0,size=1G",
		       "-object", "memory-backend-file,id=m,size=128M,mem-path=/x,share=on",
		       "-machine", "memory-backend=m", NULL };
	char *a2[] = { "qemu", "-object", "memory-backend-ram,id=m,size=1G",
		       "-machine", "memory-backend=m", NULL };
	char *a3[] = { "qemu", "-m", "128", NULL };

	EXPECT(memfile_argv_backend(a1) == 4);
	EXPECT(memfile_argv_backend(a2) == -1);
	EXPECT(memfile_argv_backend(a3) == -1);
}
