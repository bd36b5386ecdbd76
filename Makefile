# stasis: one entry point for build, deps, test, demo and bench.
#
#   make              build everything into $(BUILD)/
#   make deps         install missing Debian packages (root; quick when all is there)
#   make test         deps + build + guest images + the whole suite (unit, integration, system)
#   make kmatrix      the root image of the kernel-matrix guest (Debian 12's stock kernel)
#   make test-san     the unit tests built with ASan and UBSan (into build-san/)
#   make demo         deps + build + the demo
#   make bench        deps + build + benchmarks, results in docs/BENCHMARKS.md
#   make install      PREFIX=/usr/local DESTDIR= honoured
#   make clean        removes build/ and build-san/ (and $(BUILD) when set)

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
SYSCONFDIR ?= /etc
VERSION  := 0.1.0

CC       := gcc
CLANG    ?= clang
BPFTOOL  ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
PKGS     := libbpf libxdp libnl-3.0 libnl-route-3.0 libmosquitto jansson
HOSTARCH := $(shell $(CC) -dumpmachine)

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
# CFLAGS given on the command line (make CFLAGS=-O0) replace -O2 -g only:
# the warnings, -Werror and the include paths always stay.
CFLAGS   ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -DSTASIS_VERSION='"$(VERSION)"' \
	    -DLIBXDP_BUILD_VERSION='"$(shell pkg-config --modversion libxdp 2>/dev/null)"' \
	    -I. -I$(BUILD) $(PKG_CFLAGS) -fvisibility=hidden
LDLIBS   := $(PKG_LIBS) -lelf -lz -lpthread -lm -ldl

# SAN=1: the same code with ASan + UBSan, in its own build folder.
ifeq ($(SAN),1)
BUILD    := build-san
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
endif

# ---- libraries: one per code folder, one public header each -------------
LIB_bpf     := bpf/stasis_bpf.c
LIB_loader  := $(addprefix loader/,kernel.c link.c attach.c state.c drain.c replay.c)
LIB_vmctl   := vmctl/error.c vmctl/memfile.c vmctl/instance.c vmctl/util.c vmctl/qmp_msg.c vmctl/qmp.c vmctl/launch.c vmctl/save.c vmctl/rxq.c vmctl/restore.c
LIB_sp      := $(addprefix sp-format/,error.c crc32c.c writer.c reader.c pcapng.c copy.c edit.c mutate.c merge.c checksum.c segment.c hex.c)
LIB_coord   := $(addprefix coordinator/,error.c action.c timer.c proto.c mqtt.c broker.c manifest.c part.c roster.c agent.c sender.c round.c fuzz_watch.c fuzz_hosts.c fuzz.c)
LIBNAMES    := bpf loader vmctl sp coord
# The internal utility library (util/util.h): linked into each of the above
# with its symbols made local, never installed or linked on its own.
LIB_util    := util/fs.c util/clock.c util/opts.c util/out.c util/map.c
LIBS        := $(foreach l,$(LIBNAMES),$(BUILD)/lib/libstasis_$(l).a)

MAN_PAGES := $(BUILD)/man/stasis.8 $(foreach o,net vm sp agent coord fuzz,$(BUILD)/man/stasis-$(o).8)
DOCS_GEN  := $(MAN_PAGES) $(BUILD)/completion/stasis

CLI_SRCS := cli/main.c cli/cmd.c cli/opts.c cli/gen.c cli/json.c \
	    loader/cli_net.c vmctl/cli_vm.c sp-format/cli_sp.c \
	    coordinator/cli_agent.c coordinator/cli_coord.c coordinator/cli_fuzz.c coordinator/cli_mqtt.c

# Quiet by default; V=1 shows the commands.
ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

BPF_OBJ  := $(BUILD)/bpf/stasis.bpf.o
BPF_SKEL := $(BUILD)/bpf/stasis.skel.h

# Unit tests: one binary per tests/unit/test_*.c, linked with all libraries.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
GUEST_TOOLS := $(BUILD)/tools/sg
TEST_TOOLS := $(BUILD)/tools/spgen $(BUILD)/tools/fastsend $(BUILD)/tools/timerbench $(BUILD)/tools/mqttfan $(BUILD)/tools/action_log.so \
	      $(BUILD)/tools/bpfload $(BUILD)/tools/refused.bpf.o $(BUILD)/tools/qmpopen $(BUILD)/tools/crcpass \
	      $(BUILD)/tools/nosync.so

