#!/bin/bash
# make install honours PREFIX and DESTDIR, and what it installs runs.
. "$(dirname "$0")/../lib/common.sh"
W=$T_WORK
t_require "make install PREFIX=/opt/st DESTDIR=..." \
	quiet make -s -C "$ROOT" install BUILD="$BUILD" PREFIX=/opt/st DESTDIR="$W/root"
t_check "the binary is under DESTDIR/PREFIX/bin" test -x "$W/root/opt/st/bin/stasis"
t_eq "and it runs" "$("$STASIS" version)" "$("$W/root/opt/st/bin/stasis" version)"
t_check "the manual is under share/doc/stasis" test -f "$W/root/opt/st/share/doc/stasis/README.md"
t_check "and the docs with it" test -f "$W/root/opt/st/share/doc/stasis/sp-format.md"
t_eq "nothing outside DESTDIR" "" "$(find "$W/root" -mindepth 1 -maxdepth 1 ! -name opt)"
t_done
