// SPDX-License-Identifier: MIT
/*
 * bpfload FILE.o: load a BPF object the way stasis loads its own
 * (stasis_bpf__load_object), for tests of what a refusal looks like.
 * Exit 0 when it loaded; 1 with one line on stderr when not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "bpf/stasis_bpf.h"

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: bpfload FILE.o\n");
		return 2;
	}
	/* As the stasis binary does: libbpf's own output only on request. */
	if (!getenv("STASIS_DEBUG"))
		libbpf_set_print(NULL);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "bpfload: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	err = stasis_bpf__load_object(obj);
	bpf_object__close(obj);
	if (err) {
		fprintf(stderr, "bpfload: %s\n", stasis_bpf__errmsg());
		return 1;
	}
	printf("bpfload: %s loaded\n", argv[1]);
	return 0;
}