# libFuzzer targets: tests/fuzz/fuzz_NAME.c with the library sources listed
# in FUZZ_DEPS_NAME, built with clang (libFuzzer needs it) and ASan/UBSan.
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_DEPS_sp_reader := $(LIB_sp) $(LIB_util)
FUZZ_DEPS_pcap := $(LIB_sp) $(LIB_util)
FUZZ_DEPS_coord_msg := coordinator/error.c coordinator/proto.c coordinator/timer.c coordinator/roster.c $(LIB_util)
FUZZ_DEPS_qmp := vmctl/qmp_msg.c $(LIB_util)
FUZZ_DEPS_qmp_stream := vmctl/error.c vmctl/qmp_msg.c vmctl/qmp.c $(LIB_util)
FUZZ_DEPS_watch_spec := coordinator/error.c coordinator/fuzz_watch.c coordinator/proto.c coordinator/timer.c coordinator/roster.c sp-format/hex.c $(LIB_vmctl) $(LIB_util)

.PHONY: all deps test test-unit test-san demo bench install clean guest fuzz kmatrix
all: $(BUILD)/stasis $(UNIT_BINS) $(GUEST_TOOLS) $(TEST_TOOLS) $(DOCS_GEN)

# ---- BPF ------------------------------------------------------------------
$(BPF_OBJ): bpf/stasis.bpf.c bpf/stasis_maps.h
	@mkdir -p $(@D)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) -target bpf -mcpu=v3 -O2 -g -Wall -Werror -I. -I/usr/include/$(HOSTARCH) -c $< -o $@

# A program every verifier refuses, for the test of the refusal's message.
$(BUILD)/tools/refused.bpf.o: tests/tools/refused.bpf.c
	@mkdir -p $(@D)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) -target bpf -O2 -g -Wall -Werror -I/usr/include/$(HOSTARCH) -c $< -o $@

$(BPF_SKEL): $(BPF_OBJ)
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name stasis_skel > $@.tmp && mv $@.tmp $@

$(call obj,bpf/stasis_bpf.c): $(BPF_SKEL)

# ---- C --------------------------------------------------------------------
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# Only the API is exported: everything is compiled -fvisibility=hidden and
# the public headers declare the API visible (#pragma GCC visibility). A
# library is one relocatable object, its own files and the utility library
# linked together, with every hidden symbol made local: its helpers cannot
# clash with a user's or another library's (tests/unit/lib_api.sh checks).
define LIBRULE
$(BUILD)/lib/libstasis_$(1).a: $(call obj,$(LIB_$(1)) $(LIB_util))
	@mkdir -p $$(@D)
	$$(call msg,AR,$$@)
	$(Q)rm -f $$@ $$@.o && ld -r -o $$@.o $$^ && objcopy --localize-hidden $$@.o && \
		ar rcs $$@ $$@.o && rm -f $$@.o
endef
$(foreach l,$(LIBNAMES),$(eval $(call LIBRULE,$(l))))

# Order matters for static linking: users before what they use.
LINKLIBS := $(BUILD)/lib/libstasis_coord.a $(BUILD)/lib/libstasis_loader.a \
	    $(BUILD)/lib/libstasis_vmctl.a $(BUILD)/lib/libstasis_sp.a \
	    $(BUILD)/lib/libstasis_bpf.a

$(BUILD)/stasis: $(call obj,$(CLI_SRCS)) $(LIBS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(call obj,$(CLI_SRCS)) $(LINKLIBS) $(LDLIBS)

# ---- man pages, completion, the agent's unit --------------------------------
# Made by the binary from its option tables (cli/gen.c): they say what it
# accepts.
$(BUILD)/man/stasis.8: $(BUILD)/stasis
	@mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q)$< help --man > $@.tmp && mv $@.tmp $@
$(BUILD)/man/stasis-%.8: $(BUILD)/stasis
	@mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q)$< help --man $* > $@.tmp && mv $@.tmp $@
$(BUILD)/completion/stasis: $(BUILD)/stasis
	@mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q)$< help --completion > $@.tmp && mv $@.tmp $@
