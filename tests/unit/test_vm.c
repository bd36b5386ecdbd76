// SPDX-License-Identifier: MIT
/* Instance directories and snapshot manifests, without QEMU. */
#include <errno.h>
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
	rm_rf(root);
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
	rm_rf(root);
}

UNIT_TEST(atomic_json)
{
	char p[128], tmp[140];
	json_t *v = json_pack("{s:i}", "x", 1), *back;

	setup();
	snprintf(p, sizeof(p), "%s/f.json", root);
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	EXPECT(json_write_atomic(p, v) == 0);
	EXPECT(access(tmp, F_OK) != 0);
	back = json_load_file(p, 0, NULL);
	EXPECT(json_equal(back, v));
	json_decref(back);
	json_decref(v);
	snprintf(p, sizeof(p), "%s/nodir/f.json", root);
	EXPECT(write_file_atomic(p, "x", 1) == -ENOENT);
	rm_rf(root);
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
	rm_rf(root);
}