# Unit tests reach the libraries' internals too (vmctl/internal.h): they
# link the objects themselves, not the archives that hide them.
LIB_OBJS := $(call obj,$(foreach l,$(LIBNAMES),$(LIB_$(l))) $(LIB_util))
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/obj/tests/unit/unit.o $(LIB_OBJS)
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/obj/tests/unit/unit.o $(LIB_OBJS) $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIBS) $(call obj,$(LIB_util))
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LINKLIBS) $(call obj,$(LIB_util)) $(LDLIBS)

# An example user action plugin, for tests.
$(BUILD)/tools/action_log.so: tests/tools/action_log.c coordinator/stasis_action.h
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -fPIC -shared -o $@ $<

# Benchmarks only: fsync made a no-op, to measure what durability costs.
$(BUILD)/tools/nosync.so: tests/tools/nosync.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -fPIC -shared -o $@ $<

# The workload multi-call binary, built for the host (netns tests) too.
$(BUILD)/tools/sg: $(wildcard tests/guest/sg/*.c tests/guest/sg/*.h)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -std=gnu11 $(WARN) -D_GNU_SOURCE -static -o $@ $(filter %.c,$^)

fuzz: $(FUZZ_TARGETS)
.SECONDEXPANSION:
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_DEPS_$$*) $$(wildcard sp-format/*.h vmctl/*.h coordinator/*.h util/*.h)
	@mkdir -p $(@D)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 $(WARN) -D_GNU_SOURCE \
		-DSTASIS_VERSION='"$(VERSION)"' -I. $(PKG_CFLAGS) -o $@ $(filter %.c,$^) $(PKG_LIBS) -lpthread

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- guest image ----------------------------------------------------------
guest: $(BUILD)/guest/initrd.img
$(BUILD)/guest/initrd.img: tests/guest/build.sh tests/guest/init $(wildcard tests/guest/sg/*.c tests/guest/sg/*.h)
	BUILD=$(BUILD) sh tests/guest/build.sh

# The kernel-matrix guest's root (tests/system/kernel_matrix.sh): the host's
# tools, the guest kernel's modules, this tree's tests/ and build. Rebuilt
# when any of them changes; the guest image is a prerequisite because the
# kernel package comes with it.
kmatrix: $(BUILD)/kmatrix/root.ext4
$(BUILD)/kmatrix/root.ext4: $(BUILD)/guest/initrd.img $(BUILD)/stasis $(GUEST_TOOLS) $(TEST_TOOLS) \
			    $(shell find tests -type f)
	BUILD=$(BUILD) bash tests/guest/matrix-root.sh

# ---- entry points ---------------------------------------------------------
deps:
	@sh tests/deps.sh

test: deps
	$(MAKE) all guest fuzz kmatrix
	$(MAKE) SAN=1 all
	BUILD=$(BUILD) SANBUILD=build-san bash tests/run.sh

test-unit: all
	BUILD=$(BUILD) bash tests/run.sh unit

test-san:
	$(MAKE) SAN=1 all
	BUILD=build-san bash tests/run.sh unit

demo: deps
	$(MAKE) all guest
	BUILD=$(BUILD) bash tests/demo.sh

bench: deps
	$(MAKE) all guest
	BUILD=$(BUILD) bash tests/bench/run.sh

# The unit and the example name the installed paths: PREFIX and
# SYSCONFDIR go in here.
SUBST := sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	     -e 's|@DOCDIR@|$(PREFIX)/share/doc/stasis|g'
install: $(BUILD)/stasis $(DOCS_GEN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/stasis \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0755 $(BUILD)/stasis $(DESTDIR)$(PREFIX)/bin/stasis
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/stasis/
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 $(BUILD)/completion/stasis $(DESTDIR)$(PREFIX)/share/bash-completion/completions/stasis
	$(SUBST) packaging/stasis-agent@.service.in > $(DESTDIR)$(PREFIX)/lib/systemd/system/stasis-agent@.service
	$(SUBST) packaging/agent.env.example > $(DESTDIR)$(PREFIX)/share/doc/stasis/agent.env.example
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/stasis-agent@.service \
		$(DESTDIR)$(PREFIX)/share/doc/stasis/agent.env.example

clean:
	rm -rf $(BUILD) build build-san
